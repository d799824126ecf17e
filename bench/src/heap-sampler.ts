/**
 * Preloaded into an app (`node --import ./src/heap-sampler.ts`) by `run.ts --profile=<id> --heap`:
 * samples every allocation, including objects already collected by minor and major GCs (what
 * `--heap-prof` leaves out), and writes `profiles/<pid>.heapprofile` when the process exits.
 */
import { Session } from "node:inspector";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.HEAP_SAMPLER_DIR ?? "profiles";
const session = new Session();
session.connect();
session.post("HeapProfiler.enable");
session.post("HeapProfiler.startSampling", {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as object);

process.on("exit", () => {
  session.post("HeapProfiler.stopSampling", (error, result) => {
    if (error) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});

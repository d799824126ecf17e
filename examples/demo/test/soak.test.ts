import { describe, expect, it } from "vitest";
import { runSoak } from "./soak.js";

describe("the demo under a 60-second chaos soak (kill -9 every 30 s, SIGSTOP 2 s every 45 s)", () => {
  it("serves throughout with 0 crashes, 0 resurrections and 0 cross-session leaks", async () => {
    const result = await runSoak({ seconds: Number(process.env.SOAK_SECONDS ?? 60), clientsPerDriver: 6 });
    expect(result.kills).toBeGreaterThanOrEqual(1);
    expect(result.pauses).toBeGreaterThanOrEqual(1);
    expect(result.crashes).toBe(0);
    expect(result.resurrections).toBe(0);
    expect(result.leaks).toBe(0);
    expect(Object.keys(result.statuses).every((status) => ["200", "204", "401", "409", "503"].includes(status))).toBe(true);
    expect(result.statuses["200"] ?? 0).toBeGreaterThan(1_000);
  }, 150_000);
});

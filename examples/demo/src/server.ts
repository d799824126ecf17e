import type { RequestListener } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createDemo, type Demo } from "./api.js";
import { readSettings } from "./settings.js";
import { openStore } from "./store.js";

/** Reads the environment, opens the store, serves `build(demo)` and prints the address. */
export async function start(framework: string, build: (demo: Demo) => RequestListener | Promise<RequestListener>): Promise<void> {
  const log = (line: string) => console.error(`[demo] ${line}`);
  const settings = readSettings();
  const store = await openStore(settings, log);
  const demo = createDemo(settings, store);
  const server = createServer(await build(demo));
  server.listen(settings.port, settings.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  console.log(`sess demo (${framework}, ${store.kind} store) listening on http://${settings.host}:${port}`);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export function fail(error: unknown): never {
  console.error(`[demo] cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/** Test servers for the Express tests: each listens on a free loopback port and is closed after its test. */
import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
});

/** Serves `app` (or an existing server) on a free port; resolves `http://127.0.0.1:<port>`. */
export async function listen(app: RequestListener | Server): Promise<string> {
  const server = typeof app === "function" ? createServer(app) : app;
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The `name=value` part of the response's first Set-Cookie ("" when none). */
export function cookieOf(response: Response): string {
  return response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
}

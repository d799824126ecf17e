/**
 * A counting TCP proxy between one app and redis-server: it measures Redis round trips, which
 * commandstats and MONITOR cannot (a pipeline or a MULTI is several commands and one round trip).
 *
 * On each client connection, a round trip starts when the client sends data while no reply is
 * outstanding: commands written back to back (a pipeline, or several commands in one tick) count
 * once; a command sent after the previous reply arrived counts again. Requests to the app must be
 * sequential for the count to be per request. Only bytes are forwarded, nothing is parsed.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface RoundTripProxy {
  url: string;
  /** Round trips from now on count under `name`; null stops counting. */
  phase(name: string | null): void;
  /** Round trips counted so far, by phase. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

export async function startRoundTripProxy(redisHost: string, redisPort: number): Promise<RoundTripProxy> {
  let phase: string | null = null;
  const counted: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, redisHost);
    sockets.add(client);
    sockets.add(upstream);
    let awaitingReply = false;
    client.on("data", (chunk: Buffer) => {
      if (!awaitingReply) {
        awaitingReply = true;
        if (phase !== null) counted[phase] = (counted[phase] ?? 0) + 1;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      awaitingReply = false;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    phase(name) {
      phase = name;
    },
    counts: () => ({ ...counted }),
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

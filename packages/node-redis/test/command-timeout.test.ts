import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createCluster } from "redis";
import { createSessionManager } from "@sess/core";
import type { RequestInfo } from "@sess/core";
import { startRedisCluster, startRedisServer } from "@sess/redis-server";
import type { RedisCluster, RedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";

// node-redis 6 gives each command a 5-s timeout unless the application sets one: an
// `AbortSignal.timeout` armed per command, for as long as the command waits to be written. sess's
// commands run under the manager's deadline instead, through a proxy of the client without that
// default; a timeout the application set is kept, and the application's own commands keep theirs.

const request = (cookie?: string): RequestInfo => ({ secure: false, ip: "127.0.0.1", header: (name) => (name === "cookie" ? cookie : undefined) });

let server: RedisServer;
let cluster: RedisCluster;
const clients: { destroy(): void; isOpen: boolean }[] = [];

async function connect(commandOptions?: { timeout: number }) {
  const client = await createClient({ url: server.url, ...(commandOptions ? { commandOptions } : {}) })
    .on("error", () => {})
    .connect();
  clients.push(client);
  return client;
}

/** A manager on `client`, and the cookie of one stored session. */
async function withSession(client: Parameters<typeof createNodeRedisDriver>[0]["client"], operationTimeout: number) {
  const manager = createSessionManager({ driver: createNodeRedisDriver({ client }), cookie: { secure: false }, operationTimeout });
  const opened = await manager.open(request());
  opened.session.set("theme", "dark");
  const { headers } = await opened.commit();
  const cookie = headers.find(([name]) => name === "set-cookie")![1].split(";")[0]!;
  return { manager, cookie };
}

/** How many `AbortSignal.timeout` node-redis arms while `run` runs. */
async function timersArmedBy(run: () => Promise<unknown>): Promise<number> {
  const original = AbortSignal.timeout;
  let armed = 0;
  AbortSignal.timeout = (ms: number) => {
    armed++;
    return original.call(AbortSignal, ms);
  };
  try {
    await run();
  } finally {
    AbortSignal.timeout = original;
  }
  return armed;
}

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
});

afterAll(async () => {
  for (const client of clients) if (client.isOpen) client.destroy();
  await Promise.all([server?.stop(), cluster?.stop()]);
});

describe("node-redis command timeout", () => {
  it("sess's commands arm no per-command timer on a client with node-redis 6's default", async () => {
    const client = await connect();
    const { manager, cookie } = await withSession(client, 1_000);
    const armed = await timersArmedBy(async () => {
      for (let i = 0; i < 20; i++) {
        const opened = await manager.open(request(cookie));
        expect(opened.session.get("theme")).toBe("dark");
        opened.session.set("visits", i);
        await opened.commit();
      }
    });
    expect(armed).toBe(0);
    // The application's own commands on the same client keep node-redis's default.
    expect(await timersArmedBy(() => client.get("unrelated"))).toBe(1);
  });

  it("on a Cluster too, sess's commands arm no per-command timer and the application's keep theirs", async () => {
    const client = await createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) })
      .on("error", () => {})
      .connect();
    try {
      const { manager, cookie } = await withSession(client, 1_000);
      const requests = async () => {
        for (let i = 0; i < 10; i++) {
          const opened = await manager.open(request(cookie));
          expect(opened.session.get("theme")).toBe("dark");
          opened.session.set("visits", i);
          await opened.commit();
        }
      };
      // The first writes load the script library on each master through that master's own client
      // (FUNCTION LOAD, once per master, under node-redis's default): counted after them.
      await requests();
      expect(await timersArmedBy(requests)).toBe(0);
      expect(await timersArmedBy(() => client.get("unrelated"))).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it("a timeout the application set applies to sess's commands", async () => {
    const client = await connect({ timeout: 300 });
    const { manager, cookie } = await withSession(client, 1_000);
    const armed = await timersArmedBy(async () => {
      for (let i = 0; i < 5; i++) {
        const opened = await manager.open(request(cookie));
        opened.session.set("visits", i);
        await opened.commit();
      }
    });
    // A load and a write script per request.
    expect(armed).toBe(10);
  });
});

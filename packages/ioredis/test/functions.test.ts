/**
 * The session scripts run as functions (FCALL of a library loaded once), both clients: the library
 * is loaded on the first "Function not found" and the call sent again; a server or ACL user that
 * refuses functions gets the same scripts by EVALSHA. MONITOR shows what each client sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { newToken, sessionIdOf } from "@sess/core";
import type { NewSession, SessionDriver } from "@sess/core";
import { scripts } from "@sess/redis-shared";
import { startRedisServer } from "@sess/redis-server";
import type { RedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../../node-redis/src/index.js";
import { createIoredisDriver } from "../src/index.js";
import { monitored } from "./monitored.js";

const servers: RedisServer[] = [];
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

afterAll(async () => {
  for (const server of servers) await server.stop();
});

/** A fresh server (no library loaded), its admin connection, and a driver of each client on it. */
async function fresh(args: string[] = [], user?: { name: string; password: string }) {
  const server = await startRedisServer({ args });
  servers.push(server);
  const admin = new Redis(server.url);
  closers.push(() => admin.disconnect());
  if (user !== undefined) await setUp(admin, user);
  const credentials = user === undefined ? {} : { username: user.name, password: user.password };
  return {
    admin,
    sent: (action: () => Promise<unknown>) => monitored(admin, action),
    /** Error replies the server sent, by prefix (INFO errorstats). */
    errors: async () =>
      Object.fromEntries([...String(await admin.info("errorstats")).matchAll(/^errorstat_(\w+):count=(\d+)/gm)].map((match) => [match[1]!, Number(match[2])])),
    libraries: async () => ((await admin.call("FUNCTION", "LIST")) as unknown[][]).map((library) => String(library[1])).sort(),
    driver: async (client: "ioredis" | "node-redis"): Promise<SessionDriver> => {
      const prefix = `f${Math.random().toString(36).slice(2, 10)}`;
      if (client === "ioredis") {
        const io = new Redis(server.url, credentials);
        closers.push(() => io.disconnect());
        await new Promise((resolve) => io.once("ready", resolve));
        return createIoredisDriver({ client: io, prefix });
      }
      const node = createClient({ url: server.url, ...credentials });
      await node.connect();
      closers.push(() => node.close());
      return createNodeRedisDriver({ client: node, prefix });
    },
  };
}

let setUp: (admin: Redis, user: { name: string; password: string }) => Promise<void> = async () => {};

/** The error counts of `after` that grew since `before`, by how much. */
function since(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).flatMap(([name, count]) => (count > (before[name] ?? 0) ? [[name, count - (before[name] ?? 0)]] : [])));
}

function session(fields: Record<string, string> = {}): NewSession {
  const now = Date.now();
  return { fields, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null };
}

function change(n: number) {
  const now = Date.now();
  return { set: { b: `"${n}"` }, remove: [], increment: { n: 1 }, lastSeenAt: now, expiresAt: now + 60_000 };
}

beforeAll(() => {
  setUp = async () => {};
});

for (const client of ["ioredis", "node-redis"] as const) {
  describe(`${client}: scripts as functions`, () => {
    it("loads a library on the first call that finds it missing, then sends FCALL alone", async () => {
      const server = await fresh();
      const driver = await server.driver(client);
      const id = sessionIdOf(newToken());
      expect(await server.sent(() => driver.create(id, session({ n: "0" })))).toEqual({ fcall: 2, function: 1 });
      expect(await server.libraries()).toEqual([scripts.create.library.name]);
      expect(await server.sent(() => driver.update(id, change(1)))).toEqual({ fcall: 2, function: 1 });
      expect(await server.sent(() => driver.update(id, change(2)))).toEqual({ fcall: 1 });
      expect(await driver.load(id)).toMatchObject({ fields: { n: "2", b: '"2"' } });
    });

    it("loads a library once for many calls that find it missing together, and applies each call", async () => {
      const server = await fresh();
      const driver = await server.driver(client);
      const ids = Array.from({ length: 20 }, () => sessionIdOf(newToken()));
      const counts = await server.sent(() => Promise.all(ids.map((id, i) => driver.create(id, session({ n: String(i) })))));
      expect(counts).toEqual({ fcall: 40, function: 1 });
      const records = await Promise.all(ids.map((id) => driver.load(id)));
      expect(records.map((record) => record?.fields.n)).toEqual(ids.map((_, i) => String(i)));
    });

    it("loads the library again after FUNCTION FLUSH, and the write is applied", async () => {
      const server = await fresh();
      const driver = await server.driver(client);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ n: "0" }));
      await driver.update(id, change(1));
      await server.admin.call("FUNCTION", "FLUSH");
      expect(await server.sent(() => driver.update(id, change(2)))).toEqual({ fcall: 2, function: 1 });
      expect(await driver.load(id)).toMatchObject({ fields: { n: "2" } });
    });

    it("out of memory (noeviction): ends a session and reads an index by FCALL, by EVALSHA when the library cannot be loaded, and refuses a write", async () => {
      const server = await fresh();
      const driver = await server.driver(client);
      const [kept, ended, loader] = [sessionIdOf(newToken()), sessionIdOf(newToken()), sessionIdOf(newToken())];
      for (const id of [kept, ended, loader]) await driver.create(id, session({ n: "0" }));
      expect(await driver.destroy(loader)).toBe(true); // destroy-1's and page-1's libraries are loaded; count-1's is not
      expect(await driver.findIndex("tenant", "acme", { offset: 0, limit: 10 })).toMatchObject({ sessions: [], next: null });
      await server.admin.config("SET", "maxmemory-policy", "noeviction");
      await server.admin.config("SET", "maxmemory", "1");
      try {
        // destroy-1 is flagged allow-oom: Redis runs it although it is out of memory.
        expect(await server.sent(() => driver.destroy(ended))).toEqual({ fcall: 1 });
        expect(await driver.load(ended)).toBeNull();
        // page-1 is flagged no-writes: it runs too.
        expect(await server.sent(() => driver.findIndex("tenant", "acme", { offset: 0, limit: 10 }))).toEqual({ fcall: 1 });
        // count-1: FCALL ("Function not found"), FUNCTION LOAD refused (OOM), then the
        // call by EVALSHA (NOSCRIPT, then EVAL), as the server counts its error replies.
        const before = await server.errors();
        expect(await driver.countIndex("tenant", "acme")).toBe(0);
        expect(since(before, await server.errors())).toEqual({ ERR: 1, OOM: 1, NOSCRIPT: 1 });
        // A write is refused as a whole, nothing run.
        await expect(driver.update(kept, change(1))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", message: expect.stringMatching(/OOM/) });
      } finally {
        await server.admin.config("SET", "maxmemory", "0");
      }
      expect(await driver.load(kept)).toMatchObject({ fields: { n: "0" } });
      expect(await server.libraries()).toEqual([scripts.create.library.name, scripts.destroy.library.name, scripts.page.library.name].sort());
      // Once Redis has memory again, the next call loads count-1's library.
      expect(await server.sent(() => driver.countIndex("tenant", "acme"))).toEqual({ fcall: 2, function: 1 });
    });

    it("runs the scripts by EVALSHA on a server without FCALL (as Redis 6.2), after one refused FCALL", async () => {
      const server = await fresh(["--rename-command", "FCALL", ""]);
      const driver = await server.driver(client);
      const id = sessionIdOf(newToken());
      // The refusals, counted by the server (MONITOR does not show an unknown command): one unknown
      // FCALL, then a NOSCRIPT for each script's first EVALSHA.
      const before = await server.errors();
      await driver.create(id, session({ n: "0" }));
      await driver.update(id, change(1));
      expect(since(before, await server.errors())).toEqual({ ERR: 1, NOSCRIPT: 2 });
      expect(await server.sent(() => driver.update(id, change(2)))).toEqual({ evalsha: 1 });
      expect(await driver.load(id)).toMatchObject({ fields: { n: "2", b: '"2"' } });
      expect(await server.libraries()).toEqual([]);
    });

    for (const denied of ["-fcall", "-function|load"]) {
      it(`runs the scripts by EVALSHA for an ACL user with ${denied}`, async () => {
        const user = { name: `u${Math.random().toString(36).slice(2, 8)}`, password: "pw" };
        setUp = async (admin, { name, password }) => {
          await admin.call("ACL", "SETUSER", name, "on", `>${password}`, "~*", "&*", "+@all", denied);
        };
        const server = await fresh([], user);
        const driver = await server.driver(client);
        const id = sessionIdOf(newToken());
        const before = await server.errors();
        await driver.create(id, session({ n: "0" }));
        await driver.update(id, change(1));
        // One refusal, then scripts: -fcall refuses the FCALL; -function|load the load after "Function not found".
        expect(since(before, await server.errors())).toEqual(denied === "-fcall" ? { NOPERM: 1, NOSCRIPT: 2 } : { ERR: 1, NOPERM: 1, NOSCRIPT: 2 });
        expect(await server.sent(() => driver.update(id, change(2)))).toEqual({ evalsha: 1 });
        expect(await driver.load(id)).toMatchObject({ fields: { n: "2", b: '"2"' } });
        expect(await server.libraries()).toEqual([]);
      });
    }
  });
}

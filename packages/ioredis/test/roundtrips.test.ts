/**
 * Round trips per request, as the root README's table lists them, on a standalone server and on a
 * 3-master Cluster: a manager with maxSessionsPerUser 3 and one declared index, on an ioredis
 * client whose commands are counted. A round trip starts when the driver sends a command while no
 * reply is outstanding (commands sent together, in parallel, count once).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Cluster, Redis } from "ioredis";
import { createSessionManager } from "@sess/core";
import type { RequestInfo, Session } from "@sess/core";
import { startRedisCluster } from "@sess/redis-server";
import type { RedisCluster } from "@sess/redis-server";
import { createKeySchema, scripts } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";

const COMMANDS = new Set(["call", "evalsha", "eval", "hgetall", "hmget", "zrange", "zrem"]);

/** `client` with its commands counted in round trips. */
function counted<C extends Redis | Cluster>(client: C): { client: C; trips: () => number } {
  let trips = 0;
  let outstanding = 0;
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      if (typeof property !== "string" || !COMMANDS.has(property)) return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        if (outstanding === 0) trips += 1;
        outstanding += 1;
        const reply = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        return reply.finally(() => {
          outstanding -= 1;
        });
      };
    },
  });
  return { client: proxy, trips: () => trips };
}

let cluster: RedisCluster | undefined;
const clients: (Redis | Cluster)[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await cluster?.stop();
});

async function ready<C extends Redis | Cluster>(client: C): Promise<C> {
  clients.push(client);
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  return client;
}

const topologies = [
  {
    name: "standalone",
    connect: () => ready(new Redis(inject("redisUrl"))),
    expected: { read: 1, write: 2, indexed: 2, login: 2, beyond: 2, regenerate: 2, password: 2 },
    // Driver calls on a bound session: taking it out of its user's sessions is part of the script.
    writes: { unbind: 1, expire: 1 },
  },
  {
    name: "cluster",
    connect: () => ready(new Cluster(cluster!.nodes)),
    // Parallel chains after the session script (the limit step, then end-1, then the ended
    // session's index entries, beside the index step and the old id's ZREM; one chain per ended
    // session) overlap more or less: the least and the most. A command sent while a parallel one is
    // still outstanding does not start a round trip, so "beyond" counts 6 (its longest chain) when
    // the index step answers first, and down to 4 when it answers after the whole limit chain.
    expected: { read: 1, write: 2, indexed: 3, login: 4, beyond: [4, 6], regenerate: 4, password: [8, 9] },
    // The user sessions live in another slot: the script, then ZREM.
    writes: { unbind: 2, expire: 2 },
  },
];

for (const topology of topologies) {
  describe(`${topology.name}: round trips per request (maxSessionsPerUser 3, one declared index)`, () => {
    it("match the README's table", async () => {
      const raw = await topology.connect();
      // Every library loaded on every primary first (on a Cluster each node has its own), so no
      // "Function not found" -> FUNCTION LOAD retry is counted.
      const primaries = raw instanceof Cluster ? raw.nodes("master") : [raw];
      for (const node of primaries) for (const script of Object.values(scripts)) await node.call("FUNCTION", "LOAD", "REPLACE", script.library.source);
      const { client, trips } = counted(raw);
      const manager = createSessionManager({
        driver: createIoredisDriver({ client, prefix: `r${Math.random().toString(36).slice(2, 10)}` }),
        maxSessionsPerUser: 3,
        indexes: { tenant: { field: "tenant" } },
        // Renewal not due during the test (a renewal re-scores the index entries: one more on a Cluster).
        idleTimeout: 30 * 60_000,
        renewAfter: 10 * 60_000,
        onWarning: () => {},
      });
      const requestOf = (token?: string): RequestInfo => ({ header: (header) => (header === "cookie" && token ? `sess=${token}` : undefined), secure: false });
      const step = async (token: string | undefined, handler: (session: Session) => void): Promise<string> => {
        const open = await manager.open(requestOf(token));
        handler(open.session);
        const { headers } = await open.commit();
        return /sess=([^;]+)/.exec(headers.find(([header]) => header === "set-cookie")?.[1] ?? "")?.[1] ?? token!;
      };
      const measure = async (action: () => Promise<unknown>): Promise<number> => {
        const before = trips();
        await action();
        return trips() - before;
      };
      const stored = (s: Session) => s.set("tenant", "acme");
      const loggedIn = (user: string) => (s: Session) => {
        stored(s);
        s.login(user);
      };
      const measured: Record<string, number> = {};
      /** The round trips of one request on the client holding `token`; the client then holds the token it answered. */
      let token = await step(undefined, stored);
      const request = async (name: string, handler: (session: Session) => void) => {
        measured[name] = await measure(async () => (token = await step(token, handler)));
      };
      await request("read", (s) => s.get("tenant"));
      await request("write", (s) => s.set("note", 1));
      await request("indexed", (s) => s.set("tenant", "globex"));
      await request("login", (s) => s.login("ada"));
      for (let i = 0; i < 2; i++) await step(undefined, loggedIn("ada"));
      token = await step(undefined, stored);
      await request("beyond", (s) => s.login("ada"));
      expect(await manager.listUserSessions("ada")).toHaveLength(3);
      await request("regenerate", (s) => s.regenerate());
      await request("password", (s) => s.regenerate({ endOtherSessions: true }));
      expect(await manager.listUserSessions("ada")).toHaveLength(1);
      expect(await manager.count("tenant", "acme")).toBe(1);
      const within = Object.fromEntries(
        Object.entries(measured).map(([name, count]) => {
          const range: number | number[] = (topology.expected as Record<string, number | number[]>)[name] ?? [];
          const [least, most] = typeof range === "number" ? [range, range] : range;
          return [name, least !== undefined && most !== undefined && count >= least && count <= most ? range : count];
        }),
      );
      expect(within).toEqual(topology.expected);
    }, 30_000);

    it("an unbinding and a write that deletes a bound session, as the manager sends them", async () => {
      const { client, trips } = counted(await topology.connect());
      const prefix = `r${Math.random().toString(36).slice(2, 10)}`;
      const driver = createIoredisDriver({ client, prefix });
      const userKey = (userId: string) => createKeySchema(prefix).user(userId);
      const user = `u${Math.random().toString(36).slice(2, 10)}`;
      const measured: Record<string, number> = {};
      for (const [name, expiresIn, binding] of [["unbind", 60_000, null], ["expire", -1, undefined]] as const) {
        const id = `${name}${Math.random().toString(36).slice(2, 12)}`.padEnd(22, "x");
        const now = Date.now();
        const times = { createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000 };
        await driver.create(id, { ...times, now, idleTimeout: null, userAgent: null, ip: null, fields: {}, user: { userId: user } });
        expect(await client.zscore(userKey(user), id)).not.toBeNull();
        const before = trips();
        const change = { now, set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + expiresIn, loaded: { absoluteExpiresAt: times.absoluteExpiresAt, userId: user } };
        await driver.update(id, binding === null ? { ...change, user: null } : change);
        measured[name] = trips() - before;
        expect(await client.zscore(userKey(user), id)).toBeNull();
      }
      expect(measured).toEqual(topology.writes);
    }, 30_000);
  });
}

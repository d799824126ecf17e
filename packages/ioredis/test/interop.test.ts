import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { newToken, sessionIdOf, tagOf } from "@sess/core";
import type { SessionDriver } from "@sess/core";
import { createKeySchema } from "@sess/redis-shared";
import { createNodeRedisDriver } from "../../node-redis/src/index.js";
import { createIoredisDriver } from "../src/index.js";

let io: Redis;
let node: ReturnType<typeof createClient>;

beforeAll(async () => {
  io = new Redis(inject("redisUrl"), { lazyConnect: true });
  await io.connect();
  node = createClient({ url: inject("redisUrl") });
  await node.connect();
});

afterAll(async () => {
  io?.disconnect();
  await node?.close();
});

function pair(): { prefix: string; ioredis: SessionDriver; nodeRedis: SessionDriver } {
  const prefix = `i${Math.random().toString(36).slice(2, 10)}`;
  return { prefix, ioredis: createIoredisDriver({ client: io, prefix }), nodeRedis: createNodeRedisDriver({ client: node, prefix }) };
}

const directions = [
  { from: "ioredis", to: "node-redis", writer: (p: ReturnType<typeof pair>) => p.ioredis, other: (p: ReturnType<typeof pair>) => p.nodeRedis },
  { from: "node-redis", to: "ioredis", writer: (p: ReturnType<typeof pair>) => p.nodeRedis, other: (p: ReturnType<typeof pair>) => p.ioredis },
];

for (const { from, to, writer, other } of directions) {
  describe(`a session created by ${from}`, () => {
    it(`is read, changed, touched and rotated by ${to}`, async () => {
      const drivers = pair();
      const a = writer(drivers);
      const b = other(drivers);
      const now = Date.now();
      const id = sessionIdOf(newToken());
      const userId = `u-${Math.random().toString(36).slice(2)}`;
      expect(
        await a.create(id, {
          fields: { name: '"Ada"', visits: "1" },
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 60_000,
          absoluteExpiresAt: now + 3_600_000,
          idleTimeout: 60_000,
          user: { userId },
          userAgent: "curl/8",
          ip: "127.0.0.1",
        }),
      ).toMatchObject({ expiresAt: now + 60_000, idleTimeout: 60_000, ended: [] });

      const read = await b.load(id);
      expect(read).toEqual({
        id,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + 60_000,
        absoluteExpiresAt: now + 3_600_000,
        idleTimeout: 60_000,
        userId,
        userAgent: "curl/8",
        ip: "127.0.0.1",
        fields: { name: '"Ada"', visits: "1" },
      });

      const changed = await b.update(id, {
        set: { theme: '"dark"' },
        remove: ["name"],
        increment: { visits: 2 },
        lastSeenAt: now + 1,
        expiresAt: now + 60_001,
      });
      expect(changed?.counters).toEqual({ visits: 3 });
      expect((await a.load(id))?.fields).toEqual({ theme: '"dark"', visits: "3" });

      // touch: renewal only
      expect((await b.update(id, { set: {}, remove: [], increment: {}, lastSeenAt: now + 5, expiresAt: now + 120_000 }))?.counters).toEqual({});
      const touched = await a.load(id);
      expect(touched?.lastSeenAt).toBe(now + 5);
      expect(touched?.expiresAt).toBe(now + 120_000);
      expect(await io.pttl(createKeySchema(drivers.prefix).session(id))).toBeGreaterThan(60_000);

      const next = sessionIdOf(newToken(tagOf(id)));
      expect(
        await b.rotate(id, next, { set: {}, remove: [], increment: {}, lastSeenAt: now + 6, expiresAt: now + 120_000, keepData: true }),
      ).toMatchObject({ counters: {}, idleTimeout: 60_000, expiresAt: now + 120_000 });
      expect(await a.load(id)).toBeNull();
      expect(await a.load(next)).toMatchObject({ fields: { theme: '"dark"', visits: "3" }, idleTimeout: 60_000 });
      expect((await a.listUserSessions(userId)).map((meta) => meta.id)).toEqual([next]);
      expect(await a.update(id, { set: { late: "1" }, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000 })).toBeNull();
    });
  });
}

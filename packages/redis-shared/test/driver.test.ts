import { errorMonitor } from "node:events";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Redis } from "ioredis";
import { newToken, sessionIdOf, tagOf } from "@sess/core";
import type { NewSession, SessionChange, SessionDriver } from "@sess/core";
import { startRedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../../ioredis/src/index.js";
import { createKeySchema, TOMBSTONE_MS } from "../src/index.js";

let shared: Redis;

beforeAll(async () => {
  shared = new Redis(inject("redisUrl"), { lazyConnect: true });
  await shared.connect();
});

afterAll(() => {
  shared?.disconnect();
});

function fresh(client: Redis = shared): { driver: SessionDriver; keys: ReturnType<typeof createKeySchema> } {
  const prefix = `d${Math.random().toString(36).slice(2, 10)}`;
  return { driver: createIoredisDriver({ client, prefix }), keys: createKeySchema(prefix) };
}

function session(overrides: Partial<NewSession> = {}): NewSession {
  const now = Date.now();
  return { fields: {}, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null, ...overrides };
}

function change(overrides: Partial<SessionChange> = {}): SessionChange {
  const now = Date.now();
  return { set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000, ...overrides };
}

describe("update", () => {
  it("refuses an increment of a non-integer field with VALUE_INVALID and writes nothing", async () => {
    const { driver } = fresh();
    const id = sessionIdOf(newToken());
    await driver.create(id, session({ fields: { name: '"Ada"', n: "1" } }));
    await expect(driver.update(id, change({ set: { other: "2" }, increment: { n: 1, name: 1 } }))).rejects.toMatchObject({ code: "VALUE_INVALID" });
    expect((await driver.load(id))?.fields).toEqual({ name: '"Ada"', n: "1" });
  });

  it("runs the script when the server has lost its libraries and its script cache", async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      await client.connect();
      const { driver } = fresh(client);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { n: "1" } }));
      await client.call("FUNCTION", "FLUSH");
      await client.script("FLUSH");
      expect((await driver.update(id, change({ increment: { n: 1 } })))?.counters).toEqual({ n: 2 });
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  it("sets the key's expiry only when a write moves $x, and the key always expires at $x", async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      await client.connect();
      const { driver, keys } = fresh(client);
      const id = sessionIdOf(newToken());
      const created = session({ fields: { n: "1" } });
      await driver.create(id, created);
      const pexpireats = async () => Number(/^cmdstat_pexpireat:calls=(\d+)/m.exec(String(await client.info("commandstats")))?.[1] ?? 0);
      const expiry = async () => [Number(await client.call("PEXPIRETIME", keys.session(id))), Number(await client.hget(keys.session(id), "$x"))];
      const before = await pexpireats();
      // Renewal not due: the change carries the stored expiry (or an earlier one, which never wins).
      await driver.update(id, change({ increment: { n: 1 }, expiresAt: created.expiresAt }));
      await driver.update(id, change({ increment: { n: 1 }, expiresAt: created.expiresAt - 1_000 }));
      expect(await pexpireats()).toBe(before);
      expect(await expiry()).toEqual([created.expiresAt, created.expiresAt]);
      // A renewal moves both.
      await driver.update(id, change({ increment: { n: 1 }, expiresAt: created.expiresAt + 5_000 }));
      expect(await pexpireats()).toBe(before + 1);
      expect(await expiry()).toEqual([created.expiresAt + 5_000, created.expiresAt + 5_000]);
      expect((await driver.load(id))?.fields.n).toBe("4");
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

describe("create", () => {
  it("gives the session key and the user index key a TTL (index: the highest absolute deadline)", async () => {
    const { driver, keys } = fresh();
    const id = sessionIdOf(newToken());
    const s = session({ user: { userId: "ttl-user" } });
    await driver.create(id, s);
    const sessionTtl = await shared.pttl(keys.session(id));
    const indexExpiry = await shared.pexpiretime(keys.user("ttl-user"));
    expect(sessionTtl).toBeGreaterThan(59_000);
    expect(sessionTtl).toBeLessThanOrEqual(60_000);
    expect(indexExpiry).toBe(s.absoluteExpiresAt);
  });

  it("is refused under an id a user-wide logout tombstoned, and the tombstone expires", async () => {
    const { driver, keys } = fresh();
    const userId = `u${Math.random()}`;
    const id = sessionIdOf(newToken());
    await driver.create(id, session({ user: { userId } }));
    expect(await driver.endUserSessions(userId)).toBe(1);
    const ttl = await shared.pttl(keys.session(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TOMBSTONE_MS);
    expect(await driver.create(id, session())).toBeNull();
    expect(await driver.load(id)).toBeNull();
  });
});

describe("listUserSessions", () => {
  it("prunes an entry whose session is gone and never brings it back", async () => {
    const { driver, keys } = fresh();
    const userId = `u${Math.random()}`;
    const id = sessionIdOf(newToken());
    await driver.create(id, session({ user: { userId } }));
    await shared.del(keys.session(id)); // gone behind the index's back (e.g. idle expiry)
    expect(await driver.listUserSessions(userId)).toEqual([]);
    expect(await shared.zcard(keys.user(userId))).toBe(0);
    expect(await driver.load(id)).toBeNull();
    expect(await driver.update(id, change({ set: { x: "1" } }))).toBeNull();
    expect(await driver.load(id)).toBeNull();
  });
});

describe("rotate", () => {
  it("moves the user index entry to the new id", async () => {
    const { driver, keys } = fresh();
    const userId = `u${Math.random()}`;
    const id = sessionIdOf(newToken());
    const next = sessionIdOf(newToken(tagOf(id)));
    await driver.create(id, session({ user: { userId } }));
    expect((await driver.rotate(id, next, { ...change(), keepData: false }))?.counters).toEqual({});
    expect(await shared.zrange(keys.user(userId), "0", "-1")).toEqual([next]);
  });
});

describe("createRedisDriver", () => {
  it("leaves no listener on the client once closed, however many drivers were made on it", async () => {
    const client = new Redis(inject("redisUrl"), { lazyConnect: true });
    const before = { error: client.listenerCount(errorMonitor), ready: client.listenerCount("ready") };
    for (let i = 0; i < 20; i++) await fresh(client).driver.close();
    expect({ error: client.listenerCount(errorMonitor), ready: client.listenerCount("ready") }).toEqual(before);
    client.disconnect();
  });

  it("rejects at once with STORE_UNAVAILABLE when the client is not connected, sending nothing", async () => {
    const client = new Redis(inject("redisUrl"), { lazyConnect: true });
    const { driver } = fresh(client);
    const started = performance.now();
    await expect(driver.load(sessionIdOf(newToken()))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(performance.now() - started).toBeLessThan(50);
    expect(client.status).toBe("wait");
    client.disconnect();
  });

  it("classifies a READONLY replica as STORE_UNAVAILABLE with the server error as cause", async () => {
    const primary = await startRedisServer();
    const replica = await startRedisServer({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
    const client = new Redis(replica.url, { lazyConnect: true });
    try {
      await client.connect();
      const { driver } = fresh(client);
      const error: unknown = await driver.create(sessionIdOf(newToken()), session()).catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", cause: expect.objectContaining({ message: expect.stringMatching(/^READONLY/) }) });
    } finally {
      client.disconnect();
      await replica.stop();
      await primary.stop();
    }
  });

  it("classifies OOM as STORE_UNAVAILABLE", async () => {
    const server = await startRedisServer({ args: ["--maxmemory", "1", "--maxmemory-policy", "noeviction"] });
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      await client.connect();
      const { driver } = fresh(client);
      const error: unknown = await driver.create(sessionIdOf(newToken()), session()).catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", message: expect.stringContaining("OOM") });
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

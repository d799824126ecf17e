import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, sessionIdOf, tagOf } from "@sess/core";
import type { NewSession, SessionChange } from "@sess/core";
import type { RedisClientHarness, RedisServerHandle, VerifyingDriver } from "./harness.js";
import { until } from "./faults.js";

/** What `describeNearCache` needs; `sessionKey(prefix, id)` is the Redis key of a session. */
export interface NearCacheHarness<C> extends Pick<RedisClientHarness<C>, "name" | "startServer" | "connect" | "raw" | "close" | "createDriver"> {
  sessionKey(prefix: string, id: string): string;
}

/** The name the near cache gives its connection (CLIENT SETNAME). */
export const CONNECTION_NAME = "sess-near-cache";

function session(fields: Record<string, string> = { a: "1" }): NewSession {
  const now = Date.now();
  return { fields, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null };
}

function change(fields: Record<string, string>, extra: Partial<SessionChange> = {}): SessionChange {
  const now = Date.now();
  return { set: fields, remove: [], increment: {}, expiresAt: now + 60_000, lastSeenAt: now, ...extra };
}

/**
 * The near cache (`nearCache` option) on a redis-server of its own: loads served without a Redis
 * command while the entry is fresh, and every kind of change, made by this driver, another one or
 * a raw command, seen by the next load; nothing served while the tracking connection is down; the
 * `maxAge` and `maxEntries` bounds.
 */
export function describeNearCache<C>(harness: NearCacheHarness<C>): void {
  let server: RedisServerHandle;
  let client: C;
  let other: C;
  const drivers: VerifyingDriver[] = [];

  beforeAll(async () => {
    server = await harness.startServer();
    client = await harness.connect(server.url);
    other = await harness.connect(server.url);
  });

  afterAll(async () => {
    for (const driver of drivers) await driver.close();
    if (client !== undefined) harness.close(client);
    if (other !== undefined) harness.close(other);
    await server?.stop();
  });

  const raw = (command: string, ...args: string[]) => harness.raw(other, command, ...args);

  /** HGETALL calls the server has run so far. */
  async function hgetalls(): Promise<number> {
    const stats = String(await raw("INFO", "commandstats"));
    return Number(/cmdstat_hgetall:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  async function live(driver: VerifyingDriver): Promise<void> {
    await until(() => driver.nearCacheStats()?.live === true, 5_000);
  }

  /** A driver with the near cache, its tracking connection live. */
  async function fresh(nearCache = { maxEntries: 1_000, maxAge: 60_000 }, on: C = client, prefix = `n${Math.random().toString(36).slice(2, 10)}`) {
    const driver = harness.createDriver(on, { prefix, nearCache });
    drivers.push(driver);
    await live(driver);
    return { driver, prefix, key: (id: string) => harness.sessionKey(prefix, id) };
  }

  /** A new session, loaded once (now in the cache: the next load of it issues no HGETALL). */
  async function cached(driver: VerifyingDriver, fields?: Record<string, string>): Promise<string> {
    const id = sessionIdOf(newToken());
    expect(await driver.create(id, session(fields))).not.toBeNull();
    // The creation's own invalidation may still be on its way: load until the cache holds it.
    await until(async () => {
      await driver.load(id);
      const calls = await hgetalls();
      await driver.load(id);
      return (await hgetalls()) === calls;
    }, 2_000);
    return id;
  }

  /** Two session ids that share their first `length` characters (same tag, then a search over the digest). */
  function idsSharing(length: number): [string, string] {
    const tag = tagOf(newToken());
    const seen = new Map<string, string>();
    for (;;) {
      const id = sessionIdOf(newToken(tag));
      const earlier = seen.get(id.slice(0, length));
      if (earlier !== undefined && earlier !== id) return [earlier, id];
      seen.set(id.slice(0, length), id);
    }
  }

  describe("nearCache", () => {
    describe("load", () => {
      it("issues no HGETALL for a session loaded within maxAge", async () => {
        const { driver } = await fresh();
        const id = sessionIdOf(newToken());
        await driver.create(id, session({ a: "1" }));
        await driver.load(id);
        await driver.load(id);
        const calls = await hgetalls();
        for (let i = 0; i < 10; i++) expect((await driver.load(id))?.fields).toEqual({ a: "1" });
        expect(await hgetalls()).toBe(calls);
        expect(driver.nearCacheStats()).toEqual({ entries: 1, live: true });
      });

      it("answers the hits on one entry with one frozen record, a new one after a change", async () => {
        const { driver } = await fresh();
        const id = await cached(driver, { a: "1" });
        const first = await driver.load(id);
        expect(await driver.load(id)).toBe(first);
        expect(Object.isFrozen(first) && Object.isFrozen(first!.fields)).toBe(true);
        expect(await driver.update(id, change({ a: "2" }))).not.toBeNull();
        const next = await driver.load(id);
        expect(next).not.toBe(first);
        expect(next?.fields).toEqual({ a: "2" });
        expect(first!.fields).toEqual({ a: "1" });
      });

      it("answers each of two sessions whose ids share their first 12 characters with its own record", async () => {
        const { driver } = await fresh();
        const [a, b] = idsSharing(12);
        expect(await driver.create(a, session({ who: "a" }))).not.toBeNull();
        expect(await driver.create(b, session({ who: "b" }))).not.toBeNull();
        for (let round = 0; round < 3; round++) {
          expect((await driver.load(a))?.fields).toEqual({ who: "a" });
          expect((await driver.load(b))?.fields).toEqual({ who: "b" });
          expect((await driver.load(b))?.id).toBe(b);
          expect((await driver.load(a))?.id).toBe(a);
        }
        expect(await driver.destroy(b)).toBe(true);
        expect(await driver.load(b)).toBeNull();
        expect((await driver.load(a))?.fields).toEqual({ who: "a" });
      });

      it("reads Redis again once the entry is maxAge old", async () => {
        const { driver } = await fresh({ maxEntries: 10, maxAge: 200 });
        const id = await cached(driver);
        const calls = await hgetalls();
        await new Promise((resolve) => setTimeout(resolve, 250));
        await driver.load(id);
        expect(await hgetalls()).toBe(calls + 1);
      });

      it("keeps no session that is not found", async () => {
        const { driver } = await fresh();
        const id = sessionIdOf(newToken());
        expect(await driver.load(id)).toBeNull();
        const calls = await hgetalls();
        expect(await driver.load(id)).toBeNull();
        expect(await hgetalls()).toBe(calls + 1);
        expect(driver.nearCacheStats()?.entries).toBe(0);
      });

      it("holds at most maxEntries sessions (100,000 loaded, maxEntries 1,000)", async () => {
        const { driver, key } = await fresh({ maxEntries: 1_000, maxAge: 60_000 });
        const template = session();
        const hash = ["$c", String(template.createdAt), "$s", String(template.lastSeenAt), "$x", String(template.expiresAt), "$a", String(template.absoluteExpiresAt), "a", "1"];
        let largest = 0;
        for (let batch = 0; batch < 100; batch++) {
          const ids = Array.from({ length: 1_000 }, () => sessionIdOf(newToken()));
          await Promise.all(ids.map((id) => raw("HSET", key(id), ...hash)));
          await Promise.all(ids.map((id) => raw("PEXPIRE", key(id), "60000")));
          const loaded = await Promise.all(ids.map((id) => driver.load(id)));
          expect(loaded.every((record) => record?.fields.a === "1")).toBe(true);
          largest = Math.max(largest, driver.nearCacheStats()!.entries);
        }
        expect(largest).toBeGreaterThan(0);
        expect(largest).toBeLessThanOrEqual(1_000);
      }, 120_000);
    });

    describe("when the session changes", () => {
      it("sees the driver's own update at once", async () => {
        const { driver } = await fresh();
        const id = await cached(driver, { a: "1" });
        expect(await driver.update(id, change({ a: "2" }))).not.toBeNull();
        expect((await driver.load(id))?.fields).toEqual({ a: "2" });
      });

      it("sees a rotation at once: the old id is gone, the new one holds the data", async () => {
        const { driver } = await fresh();
        const id = await cached(driver, { a: "1" });
        const next = sessionIdOf(newToken());
        expect(await driver.rotate(id, next, { ...change({}), keepData: true })).not.toBeNull();
        expect(await driver.load(id)).toBeNull();
        expect((await driver.load(next))?.fields).toEqual({ a: "1" });
      });

      it("sees a destroy at once", async () => {
        const { driver } = await fresh();
        const id = await cached(driver);
        expect(await driver.destroy(id)).toBe(true);
        expect(await driver.load(id)).toBeNull();
      });

      it("sees ending the user's sessions at once", async () => {
        const { driver } = await fresh();
        const id = sessionIdOf(newToken());
        await driver.create(id, { ...session(), user: { userId: "ada" } });
        await until(async () => {
          await driver.load(id);
          return driver.nearCacheStats()!.entries === 1;
        }, 2_000);
        expect(await driver.endUserSessions("ada")).toBe(1);
        expect(await driver.load(id)).toBeNull();
      });

      it("sees an update, a rotation and a destroy made by another driver on another connection", async () => {
        const { driver, prefix } = await fresh();
        const { driver: second } = await fresh(undefined, other, prefix);
        const id = await cached(driver, { a: "1" });
        await second.update(id, change({ a: "2" }));
        expect((await driver.load(id))?.fields).toEqual({ a: "2" });
        const next = sessionIdOf(newToken());
        await cached(driver); // another entry, kept meanwhile
        await second.rotate(id, next, { ...change({}), keepData: true });
        expect(await driver.load(id)).toBeNull();
        await cached(driver);
        await second.destroy(next);
        expect(await driver.load(next)).toBeNull();
      });

      it("sees a raw HSET, HDEL and DEL on the key (another client)", async () => {
        const { driver, key } = await fresh();
        const id = await cached(driver, { a: "1" });
        await raw("HSET", key(id), "a", "2");
        expect((await driver.load(id))?.fields).toEqual({ a: "2" });
        await cached(driver);
        await raw("HDEL", key(id), "a");
        expect((await driver.load(id))?.fields).toEqual({});
        await raw("DEL", key(id));
        expect(await driver.load(id)).toBeNull();
      });

      it("sees an expiry set by another client (PEXPIRE)", async () => {
        const { driver, key } = await fresh();
        const id = await cached(driver);
        await raw("PEXPIRE", key(id), "1");
        await new Promise((resolve) => setTimeout(resolve, 20));
        await until(async () => (await raw("EXISTS", key(id))) === 0, 2_000);
        expect(await driver.load(id)).toBeNull();
      });
    });

    describe("when the tracking connection is down", () => {
      it("serves nothing from memory until it is back, then caches again", async () => {
        const { driver } = await fresh();
        const id = await cached(driver);
        const list = String(await raw("CLIENT", "LIST"));
        const tracking = list.split("\n").filter((line) => line.includes(`name=${CONNECTION_NAME}`));
        expect(tracking.length).toBeGreaterThan(0);
        await raw("CLIENT", "KILL", "TYPE", "pubsub");
        // Every load between the kill and the new connection goes to Redis.
        let loads = 0;
        const before = await hgetalls();
        await until(() => driver.nearCacheStats()?.live === false, 2_000);
        expect(driver.nearCacheStats()?.entries).toBe(0);
        while (driver.nearCacheStats()?.live === false && loads < 10_000) {
          const calls = await hgetalls();
          expect(await driver.load(id)).not.toBeNull();
          loads++;
          if (driver.nearCacheStats()?.live === false) expect(await hgetalls()).toBe(calls + 1);
        }
        expect(await hgetalls()).toBeGreaterThan(before);
        await live(driver);
        await driver.load(id);
        const calls = await hgetalls();
        await driver.load(id);
        expect(await hgetalls()).toBe(calls);
      });

      it("empties the cache on FLUSHALL and sees sessions written after it", async () => {
        const { driver } = await fresh();
        const id = await cached(driver);
        await raw("FLUSHALL");
        await until(() => driver.nearCacheStats()?.entries === 0, 2_000);
        expect(await driver.load(id)).toBeNull();
      });

      it("empties the cache and stops serving when the application's connection drops", async () => {
        const { driver } = await fresh(undefined, client);
        const id = await cached(driver);
        await raw("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        await until(() => driver.nearCacheStats()?.entries === 0, 2_000);
        await until(async () => {
          try {
            return (await driver.load(id)) !== null;
          } catch {
            return false;
          }
        }, 5_000);
        await live(driver);
      });
    });

    describe("close", () => {
      it("closes the tracking connection", async () => {
        const driver = harness.createDriver(client, { prefix: "c", nearCache: { maxEntries: 1, maxAge: 1 } });
        await live(driver);
        const named = async () => String(await raw("CLIENT", "LIST")).split("\n").filter((line) => line.includes(`name=${CONNECTION_NAME}`)).length;
        const open = await named();
        await driver.close();
        await until(async () => (await named()) === open - 1, 2_000);
        expect(driver.nearCacheStats()).toEqual({ entries: 0, live: false });
      });
    });

    describe("options", () => {
      it.each([
        [{ maxEntries: 0, maxAge: 1_000 }, "nearCache.maxEntries"],
        [{ maxEntries: 1.5, maxAge: 1_000 }, "nearCache.maxEntries"],
        [{ maxEntries: 10, maxAge: -1 }, "nearCache.maxAge"],
        [{ maxEntries: 10, maxAge: "1000" }, "nearCache.maxAge"],
        [{ maxEntries: 10 }, "nearCache.maxAge"],
        [true, "nearCache"],
      ])("refuses %j with CONFIG_INVALID naming %s", (nearCache, option) => {
        expect(() => harness.createDriver(client, { nearCache: nearCache as never })).toThrow(
          expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining(`"${option}"`) }),
        );
      });

      it("is off by default", () => {
        expect(harness.createDriver(client).nearCacheStats()).toBeNull();
      });
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, sessionIdOf } from "@sess/core";
import type { RedisClientHarness, RedisServerHandle } from "./harness.js";

/** What `describeTombstones` needs; `sessionKey(prefix, id)` is the Redis key of a session. */
export interface TombstoneHarness<C> extends Pick<RedisClientHarness<C>, "name" | "startServer" | "connect" | "raw" | "close" | "createDriver"> {
  sessionKey(prefix: string, id: string): string;
}

/** The longest a tombstone lives (the drivers' TOMBSTONE_MS). */
const TOMBSTONE_MS = 60_000;

/**
 * The `$dead` hash that ending a user's sessions leaves under each ended id (so an in-flight write
 * cannot bring it back) never outlives the session it replaced: its TTL is at most that session's
 * remaining absolute lifetime, and nothing is left once that is over.
 */
export function describeTombstones<C>(harness: TombstoneHarness<C>): void {
  let server: RedisServerHandle;
  let client: C;

  beforeAll(async () => {
    server = await harness.startServer();
    client = await harness.connect(server.url);
  });

  afterAll(async () => {
    if (client !== undefined) harness.close(client);
    await server?.stop();
  });

  function fresh() {
    const prefix = `k${Math.random().toString(36).slice(2, 10)}`;
    return { driver: harness.createDriver(client, { prefix }), key: (id: string) => harness.sessionKey(prefix, id) };
  }

  function session(userId: string, absoluteInMs: number) {
    const now = Date.now();
    const absoluteExpiresAt = now + absoluteInMs;
    return {
      fields: {},
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + 60_000, absoluteExpiresAt),
      absoluteExpiresAt,
      user: { userId },
      userAgent: null,
      ip: null,
    };
  }

  const pttl = async (key: string) => Number(await harness.raw(client, "PTTL", key));
  const expiresAt = async (key: string) => Number(await harness.raw(client, "PEXPIRETIME", key));

  describe("tombstones (PTTL on the server)", () => {
    it("of an ended session live at most its remaining absolute lifetime", async () => {
      const { driver, key } = fresh();
      const id = sessionIdOf(newToken());
      const s = session("ada", 5_000);
      await driver.create(id, s);
      expect(await driver.endUserSessions("ada")).toBe(1);
      expect(await harness.raw(client, "HEXISTS", key(id), "$dead")).toBe(1);
      expect(await pttl(key(id))).toBeGreaterThan(0);
      expect(await expiresAt(key(id))).toBeLessThanOrEqual(s.absoluteExpiresAt);
      expect(await driver.create(id, session("ada", 60_000))).toBeNull();
    });

    it(`of a session with a long absolute lifetime live ${TOMBSTONE_MS} ms at most`, async () => {
      const { driver, key } = fresh();
      const id = sessionIdOf(newToken());
      await driver.create(id, session("bob", 3_600_000));
      expect(await driver.endUserSessions("bob")).toBe(1);
      const ttl = await pttl(key(id));
      expect(ttl).toBeGreaterThan(TOMBSTONE_MS - 5_000);
      expect(ttl).toBeLessThanOrEqual(TOMBSTONE_MS);
    });

    it("left for an index entry whose session is already gone live at most its remaining absolute lifetime", async () => {
      const { driver, key } = fresh();
      const id = sessionIdOf(newToken());
      const s = session("cy", 4_000);
      await driver.create(id, s);
      await harness.raw(client, "DEL", key(id)); // gone behind the index's back
      await driver.endUserSessions("cy");
      expect(await pttl(key(id))).toBeGreaterThan(0);
      expect(await expiresAt(key(id))).toBeLessThanOrEqual(s.absoluteExpiresAt);
    });

    it("are not left at all once the session is past its absolute deadline", async () => {
      const { driver, key } = fresh();
      const id = sessionIdOf(newToken());
      await driver.create(id, session("dee", 200));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await driver.endUserSessions("dee");
      expect(await harness.raw(client, "EXISTS", key(id))).toBe(0);
    });
  });
}

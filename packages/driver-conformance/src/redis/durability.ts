import { afterAll, describe, expect, it } from "vitest";
import { newToken, sessionIdOf } from "@sess/core";
import type { RedisClientHarness, RedisServerHandle } from "./harness.js";

/** What `describeDurability` needs; `sessionKey(prefix, id)` is the Redis key of a session (`createKeySchema(prefix).session(id)`). */
export interface DurabilityHarness<C> extends Pick<RedisClientHarness<C>, "name" | "startServer" | "connect" | "raw" | "isReady" | "close" | "createDriver"> {
  sessionKey(prefix: string, id: string): string;
}

const SESSIONS = 2_000;

/** Sessions acknowledged before a kill -9 of a Redis with appendonly yes + appendfsync everysec come back with their TTLs. */
export function describeDurability<C>(harness: DurabilityHarness<C>): void {
  let server: RedisServerHandle | undefined;
  let client: C | undefined;
  afterAll(async () => {
    if (client !== undefined) harness.close(client);
    await server?.stop();
  });

  describe("driver.create with appendonly yes + appendfsync everysec", () => {
    it("keeps every session acknowledged 2 s before a kill -9, with its remaining TTL", async () => {
      server = await harness.startServer({ args: ["--appendonly", "yes", "--appendfsync", "everysec"] });
      const connected = await harness.connect(server.url);
      client = connected;
      const prefix = "durable";
      const driver = harness.createDriver(connected, { prefix });
      const now = Date.now();
      const sessions = Array.from({ length: SESSIONS }, (_, i) => {
        const expiresAt = now + 60_000 + i * 10;
        return { id: sessionIdOf(newToken()), expiresAt, visits: String(i) };
      });
      const created = await Promise.all(
        sessions.map((s) =>
          driver.create(s.id, {
            fields: { visits: s.visits },
            createdAt: now,
            lastSeenAt: now,
            expiresAt: s.expiresAt,
            absoluteExpiresAt: now + 3_600_000,
            user: null,
            userAgent: null,
            ip: null,
          }),
        ),
      );
      expect(created.every((result) => result !== null)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2_100));

      server.kill("SIGKILL");
      await server.restart();
      for (let i = 0; !harness.isReady(connected) && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10));

      const ttls = (await Promise.all(sessions.map((s) => harness.raw(connected, "PTTL", harness.sessionKey(prefix, s.id))))).map(Number);
      const checkedAt = Date.now();
      const drift = sessions.map((s, i) => Math.abs(s.expiresAt - checkedAt - ttls[i]!));
      console.log(`${harness.name} durability: ${ttls.filter((ttl) => ttl > 0).length}/${SESSIONS} sessions back after kill -9, max PTTL drift ${Math.max(...drift)} ms`);
      expect(ttls.every((ttl) => ttl > 0)).toBe(true);
      expect(Math.max(...drift)).toBeLessThan(1_000);
      const loaded = await Promise.all(sessions.map((s) => driver.load(s.id)));
      expect(loaded.map((record) => record?.fields.visits)).toEqual(sessions.map((s) => s.visits));
      expect(loaded.map((record) => record?.expiresAt)).toEqual(sessions.map((s) => s.expiresAt));
    });
  });
}

import { afterAll, describe, expect, it } from "vitest";
import { createClient } from "redis";
import { newToken, sessionIdOf } from "@sess/core";
import { startRedisServer, type RedisServer } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createNodeRedisDriver } from "../src/index.js";

const SESSIONS = 2_000;
let server: RedisServer | undefined;
let client: ReturnType<typeof createClient> | undefined;
afterAll(async () => {
  if (client?.isOpen) client.destroy();
  await server?.stop();
});

describe("driver.create with appendonly yes + appendfsync everysec", () => {
  it("keeps every session acknowledged 2 s before a kill -9, with its remaining TTL", async () => {
    server = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "everysec"] });
    client = createClient({ url: server.url });
    client.on("error", () => {});
    await client.connect();
    const prefix = "durable";
    const driver = createNodeRedisDriver({ client, prefix });
    const keys = createKeySchema(prefix);
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
    expect(created.every(Boolean)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    server.kill("SIGKILL");
    await server.restart();
    for (let i = 0; !client.isReady && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10));

    const ttls = await Promise.all(sessions.map((s) => client!.pTTL(keys.session(s.id))));
    const checkedAt = Date.now();
    const drift = sessions.map((s, i) => Math.abs(s.expiresAt - checkedAt - ttls[i]!));
    console.log(`node-redis durability: ${ttls.filter((ttl) => ttl > 0).length}/${SESSIONS} sessions back after kill -9, max PTTL drift ${Math.max(...drift)} ms`);
    expect(ttls.every((ttl) => ttl > 0)).toBe(true);
    expect(Math.max(...drift)).toBeLessThan(1_000);
    const loaded = await Promise.all(sessions.map((s) => driver.load(s.id)));
    expect(loaded.map((record) => record?.fields.visits)).toEqual(sessions.map((s) => s.visits));
    expect(loaded.map((record) => record?.expiresAt)).toEqual(sessions.map((s) => s.expiresAt));
  });
});

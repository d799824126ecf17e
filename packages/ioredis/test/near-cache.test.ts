import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, Redis } from "ioredis";
import { newToken, sessionIdOf } from "@sess/core";
import { describeNearCache, until } from "@sess/driver-conformance/redis";
import { startSentinelTopology } from "@sess/redis-server";
import type { SentinelTopology } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";
import { ioredisHarness, ready } from "./clients.js";


describeNearCache(ioredisHarness);

describe("nearCache", () => {
  describe("on a Cluster client", () => {
    it("is refused at construction with CONFIG_INVALID", () => {
      const client = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
      expect(() => createIoredisDriver({ client, nearCache: { maxEntries: 10, maxAge: 1_000 } })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("Redis Cluster") }),
      );
    });
  });
});

describe("nearCache on a client with keyPrefix", () => {
  it("is refused at construction with CONFIG_INVALID", () => {
    const client = new Redis({ lazyConnect: true, keyPrefix: "app:" });
    expect(() => createIoredisDriver({ client, nearCache: { maxEntries: 10, maxAge: 1_000 } })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("keyPrefix") }),
    );
  });
});

describe("nearCache on a Sentinel client", () => {
  let topology: SentinelTopology | undefined;
  let client: Redis | undefined;
  let writer: Redis | undefined;

  beforeAll(async () => {
    topology = await startSentinelTopology();
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    writer?.disconnect();
    await topology?.stop();
  });

  it("caches, sees changes through SENTINEL FAILOVER, and empties the cache when the client reconnects", async () => {
    const sentinel = { sentinels: topology!.sentinels, name: topology!.name };
    client = await ready(new Redis(sentinel));
    writer = await ready(new Redis(sentinel));
    const prefix = `s${Math.random().toString(36).slice(2, 10)}`;
    const driver = createIoredisDriver({ client, prefix, nearCache: { maxEntries: 100, maxAge: 60_000 } });
    await until(() => driver.nearCacheStats()?.live === true, 5_000);
    const id = sessionIdOf(newToken());
    const now = Date.now();
    await driver.create(id, { fields: { a: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });
    await until(async () => {
      await driver.load(id);
      return driver.nearCacheStats()?.entries === 1;
    }, 2_000);
    const key = createKeySchema(prefix).session(id);
    await writer.hset(key, "a", "2");
    expect((await driver.load(id))?.fields).toEqual({ a: "2" });

    const primary = (await topology!.primary())!;
    await topology!.failover();
    await topology!.promotedFrom(primary.port);
    // Once the old primary is a replica (writes sent to it before then are Redis's to lose), writes
    // reach the new primary and the driver sees them.
    await until(async () => (await topology!.cli(primary.port, "ROLE")).startsWith("slave"), 20_000);
    await until(async () => {
      try {
        await writer!.hset(key, "a", "3");
        return true;
      } catch {
        return false;
      }
    }, 10_000);
    await until(async () => {
      try {
        return (await driver.load(id))?.fields.a === "3";
      } catch {
        return false;
      }
    }, 10_000);
    await until(() => driver.nearCacheStats()?.live === true, 10_000);
    await until(async () => {
      await driver.load(id);
      return driver.nearCacheStats()?.entries === 1;
    }, 5_000);
    await writer.hset(key, "a", "4");
    expect((await driver.load(id))?.fields).toEqual({ a: "4" });
    // A reconnect of the application's client empties the cache at once and stops serving from it.
    await until(async () => {
      await driver.load(id);
      return driver.nearCacheStats()?.entries === 1;
    }, 5_000);
    const closed = new Promise((resolve) => client!.once("close", resolve));
    client.disconnect(true);
    await closed;
    expect(driver.nearCacheStats()).toEqual({ entries: 0, live: false });
    await until(() => driver.nearCacheStats()?.live === true, 10_000);
    expect((await driver.load(id))?.fields).toEqual({ a: "4" });
    await driver.close();
  }, 60_000);
});

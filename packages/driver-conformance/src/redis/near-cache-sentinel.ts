import { afterAll, beforeAll, expect, it } from "vitest";
import { newToken, sessionIdOf } from "@sess/core";
import type { VerifyingDriver } from "./harness.js";
import { until } from "./faults.js";
import { CONNECTION_NAME } from "./near-cache.js";

/** What the suite uses of a Sentinel topology (`startSentinelTopology` of @sess/redis-server fits). */
export interface SentinelTopologyHandle {
  readonly name: string;
  readonly sentinels: { host: string; port: number }[];
  primary(): Promise<{ port: number } | undefined>;
  failover(): Promise<void>;
  promotedFrom(port: number, timeoutMs?: number): Promise<number>;
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** What `describeSentinelNearCache` needs of a driver's test file; `C` is its sentinel client type. */
export interface SentinelNearCacheHarness<C> {
  /** Starts a primary, a replica and three sentinels. */
  startTopology(): Promise<SentinelTopologyHandle>;
  /** A connected client of the topology's primary through its sentinels, its errors handled. */
  connect(topology: SentinelTopologyHandle): Promise<C>;
  /** A driver on `client` with `nearCache` (plus what the client needs for it). */
  createDriver(client: C, prefix: string, nearCache: { maxEntries: number; maxAge: number }): VerifyingDriver;
  hset(client: C, key: string, field: string, value: string): Promise<unknown>;
  /** Drops the client's connection; resolves once the client has reported it. `reconnects`: whether the client connects again by itself. */
  drop(client: C): Promise<void>;
  readonly reconnects: boolean;
  close(client: C): void | Promise<void>;
  /** The Redis key of session `id` under `prefix`. */
  sessionKey(prefix: string, id: string): string;
}

/**
 * The near cache on a Sentinel client: cached loads, a change by another client seen, the tracking
 * connection re-opened on the new primary after `SENTINEL FAILOVER` (and never left on the old one),
 * and the cache emptied at once when the application's client loses its connection.
 */
export function describeSentinelNearCache<C>(harness: SentinelNearCacheHarness<C>): void {
  let topology: SentinelTopologyHandle | undefined;
  const clients: C[] = [];

  beforeAll(async () => {
    topology = await harness.startTopology();
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await harness.close(client);
    await topology?.stop();
  });

  async function connect(): Promise<C> {
    const client = await harness.connect(topology!);
    clients.push(client);
    return client;
  }

  /** Whether the server on `port` has the near cache's connection, tracking. */
  async function tracksOn(port: number): Promise<boolean> {
    const list = await topology!.cli(port, "CLIENT", "LIST");
    return list.split("\n").some((line) => line.includes(`name=${CONNECTION_NAME} `) && /flags=\S*t/.test(line));
  }

  async function loadedIntoCache(driver: VerifyingDriver, id: string): Promise<void> {
    await until(async () => {
      await driver.load(id);
      return driver.nearCacheStats()?.entries === 1;
    }, 5_000);
  }

  it("caches, sees changes through SENTINEL FAILOVER on the new primary, and empties the cache when the client loses its connection", async () => {
    const client = await connect();
    const writer = await connect();
    const prefix = `s${Math.random().toString(36).slice(2, 10)}`;
    const driver = harness.createDriver(client, prefix, { maxEntries: 100, maxAge: 60_000 });
    await until(() => driver.nearCacheStats()?.live === true, 5_000);
    const first = (await topology!.primary())!;
    expect(await tracksOn(first.port)).toBe(true);
    const id = sessionIdOf(newToken());
    const now = Date.now();
    await driver.create(id, { fields: { a: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });
    await loadedIntoCache(driver, id);
    const key = harness.sessionKey(prefix, id);
    // A change by another client reaches the cache through Redis.
    await harness.hset(writer, key, "a", "2");
    expect((await driver.load(id))?.fields).toEqual({ a: "2" });

    await topology!.failover();
    await topology!.promotedFrom(first.port);
    // Once the old primary is a replica (writes sent to it before then are Redis's to lose), writes
    // reach the new primary and the driver sees them.
    await until(async () => (await topology!.cli(first.port, "ROLE")).startsWith("slave"), 20_000);
    await until(async () => {
      try {
        await harness.hset(writer, key, "a", "3");
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
    // The tracking connection followed the primary.
    const second = (await topology!.primary())!;
    expect(second.port).not.toBe(first.port);
    await until(() => tracksOn(second.port), 5_000);
    await until(async () => !(await tracksOn(first.port)), 5_000);
    await loadedIntoCache(driver, id);
    await harness.hset(writer, key, "a", "4");
    expect((await driver.load(id))?.fields).toEqual({ a: "4" });

    // A lost connection of the application's client empties the cache at once and stops serving from it.
    await loadedIntoCache(driver, id);
    await harness.drop(client);
    expect(driver.nearCacheStats()).toEqual({ entries: 0, live: false });
    if (harness.reconnects) {
      await until(() => driver.nearCacheStats()?.live === true, 10_000);
      expect((await driver.load(id))?.fields).toEqual({ a: "4" });
    }
    await driver.close();
  }, 60_000);
}

import type { ConnectRedisSourceOptions, LegacySource, SessionDriver } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import type { Settings } from "./settings.js";

/** The session driver, plus what the demo needs for `/health` and shutdown. */
export interface Store {
  kind: "memory" | "redis";
  driver: SessionDriver;
  /** The Redis client (ioredis or node-redis) of a Redis store; absent for memory. */
  client?: unknown;
  /** The driver package's `fromConnectRedis`, on `client` (a Redis store only): legacy sessions for `MIGRATE_FROM`. */
  fromConnectRedis?: (options: ConnectRedisSourceOptions) => LegacySource;
  /** Whether the store answers, within `timeout` ms. Never touches a session. */
  ping(timeout?: number): Promise<boolean>;
  /** Closes the driver and the client the demo opened. */
  close(): Promise<void>;
}

const PING_TIMEOUT = 1000;

/**
 * Opens the configured store. A Redis store is checked before it is used (`driver.verify()`): a user
 * missing a command rejects with a message naming it; persistence or eviction risks are logged once.
 */
export async function openStore(
  settings: Pick<Settings, "redisUrl" | "driver" | "redisCa"> & { prefix?: string },
  log: (line: string) => void,
): Promise<Store> {
  if (settings.redisUrl === undefined) {
    log("REDIS_URL is not set: sessions live in this process's memory (set REDIS_URL=redis://127.0.0.1:6379 for Redis)");
    const driver = createMemoryDriver();
    return { kind: "memory", driver, ping: async () => true, close: () => driver.close() };
  }
  const url = settings.redisUrl;
  const prefix = settings.prefix === undefined ? {} : { prefix: settings.prefix };
  if (settings.driver === "node-redis") {
    const { createClient } = await import("redis");
    const { createNodeRedisDriver, fromConnectRedis } = await import("@sess/node-redis");
    const client = createClient(settings.redisCa === undefined ? { url } : { url, socket: { tls: true, ca: settings.redisCa } });
    return redisStore("node-redis", client, createNodeRedisDriver({ client, ...prefix }), {
      connect: () => client.connect(),
      ping: () => client.ping(),
      disconnect: () => {
        if (client.isOpen) client.destroy();
      },
      fromConnectRedis: (options) => fromConnectRedis({ ...options, client }),
    }, log);
  }
  const { Redis } = await import("ioredis");
  const { createIoredisDriver, fromConnectRedis } = await import("@sess/ioredis");
  // ioredis defaults otherwise: a write it re-sends after a reconnect is recognised by its write id.
  const options = { lazyConnect: true };
  const client = new Redis(url, settings.redisCa === undefined ? options : { ...options, tls: { ca: settings.redisCa } });
  return redisStore("ioredis", client, createIoredisDriver({ client, ...prefix }), {
    connect: () => client.connect(),
    ping: () => client.ping(),
    disconnect: () => client.disconnect(),
    fromConnectRedis: (options) => fromConnectRedis({ ...options, client }),
  }, log);
}

type ErrorEvents = {
  on(event: "error", listener: (error: Error) => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
};

/** Logs the client's errors (each new one once), connects, verifies, and wraps it all as a Store. */
async function redisStore(
  name: string,
  client: ErrorEvents,
  driver: SessionDriver & { verify(options: { onWarning: (message: string) => void }): Promise<unknown> },
  calls: { connect(): Promise<unknown>; ping(): Promise<unknown>; disconnect(): void; fromConnectRedis: Store["fromConnectRedis"] },
  log: (line: string) => void,
): Promise<Store> {
  let lastError = "";
  client.on("error", (error: Error) => {
    if (error.message !== lastError) log(`redis (${name}): ${error.message}`);
    lastError = error.message;
  });
  try {
    await connected(client, calls.connect);
    await driver.verify({ onWarning: log });
  } catch (error) {
    calls.disconnect();
    throw error;
  }
  return {
    kind: "redis",
    driver,
    client,
    ...(calls.fromConnectRedis === undefined ? {} : { fromConnectRedis: calls.fromConnectRedis }),
    ping: (timeout = PING_TIMEOUT) => within(timeout, calls.ping),
    async close() {
      await driver.close();
      calls.disconnect();
    },
  };
}

/**
 * The first connection: resolves once connected, rejects with the client's first error (refused,
 * TLS certificate not trusted, bad password…) instead of retrying forever at start-up.
 */
async function connected(client: ErrorEvents, connect: () => Promise<unknown>): Promise<void> {
  let onError: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = reject;
    client.once("error", onError);
  });
  const pending = connect();
  pending.catch(() => undefined); // when the error event wins, the connect promise's own rejection is expected
  try {
    await Promise.race([pending, failed]);
  } finally {
    client.off("error", onError);
  }
}

async function within(timeout: number, run: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const pending = run().then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeout);
  });
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}

import type { SessionDriver } from "@sess/core";

/** What the suites use of a running redis-server (`RedisServer` of @sess/redis-server fits). */
export interface RedisServerHandle {
  readonly url: string;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  pause(): void;
  resume(): void;
  restart(): Promise<void>;
}

/** The drivers' `replicaAck` option. */
export interface ReplicaAck {
  replicas: number;
  timeout: number;
  shortfall?: "fail" | "accept";
  onShortfall?: (shortfall: { operation: string; acknowledged: number; replicas: number; timeout: number }) => void;
}

/** A Redis driver: a `SessionDriver` with the start-up check `verify()`. */
export interface VerifyingDriver extends SessionDriver {
  verify(options?: { onWarning?: (message: string) => void }): Promise<{ settings: object; warnings: string[] }>;
  ready(options?: { timeout?: number }): Promise<void>;
  nearCacheStats(): { entries: number; live: boolean } | null;
}

/** What a Redis driver's test file gives the suites of this folder; `C` is its client type. */
export interface RedisClientHarness<C> {
  /** The driver's name, as its warnings begin with it ("ioredis", "node-redis"). */
  name: string;
  /** Starts a redis-server: `startRedisServer` of @sess/redis-server. */
  startServer(options?: { args?: string[] }): Promise<RedisServerHandle>;
  /** A client of `url` that is connected (or, where a suite says so, connecting), its errors handled. */
  connect(url: string, options?: { username?: string; password?: string }): Promise<C>;
  /** Sends one raw command, e.g. `raw(client, "PTTL", key)`. */
  raw(client: C, command: string, ...args: string[]): Promise<unknown>;
  /** Whether the client can send commands now. */
  isReady(client: C): boolean;
  /** Drops the connection at once; called on closed clients too. */
  close(client: C): void;
  /** A driver on `client` (default prefix when `prefix` is absent), with the driver options given. */
  createDriver(client: C, options?: { prefix?: string; replicaAck?: ReplicaAck; nearCache?: { maxEntries: number; maxAge: number } }): VerifyingDriver;
}

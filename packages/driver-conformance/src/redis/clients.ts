import { afterAll, beforeAll, describe } from "vitest";
import type { SessionDriver } from "@sess/core";
import { describeDriverConformance } from "../index.js";
import type { ConformanceHarness, CorruptionKind } from "../harness.js";
import { CORRUPT_FIELD, FOREIGN_FIELD } from "../harness.js";

/**
 * One way an application configures its Redis client (client package and major, protocol, reply
 * mapping, topology). The Redis drivers' test files list theirs and run every suite on each.
 */
export interface ClientConfiguration<C> {
  /** E.g. "ioredis 6 replyMapping resp3 cluster". */
  name: string;
  /** A connected client, its errors handled. */
  connect(): Promise<C>;
  /** Sends one raw command (for a cluster, routed by its first key). */
  raw(client: C, command: string, ...args: string[]): Promise<unknown>;
  /** Closes the client. */
  close(client: C): Promise<void> | void;
}

/** What `describeClientConformance` needs beyond the configurations: the driver and the key schema. */
export interface ClientConformanceHarness<C> {
  /** A driver on `client` with key prefix `prefix`. */
  createDriver(client: C, prefix: string): SessionDriver;
  /** The Redis key of session `id` under `prefix` (the key schema of @sess/redis-shared). */
  sessionKey(prefix: string, id: string): string;
}

/**
 * The driver conformance suite, unchanged, on one client configuration: one client connected for
 * the whole suite, a fresh random prefix per test, `PTTL` and corruption through raw commands.
 */
export function describeClientConformance<C>(configuration: ClientConfiguration<C>, harness: ClientConformanceHarness<C>): void {
  let client: C | undefined;
  const connected = (): C => {
    if (client === undefined) throw new Error(`${configuration.name}: not connected`);
    return client;
  };
  const prefixes = new WeakMap<SessionDriver, string>();
  const keyOf = (driver: SessionDriver, id: string): string => {
    const prefix = prefixes.get(driver);
    if (prefix === undefined) throw new Error("driver not made by this harness");
    return harness.sessionKey(prefix, id);
  };
  const raw = (command: string, ...args: string[]) => configuration.raw(connected(), command, ...args);

  const conformance: ConformanceHarness = {
    name: configuration.name,
    createDriver() {
      const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
      const driver = harness.createDriver(connected(), prefix);
      prefixes.set(driver, prefix);
      return driver;
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async remainingTtl(driver, id) {
      const ttl = Number(await raw("PTTL", keyOf(driver, id)));
      return ttl < 0 ? null : ttl;
    },
    async corrupt(driver, id, kind: CorruptionKind) {
      const key = keyOf(driver, id);
      if (kind === "wrong-type") {
        await raw("DEL", key);
        await raw("SET", key, "not a hash", "PX", "60000");
      } else if (kind === "bad-json-field") {
        await raw("HSET", key, CORRUPT_FIELD.name, CORRUPT_FIELD.text);
      } else if (kind === "foreign-fields") {
        await raw("HSET", key, FOREIGN_FIELD.name, FOREIGN_FIELD.text);
      } else {
        await raw("HDEL", key, "$c", "$s", "$x", "$a", "$u", "$ua", "$ip");
      }
    },
  };

  describe(configuration.name, () => {
    beforeAll(async () => {
      client = await configuration.connect();
    });
    afterAll(async () => {
      if (client !== undefined) await configuration.close(client);
    });
    describeDriverConformance(conformance);
  });
}

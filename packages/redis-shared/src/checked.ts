/**
 * The driver a client binding gets: the shared `SessionDriver` on the port, with replica
 * acknowledgement and the near cache when asked for, plus `verify()` (startup.ts), `ready()`
 * (ready.ts) and `nearCacheStats()` (near-cache.ts).
 */
import type { CheckedDriver, RedisDriverOptions } from "@sess/core";
import { withReplicaAck } from "./acknowledgement.js";
import type { ReplicaPort } from "./acknowledgement.js";
import { createRedisDriver } from "./driver.js";
import { createNearCache, nearCacheOptions, withNearCache } from "./near-cache.js";
import type { NearCachePort } from "./near-cache.js";
import { createKeySchema } from "./keys.js";
import { createReady } from "./ready.js";
import { createVerify } from "./startup.js";
import type { StartupPort } from "./startup.js";

export function createCheckedDriver(port: StartupPort & ReplicaPort & NearCachePort, options: RedisDriverOptions): CheckedDriver {
  const keys = createKeySchema(options.prefix);
  const nearCacheSettings = nearCacheOptions(options.nearCache);
  const nearCache = nearCacheSettings === undefined ? undefined : createNearCache(nearCacheSettings, port, keys);
  const shared = createRedisDriver(port, { ...(options.prefix === undefined ? {} : { prefix: options.prefix }), ...(nearCache === undefined ? {} : { nearCache }) });
  const driver = withReplicaAck(nearCache === undefined ? shared : withNearCache(shared, nearCache), port, keys, options.replicaAck);
  return Object.assign(driver, {
    verify: createVerify(port, options.prefix),
    ready: createReady(port),
    nearCacheStats: () => nearCache?.stats() ?? null,
  });
}

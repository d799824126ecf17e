/**
 * The driver a client binding gets: the shared `SessionDriver` on the port, with replica
 * acknowledgement when asked for, plus `verify()` (startup.ts) and `ready()` (ready.ts).
 */
import type { CheckedDriver, RedisDriverOptions } from "@sess/core";
import { withReplicaAck } from "./acknowledgement.js";
import type { ReplicaPort } from "./acknowledgement.js";
import { createRedisDriver } from "./driver.js";
import { createKeySchema } from "./keys.js";
import { createReady } from "./ready.js";
import { createVerify } from "./startup.js";
import type { StartupPort } from "./startup.js";

export function createCheckedDriver(port: StartupPort & ReplicaPort, options: RedisDriverOptions): CheckedDriver {
  const driver = withReplicaAck(
    createRedisDriver(port, options.prefix === undefined ? {} : { prefix: options.prefix }),
    port,
    createKeySchema(options.prefix),
    options.replicaAck,
  );
  return Object.assign(driver, { verify: createVerify(port, options.prefix), ready: createReady(port) });
}

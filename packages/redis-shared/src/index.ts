export { createKeySchema, validatePrefix, DEFAULT_PREFIX, SCHEMA_VERSION } from "./keys.js";
export type { KeySchema } from "./keys.js";
export { createRedisDriver, TOMBSTONE_MS } from "./driver.js";
export type { RedisDriverOptions } from "./driver.js";
export { runScript, isNoScript, isWrongType, storeError, assertReady } from "./port.js";
export type { RedisPort } from "./port.js";
export { scripts } from "./lua.generated.js";
export type { EmbeddedScript } from "./lua.generated.js";

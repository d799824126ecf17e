// What the two Redis driver packages (and the tests) import; everything else stays inside this package.
export { createKeySchema } from "./keys.js";
export { createRedisDriver, TOMBSTONE_MS } from "./driver.js";
export { runScript, isNoScript } from "./port.js";
export type { RedisPort } from "./port.js";
export { scripts } from "./lua.generated.js";
export type { EmbeddedScript } from "./lua.generated.js";
export { SCRIPTS } from "./scripts.js";
export { configValueOf, hashOf, scoredMembersOf, valuesOf } from "./replies.js";
export { createVerify, scriptCommands } from "./startup.js";
export type { StartupPort } from "./startup.js";
export { watchConnectionErrors } from "./connection.js";
export { createReady } from "./ready.js";
export { withReplicaAck } from "./acknowledgement.js";
export type { ReplicaPort } from "./acknowledgement.js";
export { createLegacyClaim, legacyFactories } from "./legacy.js";
export type { ScriptPort } from "./port.js";
export { createCheckedDriver } from "./checked.js";

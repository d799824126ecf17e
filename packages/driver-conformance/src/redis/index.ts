// Here, not in @sess/redis-server: the suites need vitest and @sess/core, which this package already has; the redis-server and key schema come through the harness.
/**
 * Suites the Redis drivers share beyond the driver contract: start-up check, fault recovery, durability.
 * A driver's test file builds a harness for its client and calls the suite at the top level.
 */
export type { RedisClientHarness, RedisServerHandle, ReplicaAck, VerifyingDriver } from "./harness.js";
export { describeStartupChecks, type StartupHarness } from "./startup.js";
export { describeFaultRecovery, until, type FaultHarness } from "./faults.js";
export { describeDurability, type DurabilityHarness } from "./durability.js";
export { describeReady, type ReadyHarness } from "./ready.js";
export { describeClientConformance, type ClientConfiguration, type ClientConformanceHarness } from "./clients.js";
export { describeClusterRouting, type ClusterHandle, type ClusterRoutingHarness } from "./routing.js";
export { describeReplicaAcknowledgement, type ReplicaHarness } from "./replicas.js";
export { describeTombstones, type TombstoneHarness } from "./tombstones.js";
export { describeUnavailableEvents } from "./events.js";
export { describeNearCache, type NearCacheHarness } from "./near-cache.js";
export { describeSentinelNearCache, type SentinelNearCacheHarness, type SentinelTopologyHandle } from "./near-cache-sentinel.js";

/** On a Cluster, no command of the driver is answered MOVED, on every node-redis kind that makes a Cluster client. */
import { describeClusterRouting } from "@sess/driver-conformance/redis";
import { startRedisCluster } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";
import { configurations } from "./clients.js";

describeClusterRouting({
  startCluster: () => startRedisCluster(),
  configurations: (cluster) => configurations(() => "", () => cluster().urls).filter((each) => each.name.endsWith("cluster")),
  createDriver: (client, prefix) => createNodeRedisDriver({ client, prefix }),
});

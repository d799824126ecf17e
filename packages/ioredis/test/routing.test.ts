/** On a Cluster, no command of the driver is answered MOVED, on every ioredis and iovalkey kind that makes a Cluster client. */
import { describeClusterRouting } from "@sess/driver-conformance/redis";
import { startRedisCluster } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";
import { configurations } from "./clients.js";

describeClusterRouting({
  startCluster: () => startRedisCluster(),
  configurations: (cluster) => configurations(() => "", () => cluster().nodes).filter((each) => each.name.endsWith("cluster")),
  createDriver: (client, prefix) => createIoredisDriver({ client, prefix }),
});

// Compile-only check (tsc): every node-redis 5 client kind, held in a variable as applications do,
// is accepted as `client`.
import { createClient, createCluster, createSentinel } from "redis";
import { createNodeRedisDriver } from "../src/index.js";

const client = createClient();
const resp3 = createClient({ RESP: 3 });
const cluster = createCluster({ rootNodes: [] });
const sentinel = createSentinel({ name: "mymaster", sentinelRootNodes: [] });

export const drivers = [client, resp3, cluster, sentinel].map((each) => createNodeRedisDriver({ client: each }));

// Compile-only check (tsc, in `pnpm types`): every node-redis 5 and 6 client kind (RESP 2 and 3),
// held in a variable as applications do and typed by its own package's installed declarations, is
// accepted as `client` without a cast.
import { createClient, createCluster, createSentinel } from "redis";
import { createClient as createClient5, createCluster as createCluster5, createSentinel as createSentinel5 } from "redis5";
import { createNodeRedisDriver } from "../src/index.js";

const client = createClient();
const resp2 = createClient({ RESP: 2 });
const resp3 = createClient({ RESP: 3 });
const cluster = createCluster({ rootNodes: [] });
const clusterResp2 = createCluster({ rootNodes: [], RESP: 2 });
const sentinel = createSentinel({ name: "mymaster", sentinelRootNodes: [] });
const sentinelResp2 = createSentinel({ name: "mymaster", sentinelRootNodes: [], RESP: 2 });

const client5 = createClient5();
const resp3v5 = createClient5({ RESP: 3 });
const cluster5 = createCluster5({ rootNodes: [] });
const sentinel5 = createSentinel5({ name: "mymaster", sentinelRootNodes: [] });

export const drivers = [
  createNodeRedisDriver({ client }),
  createNodeRedisDriver({ client: resp2 }),
  createNodeRedisDriver({ client: resp3 }),
  createNodeRedisDriver({ client: cluster }),
  createNodeRedisDriver({ client: clusterResp2 }),
  createNodeRedisDriver({ client: sentinel }),
  createNodeRedisDriver({ client: sentinelResp2 }),
  createNodeRedisDriver({ client: client5 }),
  createNodeRedisDriver({ client: resp3v5 }),
  createNodeRedisDriver({ client: cluster5 }),
  createNodeRedisDriver({ client: sentinel5 }),
];

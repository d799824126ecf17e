// Compile-only check (tsc, in `pnpm types`): every ioredis-family client kind, held in a variable as
// applications do and typed by its own package's installed declarations, is accepted as `client`
// without a cast.
import { Cluster, Redis } from "ioredis";
import { Cluster as Cluster5, Redis as Redis5 } from "ioredis5";
import { Cluster as ValkeyCluster, Redis as ValkeyRedis, Valkey } from "iovalkey";
import { createIoredisDriver } from "../src/index.js";

const legacy: Redis = new Redis({ lazyConnect: true });
const resp3: Redis<"resp3"> = new Redis({ lazyConnect: true, replyMapping: "resp3" });
const resp2: Redis = new Redis({ lazyConnect: true, protocol: 2 });
const sentinel: Redis = new Redis({ lazyConnect: true, sentinels: [{ host: "127.0.0.1", port: 26379 }], name: "mymaster" });
const cluster: Cluster = new Cluster([], { lazyConnect: true });
const clusterResp3: Cluster<"resp3"> = new Cluster([], { lazyConnect: true, redisOptions: { replyMapping: "resp3" } });
const v5: Redis5 = new Redis5({ lazyConnect: true });
const cluster5: Cluster5 = new Cluster5([], { lazyConnect: true });
const valkey: Valkey = new Valkey({ lazyConnect: true });
const valkeyRedis: ValkeyRedis = new ValkeyRedis({ lazyConnect: true });
const valkeyCluster: ValkeyCluster = new ValkeyCluster([], { lazyConnect: true });

export const drivers = [
  createIoredisDriver({ client: legacy }),
  createIoredisDriver({ client: resp3 }),
  createIoredisDriver({ client: resp2 }),
  createIoredisDriver({ client: sentinel }),
  createIoredisDriver({ client: cluster }),
  createIoredisDriver({ client: clusterResp3 }),
  createIoredisDriver({ client: v5 }),
  createIoredisDriver({ client: cluster5 }),
  createIoredisDriver({ client: valkey }),
  createIoredisDriver({ client: valkeyRedis }),
  createIoredisDriver({ client: valkeyCluster }),
];

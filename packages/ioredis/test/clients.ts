/**
 * The clients @sess/ioredis accepts, as the test suites run them: ioredis 6 on its defaults (RESP3,
 * replyMapping "legacy"), with replyMapping "resp3" and with protocol 2; ioredis 5; iovalkey.
 * Each kind makes a standalone client; ioredis 6 (both reply mappings) and iovalkey also a Cluster client.
 */
import { Cluster, Redis } from "ioredis";
import type { ClusterNode, RedisOptions } from "ioredis";
import { Redis as Redis5 } from "ioredis5";
import type { Cluster as Cluster5 } from "ioredis5";
import { Cluster as ValkeyCluster, Redis as Valkey } from "iovalkey";
import type { ClientConfiguration } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";
import type { IoredisDriverOptions } from "../src/index.js";

export type IoredisFamilyClient = Redis | Redis<"resp3"> | Cluster | Cluster<"resp3"> | Redis5 | Cluster5 | Valkey | ValkeyCluster;

export interface IoredisKind {
  name: string;
  standalone(url: string, options?: RedisOptions): IoredisFamilyClient;
  cluster?(nodes: ClusterNode[]): IoredisFamilyClient;
}

export const IOREDIS_KINDS: readonly IoredisKind[] = [
  {
    name: "ioredis 6",
    standalone: (url, options = {}) => new Redis(url, options),
    cluster: (nodes) => new Cluster(nodes),
  },
  {
    name: "ioredis 6 replyMapping resp3",
    standalone: (url, options = {}) => new Redis(url, { ...options, replyMapping: "resp3" }),
    cluster: (nodes) => new Cluster(nodes, { redisOptions: { replyMapping: "resp3" } }),
  },
  {
    name: "ioredis 6 protocol 2",
    standalone: (url, options = {}) => new Redis(url, { ...options, protocol: 2 }),
  },
  {
    name: "ioredis 5",
    standalone: (url, options = {}) => new Redis5(url, options as object),
  },
  {
    name: "iovalkey",
    standalone: (url, options = {}) => new Valkey(url, options as object),
    cluster: (nodes) => new ValkeyCluster(nodes),
  },
];

interface Caller {
  call(command: string, ...args: string[]): Promise<unknown>;
  status: string;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  disconnect(): void;
}

/** Sends one raw command. */
export function raw(client: IoredisFamilyClient, command: string, ...args: string[]): Promise<unknown> {
  return (client as unknown as Caller).call(command, ...args);
}

/** Resolves once `client` is ready (its errors are handled from here on). */
export async function ready<C extends IoredisFamilyClient>(client: C): Promise<C> {
  const caller = client as unknown as Caller;
  caller.on("error", () => {});
  if (caller.status !== "ready") await new Promise((resolve) => caller.once("ready", resolve));
  return client;
}

/** Every kind standalone on `url`, and the kinds that make one on the cluster of `nodes()`. */
export function configurations(url: () => string, nodes: () => ClusterNode[]): ClientConfiguration<IoredisFamilyClient>[] {
  const close = (client: IoredisFamilyClient) => (client as unknown as Caller).disconnect();
  return IOREDIS_KINDS.flatMap((kind) => [
    { name: `${kind.name} standalone`, connect: () => ready(kind.standalone(url())), raw, close },
    ...(kind.cluster === undefined
      ? []
      : [{ name: `${kind.name} cluster`, connect: () => ready(kind.cluster!(nodes())), raw, close }]),
  ]);
}

/** ioredis 6 on its defaults as the shared Redis suites (replica acknowledgement, tombstones) take it. */
export const ioredisHarness = {
  name: "ioredis",
  startServer: startRedisServer,
  connect: (url: string) => ready(new Redis(url)),
  raw: (client: Redis, command: string, ...args: string[]) => client.call(command, ...args),
  close: (client: Redis) => client.disconnect(),
  createDriver: (client: Redis, options?: Omit<IoredisDriverOptions, "client">) => createIoredisDriver({ client, ...options }),
  sessionKey: (prefix: string, id: string) => createKeySchema(prefix).session(id),
};

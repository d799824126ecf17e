/**
 * The clients @sess/node-redis accepts, as the test suites run them: node-redis 6 on its default
 * RESP3 and with RESP 2 (standalone and cluster), node-redis 5 (standalone, its default RESP2).
 */
import { createClient, createCluster } from "redis";
import { createClient as createClient5 } from "redis5";
import type { ClientConfiguration } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createNodeRedisDriver } from "../src/index.js";
import type { NodeRedisClient, NodeRedisDriverOptions } from "../src/index.js";

/** Every node-redis client kind is held as what the driver accepts (their own types are checked in client-kinds.typecheck.ts). */
export type NodeRedisFamilyClient = NodeRedisClient;

const resp3 = (url: string): NodeRedisClient => createClient({ url });
const resp2 = (url: string): NodeRedisClient => createClient({ url, RESP: 2 });
const v5 = (url: string): NodeRedisClient => createClient5({ url });
const clusterResp3 = (urls: string[]): NodeRedisClient => createCluster({ rootNodes: urls.map((url) => ({ url })) });
const clusterResp2 = (urls: string[]): NodeRedisClient => createCluster({ rootNodes: urls.map((url) => ({ url })), RESP: 2 });

export interface NodeRedisKind {
  name: string;
  standalone(url: string): NodeRedisClient;
  cluster?(urls: string[]): NodeRedisClient;
}

export const NODE_REDIS_KINDS: readonly NodeRedisKind[] = [
  {
    name: "node-redis 6 RESP3",
    standalone: resp3,
    cluster: clusterResp3,
  },
  {
    name: "node-redis 6 RESP2",
    standalone: resp2,
    cluster: clusterResp2,
  },
  {
    name: "node-redis 5",
    standalone: v5,
  },
];

interface Standalone {
  sendCommand(args: string[]): Promise<unknown>;
}
interface Cluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
}
interface Lifecycle {
  on(event: "error", listener: () => void): unknown;
  connect(): Promise<unknown>;
  isOpen: boolean;
  destroy(): void;
}

/** Sends one raw command; on a cluster, routed by its first key. */
export function raw(client: NodeRedisFamilyClient, command: string, ...args: string[]): Promise<unknown> {
  return "masters" in client
    ? (client as unknown as Cluster).sendCommand(args[0], false, [command, ...args])
    : (client as unknown as Standalone).sendCommand([command, ...args]);
}

/** Connects `client` (its errors handled). */
export async function connected<C extends NodeRedisFamilyClient>(client: C): Promise<C> {
  const lifecycle = client as unknown as Lifecycle;
  lifecycle.on("error", () => {});
  await lifecycle.connect();
  return client;
}

export function close(client: NodeRedisFamilyClient): void {
  const lifecycle = client as unknown as Lifecycle;
  if (lifecycle.isOpen) lifecycle.destroy();
}

/** Every kind standalone on `url`, and the kinds that make one on the cluster of `urls()`. */
export function configurations(url: () => string, urls: () => string[]): ClientConfiguration<NodeRedisFamilyClient>[] {
  return NODE_REDIS_KINDS.flatMap((kind) => [
    { name: `${kind.name} standalone`, connect: () => connected<NodeRedisFamilyClient>(kind.standalone(url())), raw, close },
    ...(kind.cluster === undefined
      ? []
      : [{ name: `${kind.name} cluster`, connect: () => connected<NodeRedisFamilyClient>(kind.cluster!(urls())), raw, close }]),
  ]);
}

/** node-redis 6 on its defaults as the shared Redis suites (replica acknowledgement, tombstones) take it. */
export const nodeRedisHarness = {
  name: "node-redis",
  startServer: startRedisServer,
  connect: (url: string) => connected(resp3(url)),
  raw,
  close,
  createDriver: (client: NodeRedisClient, options?: Omit<NodeRedisDriverOptions, "client">) => createNodeRedisDriver({ client, ...options }),
  sessionKey: (prefix: string, id: string) => createKeySchema(prefix).session(id),
};

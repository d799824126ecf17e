/**
 * @sess/node-redis: the sess storage driver on a node-redis 5 or 6 client (`createClient`,
 * `createCluster`, `createSentinel`). A thin binding of the client to the shared Redis port.
 */
import { configError } from "@sess/core";
import type { CheckedDriver, ConnectRedisSourceOptions, KoaRedisSourceOptions, NearCacheOptions, RedisDriverOptions } from "@sess/core";
import { configValueOf, createCheckedDriver, hashOf, legacyFactories, loadOnEvery, scoredMembersOf, valuesOf, watchConnectionErrors } from "@sess/redis-shared";
import type { NearCachePort, ReplicaPort, StartupPort, TrackingConnection } from "@sess/redis-shared";

export type { CheckedDriver, LegacySession, LegacySource, NearCacheOptions, NearCacheStats, ReadyOptions, RedisDriverOptions, ReplicaAckOptions, ReplicaShortfall, VerifyOptions, VerifyReport } from "@sess/core";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis declares these with module-, RESP- and type-mapping-dependent generics
type Command = (...args: any[]) => Promise<unknown>;

/**
 * What the driver needs from a node-redis 5 or 6 client: satisfied by `createClient()`, `createCluster()`
 * and `createSentinel()` results (with any modules, scripts or RESP version).
 */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  evalSha: Command;
  eval: Command;
  hGetAll: Command;
  hmGet: Command;
  zRangeWithScores: Command;
  zRem: Command;
  /** Used for FCALL and FUNCTION LOAD when present (scripts otherwise). */
  fCall?: Command;
  functionLoad?: Command;
  /** Used by `verify()` when present. */
  configGet?: Command;
  /** Used by `replicaAck`. */
  wait?: Command;
  sendCommand?: Command;
  /** Used by `nearCache`: its own connection. */
  duplicate?: (...args: never[]) => unknown;
}

/** What the near cache uses of the connection `duplicate()` makes. */
interface Duplicate {
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: unknown) => void, bufferMode: true): Promise<unknown>;
  destroy(): void;
  isOpen: boolean;
}

/** The near cache's connection: a duplicate of a plain client (same server, credentials and TLS), RESP2, never reconnecting by itself. */
function trackingConnection(client: NodeRedisClient): TrackingConnection {
  const duplicate = client.duplicate as unknown as (overrides: object) => Duplicate;
  const connection = duplicate.call(client, {
    RESP: 2,
    maintNotifications: "disabled",
    disableOfflineQueue: true,
    name: "sess-near-cache",
    socket: { ...(client as { options?: { socket?: object } }).options?.socket, reconnectStrategy: false },
  });
  return {
    events: connection,
    connect: () => connection.connect(),
    send: (args) => connection.sendCommand(args),
    // Buffer mode: the keys as an array of buffers (or null for a flush).
    subscribe: (channel, listener) => connection.subscribe(channel, listener, true),
    close: () => {
      if (connection.isOpen) connection.destroy();
    },
  };
}

/** The address of a Sentinel's current primary, as `createSentinel().getMasterNode()` reports it. */
export interface PrimaryAddress {
  host: string;
  port: number;
}

/** `nearCache` on node-redis: on a `createSentinel()` client it also needs `primaryClient`. */
export interface NodeRedisNearCacheOptions extends NearCacheOptions {
  /**
   * Sentinel only (required there): a client, not connected, of the primary at `primary`, with the
   * node options you gave `createSentinel` (credentials, TLS), e.g.
   * `(primary) => createClient({ ...nodeClientOptions, socket: { ...nodeClientOptions.socket, ...primary } })`.
   * The driver duplicates it into its tracking connection and never connects it. node-redis keeps a
   * sentinel's node options to itself, so the driver cannot open that connection alone.
   */
  primaryClient?: (primary: PrimaryAddress) => NodeRedisClient;
}

export interface NodeRedisDriverOptions extends RedisDriverOptions {
  /** The application's connected client: `createClient()`, `createCluster()` or `createSentinel()`, after `connect()`. Left open by `close()`. */
  client: NodeRedisClient;
  nearCache?: NodeRedisNearCacheOptions;
}

/** The commands the port uses, as every node-redis client kind declares them. */
interface Commands {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hGetAll(key: string): Promise<unknown>;
  hmGet(key: string, fields: string[]): Promise<unknown>;
  zRangeWithScores(key: string, start: number, stop: number): Promise<unknown>;
  zRem(key: string, members: string[]): Promise<unknown>;
  fCall?(name: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  functionLoad?(library: string): Promise<unknown>;
  configGet?(parameter: string): Promise<unknown>;
  wait?(replicas: number, timeout: number): Promise<unknown>;
  /** Cluster: the client of one node. */
  nodeClient?(node: unknown): Promise<{ functionLoad(library: string): Promise<unknown> }> | { functionLoad(library: string): Promise<unknown> };
  /** Cluster: routed by `firstKey`. */
  sendCommand?(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>;
}

interface State {
  isOpen: boolean;
  isReady?: boolean;
  /** Cluster only: the masters and their node clients once connected. */
  masters?: { client?: unknown }[];
}

function readiness(client: State): boolean {
  if (!client.isOpen) return false;
  if (typeof client.isReady === "boolean") return client.isReady;
  // Cluster: open, and every master's node client connected (a down master would otherwise queue).
  return (client.masters ?? []).every((master) => {
    const node = master.client as { isReady?: unknown } | undefined;
    return node === undefined || typeof node.isReady !== "boolean" || node.isReady;
  });
}

/** ", host:port" of a standalone client (from `socket` or `url`, never its credentials); "" for clusters and sentinels. */
function endpointOf(client: State): string {
  const options = (client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown; path?: unknown } } }).options;
  const socket = options?.socket;
  if (typeof socket?.path === "string") return `, ${socket.path}`;
  if (socket?.host !== undefined || socket?.port !== undefined) return `, ${String(socket.host ?? "localhost")}:${String(socket.port ?? 6379)}`;
  if (typeof options?.url === "string") {
    try {
      const url = new URL(options.url);
      return `, ${url.hostname}:${url.port || "6379"}`;
    } catch {
      return "";
    }
  }
  return "";
}

/** FCALL (routed by its key on a cluster) and FUNCTION LOAD on each master, when the client has both; none otherwise (scripts only). */
function functionsOf(client: Commands & State): Pick<StartupPort, "fcall" | "functionLoad"> {
  const { fCall, functionLoad, nodeClient } = client;
  if (typeof fCall !== "function" || typeof functionLoad !== "function") return {};
  return {
    fcall: (name, keys, args) => fCall.call(client, name, { keys, arguments: args }),
    functionLoad: (library) =>
      client.masters === undefined || typeof nodeClient !== "function"
        ? functionLoad.call(client, library)
        : loadOnEvery(client.masters, async (master) => (await nodeClient.call(client, master)).functionLoad(library)),
  };
}

/** node-redis 6's per-command timeout when the application sets none (`commandOptions.timeout`). */
const NODE_REDIS_DEFAULT_TIMEOUT = 5_000;

/** What the driver reads of a node-redis client's command options (`_commandOptions`: the client's and the cluster's own field). */
interface CommandOptionsOf {
  withCommandOptions?(options: object): unknown;
  readonly commandOptions?: { timeout?: unknown };
  readonly _commandOptions?: { timeout?: unknown };
  readonly options?: { commandOptions?: { timeout?: unknown } };
  readonly _options?: { commandOptions?: { timeout?: unknown } };
}

/**
 * The client the driver sends its commands through. node-redis 6 gives every command a 5-s timeout
 * unless the application sets one: an `AbortSignal.timeout` and a listener armed per command, which
 * bound only the wait before the command is written and cost 3.4-12.5 µs of CPU per load (more
 * under older Node versions). sess sends only while the client is ready and runs every operation
 * under the manager's deadline (`operationTimeout`), so its commands go through a proxy of the
 * client without that default (the same connection). A timeout the application set is kept, and a
 * client without the default (node-redis 5) is used as it is.
 */
function commandsOf(client: Commands & State): Commands & State {
  const holder = client as CommandOptionsOf;
  const current = holder.commandOptions ?? holder._commandOptions;
  const asked = (holder.options ?? holder._options)?.commandOptions?.timeout;
  if (typeof holder.withCommandOptions !== "function" || current?.timeout !== NODE_REDIS_DEFAULT_TIMEOUT || asked !== undefined) return client;
  return holder.withCommandOptions({ ...current, timeout: undefined }) as Commands & State;
}

/** The driver, plus `ready()` (wait for the client's connection) and `verify()`: the start-up check. */
export type NodeRedisDriver = CheckedDriver;

/**
 * How the near cache opens its connection: a duplicate of the client itself (a plain client), or
 * of `primaryClient(current primary)` (a sentinel, whose connections are its own); none on a cluster.
 */
function trackingSource(options: NodeRedisDriverOptions): (() => TrackingConnection) | undefined {
  const client = options.client as unknown as State & { getMasterNode?: () => PrimaryAddress | undefined };
  const primaryClient = options.nearCache?.primaryClient;
  const sentinel = typeof client.getMasterNode === "function";
  if (options.nearCache === undefined) return undefined;
  if (primaryClient !== undefined && typeof primaryClient !== "function") {
    throw configError("nearCache.primaryClient", "expected a function (primary) => a node-redis client of that primary, not connected");
  }
  if (!sentinel) {
    if (primaryClient !== undefined) throw configError("nearCache.primaryClient", "is only for a createSentinel() client: remove it");
    return client.masters === undefined && typeof options.client.duplicate === "function" ? () => trackingConnection(options.client) : undefined;
  }
  if (primaryClient === undefined) {
    throw configError(
      "nearCache",
      "on a node-redis sentinel client needs nearCache.primaryClient: (primary) => createClient({ ...nodeClientOptions, socket: { ...nodeClientOptions.socket, ...primary } }), with the node options you gave createSentinel",
    );
  }
  return () => {
    const primary = client.getMasterNode!();
    if (primary === undefined) throw new Error("the sentinel client knows no primary yet");
    return trackingConnection(primaryClient({ host: primary.host, port: primary.port }));
  };
}

export function createNodeRedisDriver(options: NodeRedisDriverOptions): NodeRedisDriver {
  const client = options.client as unknown as Commands & State;
  const commands = commandsOf(client);
  const openTracking = trackingSource(options);
  const port: StartupPort & ReplicaPort & NearCachePort = {
    name: "node-redis",
    events: client,
    ...(openTracking === undefined ? {} : { trackingConnection: openTracking }),
    // One server holds every key: a plain or sentinel client, not a cluster (which has `masters`).
    oneServer: client.masters === undefined,
    isReady: () => readiness(client),
    describeState: () => `isOpen ${String(client.isOpen)}, isReady ${String(client.isReady ?? "n/a")}${endpointOf(client)}${client.isOpen ? "" : "; call client.connect()"}`,
    ...watchConnectionErrors(client),
    evalsha: (sha1, keys, args) => commands.evalSha(sha1, { keys, arguments: args }),
    eval: (source, keys, args) => commands.eval(source, { keys, arguments: args }),
    ...functionsOf(commands),
    hgetall: async (key) => hashOf(await commands.hGetAll(key)),
    hmget: async (key, fields) => valuesOf(await commands.hmGet(key, fields)),
    zrangeWithScores: async (key) => scoredMembersOf(await commands.zRangeWithScores(key, 0, -1)),
    zrem: async (key, members) => {
      await commands.zRem(key, members);
    },
    configGet: async (name) => (typeof commands.configGet === "function" ? configValueOf(await commands.configGet(name), name) : null),
    waitForReplicas: async (key, replicas, timeout) => {
      // A cluster routes WAIT to the node that holds `key`; a client or sentinel has one connection to its primary.
      if (client.masters !== undefined && commands.sendCommand !== undefined) {
        return Number(await commands.sendCommand(key, false, ["WAIT", String(replicas), String(timeout)]));
      }
      if (commands.wait === undefined) throw new Error("the client has no WAIT command");
      return Number(await commands.wait(replicas, timeout));
    },
  };
  return createCheckedDriver(port, options);
}

/** The client a node-redis-based legacy store wrote to (node-redis 5 `createClient()`; Redis 6.2 or later): only `sendCommand` is used. */
export interface LegacyRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** `fromConnectRedis({ client, secret, … })`: express-session's and connect-redis's options and the legacy store's client. */
export type ConnectRedisOptions = ConnectRedisSourceOptions & { client: LegacyRedisClient };
/** `fromKoaRedis({ client, keys, … })`: koa-session's options and the legacy store's client. */
export type KoaRedisOptions = KoaRedisSourceOptions & { client: LegacyRedisClient };

/** The `legacy` option: continue express-session + connect-redis or koa-session + koa-redis sessions (root README "Switching from express-session / koa-session"). */
export const { fromConnectRedis, fromKoaRedis } = legacyFactories<LegacyRedisClient>("a node-redis client", "sendCommand", (client, command) =>
  client.sendCommand(command),
);

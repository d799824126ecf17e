/**
 * @sess/ioredis: the sess storage driver on an ioredis 5 or 6 client (`Redis`, `Cluster`, or a
 * Sentinel `Redis`, any protocol and reply mapping) or an iovalkey client. A thin binding of the
 * client to the shared Redis port.
 */
import { configError } from "@sess/core";
import type { CheckedDriver, ConnectRedisSourceOptions, KoaRedisSourceOptions, RedisDriverOptions } from "@sess/core";
import { configValueOf, createCheckedDriver, hashOf, legacyFactories, loadOnEvery, scoredMembersOf, valuesOf, watchConnectionErrors } from "@sess/redis-shared";
import type { NearCachePort, ReplicaPort, StartupPort, TrackingConnection } from "@sess/redis-shared";

export type { CheckedDriver, LegacySession, LegacySource, NearCacheOptions, NearCacheStats, ReadyOptions, RedisDriverOptions, ReplicaAckOptions, ReplicaShortfall, VerifyOptions, VerifyReport } from "@sess/core";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the clients declare these as overloads whose reply types depend on the major, the reply mapping and the arguments
type Command = (...args: any[]) => Promise<unknown>;

/**
 * What the driver needs from an ioredis-family client: satisfied by ioredis 5 and 6 `Redis` and
 * `Cluster` (`Redis<"resp3">` and `protocol: 2` included) and by iovalkey's `Redis`/`Valkey` and `Cluster`.
 * Replies are read the same whatever the protocol or reply mapping.
 */
export interface IoredisClient {
  readonly status: string;
  evalsha: Command;
  eval: Command;
  hgetall: Command;
  /** Used by `load`, and for FCALL and FUNCTION LOAD, when present (every ioredis and iovalkey client has it); `hgetall` and scripts otherwise. */
  call?: Command;
  hmget: Command;
  zrange: Command;
  zrem: Command;
  config: Command;
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- only for replicaAck: PTTL then WAIT, sent together to the key's node */
  pipeline: (...args: any[]) => any;
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- only for nearCache: its own connection, options of the client's major */
  duplicate?: (...args: any[]) => any;
}

/** What the near cache uses of the connection `duplicate()` makes. */
interface Duplicate {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
}

/**
 * The near cache's connection: a duplicate of the client (same server, Sentinel included, same
 * credentials and TLS), RESP2, connected here, never reconnecting or queueing by itself.
 */
function trackingConnection(client: IoredisClient): TrackingConnection {
  const connection = client.duplicate!({
    protocol: 2,
    replyMapping: "legacy",
    lazyConnect: true,
    autoResubscribe: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    reconnectOnError: () => false,
    connectionName: "sess-near-cache",
  }) as Duplicate;
  return {
    events: connection,
    connect: () => connection.connect(),
    send: ([command, ...args]) => connection.call(command!, ...args),
    subscribe: async (channel, listener) => {
      // The Buffer variant: the keys as an array (or null for a flush), not joined into one string.
      connection.on("messageBuffer", (from, message) => {
        if (String(from) === channel) listener(message);
      });
      return connection.subscribe(channel);
    },
    close: () => connection.disconnect(),
  };
}

interface WaitPipeline {
  pttl(key: string): WaitPipeline;
  wait(replicas: number, timeout: number): WaitPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export interface IoredisDriverOptions extends RedisDriverOptions {
  /**
   * The application's client: `new Redis(...)`, `new Redis({ sentinels, name })` or `new Cluster(...)`
   * of ioredis 5 or 6, or of iovalkey. Left open by `close()`.
   */
  client: IoredisClient;
}

/** ", host:port" of a standalone client (Sentinel and Cluster clients have several). */
function endpointOf(client: IoredisClient): string {
  const options = (client as { options?: { host?: unknown; port?: unknown; sentinels?: unknown; path?: unknown } }).options;
  if (!options || options.sentinels || typeof options.port !== "number") return "";
  return typeof options.path === "string" ? `, ${options.path}` : `, ${String(options.host)}:${options.port}`;
}

/** What the batching uses of a client's socket (`net.Socket`, `tls.TLSSocket`). */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Batches the socket writes of the loads sent in one turn of the event loop into one write, as
 * node-redis does for every command: ioredis writes each command to its socket at once (one
 * syscall each), so the loads of concurrent requests, each sent from its own I/O callback, cost a
 * write apiece. The first load of a turn corks the client's socket; `setImmediate`, which runs once
 * the turn's I/O callbacks are done, uncorks it and the socket sends them together. Commands are
 * queued and answered by the client as usual, under core's deadline. A client without one socket
 * (Cluster) writes as usual.
 */
function createLoadBatcher(client: object): () => void {
  let corked: Corkable | null = null;
  const flush = (): void => {
    const stream = corked;
    corked = null;
    stream?.uncork();
  };
  return () => {
    if (corked !== null) return;
    const stream = (client as { stream?: Partial<Corkable> | null }).stream;
    if (typeof stream?.cork !== "function" || typeof stream.uncork !== "function") return;
    stream.cork();
    corked = stream as Corkable;
    setImmediate(flush);
  };
}

/** FCALL through `call` (routed by its key on a Cluster), and FUNCTION LOAD on each primary. */
function functionsOf(client: IoredisClient & { call: Command }, batch: () => void): Pick<StartupPort, "fcall" | "functionLoad"> {
  const cluster = client as { isCluster?: unknown; nodes?: (role: string) => { call: Command }[] };
  return {
    fcall: (name, keys, args) => {
      batch();
      // Lower case: iovalkey and ioredis before 5.9 find the keys of a command (keyPrefix, Cluster slot) by its lower-case name only.
      return client.call("fcall", name, keys.length, ...keys, ...args);
    },
    functionLoad: (library) =>
      loadOnEvery(cluster.isCluster === true && typeof cluster.nodes === "function" ? cluster.nodes("master") : [client], (node) => node.call("FUNCTION", "LOAD", library)),
  };
}

/** The driver, plus `ready()` (wait for the client's connection) and `verify()`: the start-up check. */
export type IoredisDriver = CheckedDriver;

export function createIoredisDriver(options: IoredisDriverOptions): IoredisDriver {
  const client = options.client;
  // The scripts build keys of their own (a user's sessions, index entries, the sessions a login ends)
  // from ARGV, which keyPrefix does not reach, and the near cache's tracking reports keys as stored:
  // refused rather than half applied.
  const keyPrefix = (client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix;
  if (typeof keyPrefix === "string" && keyPrefix !== "") {
    const joined = `${keyPrefix}${options.prefix ?? "sess"}`;
    const prefix = joined.replace(/[{}]/g, "");
    throw configError(
      "client",
      `has keyPrefix "${keyPrefix}", which the keys the driver's scripts build themselves (user sessions, index entries) would not get: ` +
        `remove it from the client and pass the driver's prefix option instead: prefix: "${prefix}"` +
        (prefix === joined ? " keeps the session keys as they are" : ` (a prefix holds no "{" or "}": the session keys change)`),
    );
  }
  const batch = createLoadBatcher(client);
  // A load goes out through call() as "HGETALL": the raw reply, which hashOf reads in one pass,
  // without the client's hgetall transformer building an object first (reply transformers are keyed
  // by the lower-case name; should that change, the object answered is read just as well). A Cluster
  // needs the lower-case name: iovalkey finds a command's key, so its slot, by that name only, and
  // would send "HGETALL" to any node and take a MOVED redirect (a second round trip) for most keys.
  const loadCommand = (client as { isCluster?: unknown }).isCluster === true ? "hgetall" : "HGETALL";
  const port: StartupPort & ReplicaPort & NearCachePort = {
    name: "ioredis",
    events: client,
    ...(typeof client.duplicate === "function" ? { trackingConnection: () => trackingConnection(client) } : {}),
    // One server holds every key: everything but a Cluster.
    oneServer: (client as { isCluster?: unknown }).isCluster !== true,
    isReady: () => client.status === "ready",
    describeState: () => `status "${client.status}"${endpointOf(client)}`,
    ...watchConnectionErrors(client),
    evalsha: (sha1, keys, args) => {
      batch();
      return client.evalsha(sha1, keys.length, ...keys, ...args);
    },
    eval: (source, keys, args) => {
      batch();
      return client.eval(source, keys.length, ...keys, ...args);
    },
    ...(typeof client.call === "function" ? functionsOf(client as IoredisClient & { call: Command }, batch) : {}),
    hgetall: async (key) => {
      batch();
      return hashOf(await (client.call === undefined ? client.hgetall(key) : client.call(loadCommand, key)));
    },
    hmget: async (key, fields) => valuesOf(await client.hmget(key, ...fields)),
    zrangeWithScores: async (key) => scoredMembersOf(await client.zrange(key, 0, -1, "WITHSCORES")),
    zrem: async (key, members) => {
      await client.zrem(key, ...members);
    },
    configGet: async (name) => configValueOf(await client.config("GET", name), name),
    waitForReplicas: async (key, replicas, timeout) => {
      // PTTL names the key, so a Cluster sends the pipeline to the node that holds it.
      const results = await (client.pipeline() as WaitPipeline).pttl(key).wait(replicas, timeout).exec();
      const [error, acknowledged] = results?.[1] ?? [new Error("WAIT: no reply"), null];
      if (error) throw error;
      return Number(acknowledged);
    },
  };
  return createCheckedDriver(port, options);
}

/** The client an ioredis-based legacy store wrote to (ioredis 5 or 6, iovalkey; Redis 6.2 or later): only `call` is used. */
export interface LegacyRedisClient {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** Options of `fromConnectRedis`: express-session's and connect-redis's, and the legacy store's client. */
export type ConnectRedisOptions = ConnectRedisSourceOptions & { client: LegacyRedisClient };
/** Options of `fromKoaRedis`: koa-session's, and the legacy store's client. */
export type KoaRedisOptions = KoaRedisSourceOptions & { client: LegacyRedisClient };

/** The `legacy` option: continue express-session + connect-redis or koa-session + koa-redis sessions (root README "Switching from express-session / koa-session"). */
export const { fromConnectRedis, fromKoaRedis } = legacyFactories<LegacyRedisClient>("an ioredis client", "call", (client, [command, ...args]) =>
  client.call(command!, ...args),
);

/**
 * The client port: the handful of Redis operations the shared driver runs on. Each driver package
 * binds its client (ioredis, node-redis) to this interface and nothing else.
 */
import { SessionError, toStoreError } from "@sess/core";
import { connectionErrorText } from "./connection.js";
import type { EmbeddedScript } from "./lua.generated.js";

export interface RedisPort {
  /** Client name for messages: "ioredis", "node-redis". */
  readonly name: string;
  /** True when the client is connected and would send a command now (not into an offline queue). */
  isReady(): boolean;
  /** A short description of the client's state for error messages ("reconnecting", "closed"…). */
  describeState(): string;
  /** The client's last connection error while not ready (connection.ts), or null. */
  lastError?(): unknown;
  /** Stops watching the client for connection errors (called by the driver's `close()`). */
  unwatch?(): void;
  /**
   * True when one server holds every key (a standalone or Sentinel client): a script may then touch
   * keys it builds itself, and the session scripts run the user-sessions, index and limit steps
   * inline (lua/include/steps.lua). False for a Cluster (keys of different slots, several nodes).
   */
  readonly oneServer?: boolean;
  /** EVALSHA; the promise rejects with the server's error (NOSCRIPT included). */
  evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown>;
  /** EVAL with the full script text. */
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /** FCALL (Redis ≥ 7.0), when the client can send it; the promise rejects with the server's error. */
  fcall?(name: string, keys: string[], args: string[]): Promise<unknown>;
  /** FUNCTION LOAD of a library on every primary the client writes to (the one server, or each Cluster primary). */
  functionLoad?(library: string): Promise<unknown>;
  /** HGETALL: an empty object when the key does not exist. */
  hgetall(key: string): Promise<Record<string, string>>;
  /** HMGET: one value or null per field, in order. */
  hmget(key: string, fields: string[]): Promise<(string | null)[]>;
  /** ZRANGE key 0 -1 WITHSCORES, lowest score first. */
  zrangeWithScores(key: string): Promise<{ member: string; score: number }[]>;
  /** ZREM. */
  zrem(key: string, members: string[]): Promise<void>;
}

/** What running a script needs of a port (a legacy store's client is bound to this much: legacy.ts). */
export type ScriptPort = Pick<RedisPort, "evalsha" | "eval" | "fcall" | "functionLoad">;

/** Ports whose server refused functions (Redis < 7.0, or an ACL user without FCALL or FUNCTION LOAD): scripts from then on. */
const scriptsOnly = new WeakSet<ScriptPort>();
/** Per port, the library loads under way: concurrent calls that find a function missing wait for one load. */
const loads = new WeakMap<ScriptPort, Map<string, Promise<boolean>>>();

/**
 * Runs a script. Where the port can (`fcall` and `functionLoad`), as the function of the script's
 * library (FCALL): the library is loaded on the first "Function not found" (a new server, a restart
 * without persistence, FUNCTION FLUSH) and the call sent again (by EVALSHA when the load fails for
 * another reason, e.g. out of memory); a server that refuses functions
 * (Redis < 7.0: unknown command; an ACL user without FCALL or FUNCTION LOAD: NOPERM) makes the
 * port run scripts from then on. As a script: by SHA1, falling back to EVAL only when the server
 * answers NOSCRIPT. Either way a call that failed ran nothing, so sending it again is safe. Refuses
 * a call with the wrong number of keys.
 */
export async function runScript(
  port: ScriptPort,
  script: EmbeddedScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  if (keys.length !== script.numkeys) {
    throw new SessionError("STORE_UNAVAILABLE", `${script.name} takes ${script.numkeys} keys, was given ${keys.length}`);
  }
  if (port.fcall !== undefined && port.functionLoad !== undefined && !scriptsOnly.has(port)) {
    try {
      return await port.fcall(script.library.name, keys, args);
    } catch (error) {
      if (isFunctionsRefused(error)) scriptsOnly.add(port);
      else if (!isFunctionMissing(error)) throw error;
      else if (await loadLibrary(port, script)) return await port.fcall(script.library.name, keys, args);
    }
  }
  try {
    return await port.evalsha(script.sha1, keys, args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return port.eval(script.source, keys, args);
  }
}

/**
 * Loads the library of `script` (one load at a time per port and library). False when the load
 * failed: refused (the port runs scripts from then on), or for another reason (out of memory, a
 * Cluster primary down...), when the call at hand runs by EVALSHA, which its FCALL left undone.
 */
function loadLibrary(port: ScriptPort, script: EmbeddedScript): Promise<boolean> {
  let pending = loads.get(port);
  if (pending === undefined) loads.set(port, (pending = new Map()));
  const name = script.library.name;
  let load = pending.get(name);
  if (load === undefined) {
    load = port.functionLoad!(script.library.source).then(
      () => true,
      (error: unknown) => {
        if (isLibraryLoaded(error)) return true;
        if (isFunctionsRefused(error)) scriptsOnly.add(port);
        return false;
      },
    );
    const done = (): void => {
      pending.delete(name);
    };
    load.then(done, done);
    pending.set(name, load);
  }
  return load;
}

/** FUNCTION LOAD on each of `nodes` (a Cluster's primaries), together: a node that already holds the library counts as loaded. */
export async function loadOnEvery<N>(nodes: readonly N[], load: (node: N) => Promise<unknown>): Promise<void> {
  await Promise.all(
    nodes.map((node) =>
      load(node).catch((error: unknown) => {
        if (!isLibraryLoaded(error)) throw error;
      }),
    ),
  );
}

/** A thrown value's message. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isNoScript(error: unknown): boolean {
  return messageOf(error).startsWith("NOSCRIPT");
}

/** FCALL of a function the server does not hold (its library not loaded there yet). */
export function isFunctionMissing(error: unknown): boolean {
  return /^ERR Function not found/i.test(messageOf(error));
}

/** FUNCTION LOAD of a library the server already holds (another caller loaded it first). */
export function isLibraryLoaded(error: unknown): boolean {
  return /^ERR Library '[^']*' already exists/i.test(messageOf(error));
}

/**
 * The server will not run functions for this client: FCALL or FUNCTION unknown (Redis < 7.0, or
 * renamed away), or the ACL user may not run FCALL or FUNCTION LOAD (NOPERM naming the command;
 * NOPERM about keys, or about a command a function runs, is not this).
 */
export function isFunctionsRefused(error: unknown): boolean {
  const message = messageOf(error);
  if (/^ERR unknown command [`']?(FCALL|FUNCTION)\b/i.test(message)) return true;
  return message.startsWith("NOPERM") && /'(fcall|function\|load|function)'/i.test(message);
}

/** WRONGTYPE: a key holds a value of another type (corrupt or foreign data). */
export function isWrongType(error: unknown): boolean {
  return messageOf(error).startsWith("WRONGTYPE");
}

/** Server error prefixes that mean "the store cannot serve now" (kept for messages; all failures map to STORE_UNAVAILABLE). */
const UNAVAILABLE_PREFIXES = ["LOADING", "MISCONF", "OOM", "READONLY", "NOPERM", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "BUSY", "NOAUTH"];

/**
 * Classifies anything the client threw. A `SessionError` passes through; everything else (connection
 * refused or closed, timeouts, LOADING, MISCONF, OOM, READONLY, NOPERM, CLUSTERDOWN, TRYAGAIN, any other
 * server error) is `STORE_UNAVAILABLE` with the original as `cause`.
 */
export function storeError(port: RedisPort, operation: string, error: unknown): SessionError {
  const message = messageOf(error);
  const known = UNAVAILABLE_PREFIXES.find((prefix) => message.startsWith(prefix));
  return toStoreError(`${port.name} ${operation}`, error, known === undefined ? message : `${known}: ${message}`);
}

/** Fails at once when the client is not ready, instead of waiting in its offline queue. */
export function assertReady(port: RedisPort, operation: string): void {
  if (!port.isReady()) {
    const cause = port.lastError?.() ?? null;
    const last = cause === null ? "" : `; last connection error: ${connectionErrorText(cause)}`;
    throw new SessionError(
      "STORE_UNAVAILABLE",
      `${port.name}: ${operation} refused: the Redis client is not ready (${port.describeState()})${last}`,
      cause === null ? undefined : { cause },
    );
  }
}

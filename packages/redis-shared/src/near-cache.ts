/**
 * The opt-in near cache: session records kept in this process's memory, served by `load` only while
 * Redis's invalidation channel is known to be live, and never past `maxAge`.
 *
 * The channel is one extra connection (a duplicate of the application's client, RESP2, made by the
 * binding) that enables `CLIENT TRACKING on REDIRECT <its own id> BCAST PREFIX <session keys>` and
 * subscribes to `__redis__:invalidate`. Broadcast mode reports every change of a key under the
 * prefix, whoever made it and whichever connection read it, so the application's own client needs
 * no tracking and its reconnects only need the cache emptied. A change reports the key names; a
 * FLUSHDB/FLUSHALL a null message, which empties the cache.
 *
 * Safety: the cache serves nothing while the connection is opening, and is emptied (and the
 * connection re-opened, with a back-off) on any error, close or reconnect of either connection. A
 * load stores what it read only if its session was not invalidated while it was in flight (each load
 * holds a ticket, marked stale by an invalidation of its key) and if the cache was not emptied
 * since it began (an epoch counter, bumped on every flush, loss and re-opening). The driver's own
 * writes forget their sessions before and after they run. Writes never read the cache: the
 * update-only scripts stay the authority. Entries are found by session id (`slotOf`): an
 * invalidation's key names are turned into ids (keys.ts), and a hit builds no key.
 */
import { errorMonitor } from "node:events";
import { TAG_LENGTH, configError } from "@sess/core";
import type { NearCacheOptions, NearCacheStats, SessionDriver, SessionRecord, WriteResult } from "@sess/core";
import type { KeySchema } from "./keys.js";
import type { RedisPort } from "./port.js";
import { positiveInteger } from "./acknowledgement.js";

/** The channel Redis publishes invalidations on (RESP2, with REDIRECT). */
export const INVALIDATION_CHANNEL = "__redis__:invalidate";
/** How long the tracking connection may take to connect, enable tracking and subscribe. */
const OPEN_TIMEOUT_MS = 5_000;
/** Back-off between attempts to re-open it. */
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;

/**
 * One dedicated connection, made by the binding from the application's client (`duplicate()`),
 * RESP2, not yet connected, that never reconnects by itself and never queues commands offline.
 */
export interface TrackingConnection {
  /** What emits "error", "close", "end", "reconnecting" for this connection. */
  readonly events: unknown;
  connect(): Promise<unknown>;
  /** One command, e.g. `["CLIENT", "ID"]`. */
  send(args: string[]): Promise<unknown>;
  /** SUBSCRIBE; `listener` gets each message's payload as the client decodes it (key names, or null). */
  subscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>;
  /** Drops the connection at once. */
  close(): void;
}

/** What a binding adds to its port for the near cache. */
export interface NearCachePort extends RedisPort {
  /** A new tracking connection; absent when the client cannot make one. */
  trackingConnection?(): TrackingConnection;
  /** The application's client, watched for errors, closes and reconnects. */
  readonly events?: unknown;
}

interface Emitter {
  on(event: string | symbol, listener: (value?: unknown) => void): unknown;
  off?(event: string | symbol, listener: (value?: unknown) => void): unknown;
}

const LOSS_EVENTS = ["close", "end", "reconnecting"] as const;

/**
 * Calls `lost` on every error, close or reconnect `events` emits (errors watched, not handled: see
 * connection.ts). Returns what stops watching.
 */
function watchLoss(events: unknown, lost: () => void): () => void {
  const emitter = events as Partial<Emitter> | null;
  if (!emitter || typeof emitter.on !== "function") return () => {};
  const names = [errorMonitor, ...LOSS_EVENTS];
  for (const event of names) emitter.on(event, lost);
  return () => {
    for (const event of names) emitter.off?.(event, lost);
  };
}

/** Validates `nearCache`; undefined when not given. */
export function nearCacheOptions(options: NearCacheOptions | undefined): NearCacheOptions | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") throw configError("nearCache", "expected { maxEntries, maxAge } (positive integers; maxAge in ms)");
  return {
    maxEntries: positiveInteger("nearCache.maxEntries", options.maxEntries),
    maxAge: positiveInteger("nearCache.maxAge", options.maxAge),
  };
}

/** Taken by a load before it reads: what it reads is stored only if its session was not invalidated since. */
export interface Ticket {
  readonly id: string;
  readonly epoch: number;
  readonly at: number;
  stale: boolean;
}

export interface NearCache {
  /**
   * Whether a read of session `id` may find it here: the channel is live and holds an entry for
   * `id`. Only then does a load wait for `turn()` and `read(id)`; otherwise it goes to Redis at once.
   */
  holds(id: string): boolean;
  /**
   * Resolves after the I/O callbacks of this turn of the event loop (shared by the reads of the
   * turn): an invalidation that reached the tracking connection's socket together with another
   * reply (a foreign write's, the request's) is applied before a read that waited for it.
   */
  turn(): Promise<void>;
  /**
   * The record of session `id` (frozen: every hit answers the same object until the session
   * changes) if the channel is live and the entry younger than `maxAge`; call it after `turn()`.
   * Entries are found by session id, not key: a hit builds no key.
   */
  read(id: string): SessionRecord | undefined;
  /** Taken before a load of session `id` reads; every ticket is settled once. */
  ticket(id: string): Ticket;
  /**
   * Ends a load: stores the live session it read, frozen by the caller (none when undefined),
   * unless its session was invalidated, everything dropped or the channel lost since its ticket.
   */
  settle(ticket: Ticket, record: SessionRecord | undefined): void;
  /** Drops the sessions `ids` and keeps loads of them in flight from storing. */
  forget(ids: readonly string[]): void;
  /** Drops everything and keeps loads in flight from storing. */
  clear(): void;
  stats(): NearCacheStats;
  close(): void;
}

type Entry = { record: SessionRecord; at: number };

/**
 * Where the entry of session `id` is kept: a small integer made of four characters of the id's
 * digest part (7 bits each), not the id itself. A lookup by a string the process has not hashed
 * yet (every request's id is a new string) costs V8 a hash of the whole string, several times a
 * lookup by integer. Two ids may share a slot: an entry answers only its own id (its record's
 * `id`), a new entry replaces the other, and dropping a slot drops whichever it holds, so a shared
 * slot costs a miss, never a wrong answer.
 */
function slotOf(id: string): number {
  const at = TAG_LENGTH; // the tag is shared by a session's ids across rotations: the digest is not
  return (((id.charCodeAt(at) & 127) * 128 + (id.charCodeAt(at + 1) & 127)) * 128 + (id.charCodeAt(at + 2) & 127)) * 128 + (id.charCodeAt(at + 3) & 127);
}

/** What `read` answers when nothing is cached for the session. */

/**
 * The session ids of an invalidation message's key names, or null for "everything" (a flush, or a
 * payload not understood). A key under the prefix that is not a session key drops nothing.
 */
function idsOf(message: unknown, keys: KeySchema): string[] | null {
  if (!Array.isArray(message)) return null;
  const ids: string[] = [];
  for (const key of message) {
    const id = keys.sessionIdOf(typeof key === "string" ? key : Buffer.isBuffer(key) ? key.toString() : String(key));
    if (id !== null) ids.push(id);
  }
  return ids;
}

export function createNearCache(options: NearCacheOptions, port: NearCachePort, keys: KeySchema): NearCache {
  const open = port.trackingConnection;
  if (port.oneServer !== true) {
    throw configError("nearCache", `is not available on a Redis Cluster (${port.name}): remove it, or use a standalone or Sentinel client`);
  }
  if (open === undefined) throw configError("nearCache", `needs a client that can open a second connection (${port.name} client without duplicate())`);
  const { maxEntries, maxAge } = options;
  const prefix = keys.sessionPrefix;
  /** By slot (`slotOf`), least recently used first. */
  const entries = new Map<number, Entry>();
  /** The tickets of the loads in flight, by session id. */
  const loading = new Map<string, Set<Ticket>>();
  let epoch = 0;
  let live = false;
  let closed = false;
  let connection: TrackingConnection | null = null;
  let generation = 0;
  let retryMs = RETRY_MIN_MS;
  let retry: NodeJS.Timeout | undefined;
  /** Resolves in this turn's check phase (after its I/O callbacks); shared by the loads of the turn. */
  let turn: Promise<void> | null = null;
  const nextTurn = (): Promise<void> =>
    (turn ??= new Promise((resolve) =>
      setImmediate(() => {
        turn = null;
        resolve();
      }),
    ));

  function get(id: string): SessionRecord | undefined {
    if (!live || !port.isReady()) return undefined;
    const slot = slotOf(id);
    const entry = entries.get(slot);
    if (entry === undefined || entry.record.id !== id) return undefined;
    entries.delete(slot);
    if (performance.now() - entry.at >= maxAge) return undefined;
    entries.set(slot, entry); // most recently used last
    return entry.record;
  }

  /** Drops the entries of `ids` (everything when null) and keeps the loads of them in flight from storing. */
  function invalidate(ids: readonly string[] | null): void {
    if (ids === null) {
      epoch++;
      entries.clear();
      return;
    }
    for (const id of ids) {
      entries.delete(slotOf(id)); // whichever session it holds: dropping one more is safe
      const tickets = loading.get(id);
      if (tickets !== undefined) for (const ticket of tickets) ticket.stale = true;
    }
  }

  /** The channel is down: nothing served, everything dropped, the connection closed and re-opened later. */
  function lose(): void {
    live = false;
    invalidate(null);
    generation++;
    const previous = connection;
    connection = null;
    previous?.close();
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void reopen();
    }, retryMs);
    retry.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  async function reopen(): Promise<void> {
    if (closed) return;
    const mine = ++generation;
    const lost = () => {
      if (mine === generation) lose();
    };
    let current: TrackingConnection;
    try {
      current = open!.call(port);
    } catch {
      lost();
      return;
    }
    connection = current;
    // Our own connection: its errors are handled here (and end in `lose`).
    (current.events as Partial<Emitter>).on?.("error", () => {});
    watchLoss(current.events, lost);
    const timeout = setTimeout(lost, OPEN_TIMEOUT_MS);
    timeout.unref();
    try {
      await current.connect();
      // Only on a primary: a Sentinel client may reach a demoted one for a moment (its data lags).
      const role = await current.send(["ROLE"]);
      if (!Array.isArray(role) || String(role[0]) !== "master") throw new Error("not a primary");
      const id = String(await current.send(["CLIENT", "ID"]));
      await current.send(["CLIENT", "TRACKING", "on", "REDIRECT", id, "BCAST", "PREFIX", prefix]);
      await current.subscribe(INVALIDATION_CHANNEL, (message) => {
        if (mine === generation) invalidate(idsOf(message, keys));
      });
    } catch {
      lost();
      return;
    } finally {
      clearTimeout(timeout);
    }
    if (mine !== generation) return;
    if (!port.isReady()) {
      lost();
      return;
    }
    // Tracking is on and the subscription confirmed: loads that begin from here on may store.
    epoch++;
    live = true;
    retryMs = RETRY_MIN_MS;
  }

  const unwatch = watchLoss(port.events, () => {
    if (!closed) lose();
  });
  void reopen();

  return {
    holds(id) {
      return live && entries.get(slotOf(id))?.record.id === id;
    },
    turn: nextTurn,
    read: get,
    ticket(id) {
      const ticket = { id, epoch, at: performance.now(), stale: !live };
      const tickets = loading.get(id);
      if (tickets === undefined) loading.set(id, new Set([ticket]));
      else tickets.add(ticket);
      return ticket;
    },
    settle(ticket, record) {
      const { id } = ticket;
      const tickets = loading.get(id);
      tickets?.delete(ticket);
      if (tickets?.size === 0) loading.delete(id);
      if (record === undefined || ticket.stale || !live || ticket.epoch !== epoch) return;
      const slot = slotOf(id);
      entries.delete(slot);
      entries.set(slot, { record, at: ticket.at });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    forget(ids) {
      invalidate(ids);
    },
    clear() {
      invalidate(null);
    },
    stats() {
      return { entries: entries.size, live: live && port.isReady() };
    },
    close() {
      closed = true;
      unwatch();
      live = false;
      invalidate(null);
      clearTimeout(retry);
      generation++;
      connection?.close();
      connection = null;
    },
  };
}

/** `driver` whose writes forget the sessions they touch before and after they run (and the sessions they ended). */
export function withNearCache(driver: SessionDriver, cache: NearCache): SessionDriver {
  const endedBy = (result: unknown): string[] => {
    const written = result as Partial<WriteResult> | null;
    return written && typeof written === "object" ? [...(written.ended ?? []), ...(written.endedOthers ?? [])] : [];
  };
  async function around<T>(ids: string[], write: () => Promise<T>): Promise<T> {
    cache.forget(ids);
    try {
      const result = await write();
      cache.forget(endedBy(result));
      return result;
    } finally {
      cache.forget(ids);
    }
  }
  return {
    ...driver,
    create: (id, session) => around([id], () => driver.create(id, session)),
    update: (id, change) => around([id], () => driver.update(id, change)),
    rotate: (fromId, toId, rotation) => around([fromId, toId], () => driver.rotate(fromId, toId, rotation)),
    destroy: (id, options) => around([id], () => driver.destroy(id, options)),
    // The ids ended are not known here: everything is dropped (Redis reports each key as well).
    endUserSessions: async (userId, options) => {
      cache.clear();
      try {
        return await driver.endUserSessions(userId, options);
      } finally {
        cache.clear();
      }
    },
    close: async () => {
      cache.close();
      await driver.close();
    },
  };
}

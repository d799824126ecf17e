/**
 * The in-memory storage driver: for tests, the demo and single-process apps.
 *
 * State lives in this process only: it is lost on restart and not shared between processes or
 * cluster workers, so do not use it behind a load balancer. It keeps the same promises as the Redis
 * drivers (the shared conformance suite runs against it unchanged):
 *
 * - Expiry is judged by `expiresAt` against the `now` each call carries (the manager's clock), else the injected
 *   clock (default `Date.now`). An expired
 *   session is invisible at once and removed lazily when touched; a sweep (on any call once
 *   `sweepInterval` has passed on the clock, and from an `unref()`ed timer) removes the rest, so
 *   memory stays bounded. Every user-index and secondary-index entry goes with its session.
 * - Secondary indexes: each write carrying `indexes` recomputes the session's memberships from its
 *   fields after the write (a write without them keeps the memberships as they were); rotation
 *   moves them to the new id. Counts and listings look only at live sessions.
 * - `create` is insert-only, `update` is update-only, `rotate` moves a session in one step: every
 *   method runs synchronously inside its promise, so each one is atomic with respect to the others.
 * - Values are copied in and out: nothing the caller passes or receives is shared with the store.
 */
import type { At, Counters, IndexPage, IndexSpec, NewSession, SessionChange, SessionDriver, SessionMeta, SessionRecord, SessionRotation, UserBinding, WriteResult } from "./driver.js";
import { SessionError, configError } from "./errors.js";
import { membershipOf, membershipsOf } from "./indexes.js";
import { fieldSize, limitError } from "./values.js";
import { tagOf } from "./token.js";

export interface MemoryDriverOptions {
  /** The clock expiry is judged by, in milliseconds since the epoch. Default: `Date.now`. */
  clock?: () => number;
  /** Milliseconds between sweeps of expired sessions. Default: 60,000. */
  sweepInterval?: number;
}

/** The memory driver, with probes for tests. */
export interface MemoryDriver extends SessionDriver {
  /** Milliseconds until the session under `id` expires, or null when there is no live session. */
  remainingTtl(id: string): number | null;
  /** Sessions held in memory, including expired ones not yet swept. */
  size(): number;
  /** User-index entries held in memory (one per bound session, expired ones included until swept). */
  indexSize(): number;
  /** Secondary-index entries held in memory (one per session and membership, expired ones included until swept). */
  membershipCount(): number;
  /** Removes every expired session now. Returns how many were removed. */
  sweep(): number;
}

const DEFAULT_SWEEP_INTERVAL = 60_000;
/** setInterval clamps longer delays to 1 ms; keep below that. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A stored session: its metadata (the id is the map's key), fields and memberships. */
interface Entry extends Omit<SessionMeta, "id"> {
  fields: Map<string, string>;
  /** Secondary-index entries (`name\0value`) the session is listed under. */
  memberships: Set<string>;
  /** Creation order (kept by a rotation): tells apart sessions created in the same millisecond. */
  order: number;
}

/** Adds `id` to the set under `key`, creating it. */
function addTo(sets: Map<string, Set<string>>, key: string, id: string): void {
  let ids = sets.get(key);
  if (ids === undefined) {
    ids = new Set();
    sets.set(key, ids);
  }
  ids.add(id);
}

/** Removes `id` from the set under `key`, dropping the set once empty. */
function removeFrom(sets: Map<string, Set<string>>, key: string, id: string): void {
  const ids = sets.get(key);
  if (ids === undefined) return;
  ids.delete(id);
  if (ids.size === 0) sets.delete(key);
}

export function createMemoryDriver(options: MemoryDriverOptions = {}): MemoryDriver {
  const clock = options.clock ?? Date.now;
  if (typeof clock !== "function") {
    throw configError("clock", "must be a function returning milliseconds since the epoch");
  }
  const sweepInterval = options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL;
  if (typeof sweepInterval !== "number" || !Number.isFinite(sweepInterval) || sweepInterval <= 0) {
    throw configError("sweepInterval", `must be a positive number of milliseconds, got ${String(sweepInterval)}`);
  }

  const sessions = new Map<string, Entry>();
  let created = 0;
  /** userId → ids of the sessions bound to that user. */
  const users = new Map<string, Set<string>>();
  /** `name\0value` → ids of the sessions listed under that index entry. */
  const listings = new Map<string, Set<string>>();
  let closed = false;
  let lastSweep = clock();

  const timer = setInterval(() => sweepAt(clock()), Math.min(sweepInterval, MAX_TIMER_DELAY));
  timer.unref();

  /** Throws when closed, sweeps when one is due, and returns the time the call is judged at: the caller's `now`, else the clock. */
  function begin(at?: At): number {
    if (closed) throw new SessionError("CLOSED", "the memory session driver was closed; create a new one");
    const now = at?.now ?? clock();
    if (now - lastSweep >= sweepInterval) sweepAt(now);
    return now;
  }

  function sweepAt(now: number): number {
    lastSweep = now;
    let removed = 0;
    for (const [id, entry] of sessions) {
      if (entry.expiresAt <= now) {
        drop(id, entry);
        removed += 1;
      }
    }
    return removed;
  }

  /** The live entry under `id`; an expired one is removed on the way. */
  function live(id: string, now: number): Entry | undefined {
    const entry = sessions.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      drop(id, entry);
      return undefined;
    }
    return entry;
  }

  function drop(id: string, entry: Entry): void {
    sessions.delete(id);
    if (entry.userId !== null) unindex(entry.userId, id);
    for (const membership of entry.memberships) unlist(membership, id);
  }

  function unlist(membership: string, id: string): void {
    removeFrom(listings, membership, id);
  }

  /** Lists the session under the entries its fields give (when the write carries index specs). */
  function relist(id: string, entry: Entry, specs: readonly IndexSpec[] | undefined): void {
    if (specs === undefined || specs.length === 0) {
      for (const membership of entry.memberships) list(membership, id);
      return;
    }
    const next = membershipsOf(entry.fields, specs);
    for (const membership of entry.memberships) if (!next.has(membership)) unlist(membership, id);
    for (const membership of next) list(membership, id);
    entry.memberships = next;
  }

  function list(membership: string, id: string): void {
    addTo(listings, membership, id);
  }

  /** The live sessions in the set under `key` that `holds` still accepts; the others are pruned from the set. */
  function liveIn(sets: Map<string, Set<string>>, key: string, now: number, holds: (entry: Entry) => boolean): Array<[string, Entry]> {
    const found: Array<[string, Entry]> = [];
    for (const id of [...(sets.get(key) ?? [])]) {
      const entry = live(id, now);
      if (entry === undefined || !holds(entry)) removeFrom(sets, key, id);
      else found.push([id, entry]);
    }
    return found;
  }

  /** The live sessions listed under an entry; stale ids are pruned. */
  function listed(membership: string, now: number): Array<[string, Entry]> {
    return liveIn(listings, membership, now, (entry) => entry.memberships.has(membership));
  }

  function index(userId: string, id: string): void {
    addTo(users, userId, id);
  }

  function unindex(userId: string, id: string): void {
    removeFrom(users, userId, id);
  }

  /** The user's live sessions, oldest first; expired and stale index entries are pruned. */
  function liveSessionsOf(userId: string, now: number): Array<[string, Entry]> {
    return liveIn(users, userId, now, (entry) => entry.userId === userId).sort(([, left], [, right]) =>
      left.absoluteExpiresAt !== right.absoluteExpiresAt
        ? left.absoluteExpiresAt - right.absoluteExpiresAt
        : left.createdAt !== right.createdAt
          ? left.createdAt - right.createdAt
          : left.order - right.order,
    );
  }

  /** Binds the session; returns the ids of the user's oldest other sessions ended for `maxSessions`. */
  function bind(id: string, entry: Entry, binding: UserBinding, now: number): string[] {
    if (entry.userId !== null && entry.userId !== binding.userId) unindex(entry.userId, id);
    entry.userId = binding.userId;
    index(binding.userId, id);
    if (binding.maxSessions === undefined) return [];
    const others = liveSessionsOf(binding.userId, now).filter(([otherId]) => otherId !== id);
    const excess = others.length - (Math.max(1, binding.maxSessions) - 1);
    const ended = others.slice(0, Math.max(0, excess));
    for (const [otherId, other] of ended) drop(otherId, other);
    return ended.map(([otherId]) => otherId);
  }

  function applyUser(id: string, entry: Entry, user: UserBinding | null | undefined, now: number): string[] {
    if (user === undefined) return [];
    if (user === null) {
      if (entry.userId !== null) unindex(entry.userId, id);
      entry.userId = null;
      return [];
    }
    return bind(id, entry, user, now);
  }

  function resultOf(entry: Pick<Entry, "expiresAt" | "lastSeenAt" | "absoluteExpiresAt" | "idleTimeout">, counters: Counters, ended: string[]): WriteResult {
    const { expiresAt, lastSeenAt, absoluteExpiresAt, idleTimeout } = entry;
    return { expiresAt, lastSeenAt, absoluteExpiresAt, idleTimeout, counters, ended };
  }

  /** The result of a write that deleted the session (its expiry had passed): the times it was sent. */
  function deletedResult(change: SessionChange, entry: Entry, counters: Counters): WriteResult {
    return resultOf(
      {
        expiresAt: change.expiresAt,
        lastSeenAt: change.lastSeenAt,
        absoluteExpiresAt: change.absoluteExpiresAt ?? entry.absoluteExpiresAt,
        idleTimeout: change.idleTimeout === undefined ? entry.idleTimeout : change.idleTimeout,
      },
      counters,
      [],
    );
  }

  /**
   * The counters a change would produce on `fields`, computed before anything is written so that a
   * refused increment changes nothing. Order of a change: `set`, then `remove`, then `increment`.
   */
  function countersOf(fields: Map<string, string>, change: SessionChange): Counters {
    const removed = new Set(change.remove);
    const counters: Counters = {};
    for (const [name, delta] of Object.entries(change.increment)) {
      if (!Number.isSafeInteger(delta)) {
        throw new SessionError("VALUE_INVALID", `cannot increment field "${name}" by ${String(delta)}: not an integer`);
      }
      const text = removed.has(name)
        ? undefined
        : Object.hasOwn(change.set, name)
          ? change.set[name]
          : fields.get(name);
      const current = text === undefined ? 0 : integerOf(text);
      if (current === null) {
        throw new SessionError("VALUE_INVALID", `cannot increment field "${name}": its value is not an integer`);
      }
      const next = current + delta;
      if (!Number.isSafeInteger(next)) {
        throw new SessionError("VALUE_INVALID", `cannot increment field "${name}": the result is not a safe integer`);
      }
      counters[name] = next;
    }
    return counters;
  }

  /** Throws PAYLOAD_TOO_LARGE when the change would grow `fields` past `change.limits`. */
  function checkLimits(fields: Map<string, string>, change: SessionChange, counters: Counters): void {
    if (change.limits === undefined) return;
    const after = new Map(fields);
    applyFields(after, change, counters);
    const sizeOf = (map: Map<string, string>) => {
      let size = 0;
      for (const [name, text] of map) size += fieldSize(name, text);
      return size;
    };
    const before = sizeOf(fields);
    const size = sizeOf(after);
    const error = limitError(change.limits, { count: after.size, grown: after.size > fields.size }, { size, grown: size > before });
    if (error) throw error;
  }

  function applyFields(fields: Map<string, string>, change: SessionChange, counters: Counters): void {
    for (const [name, value] of Object.entries(change.set)) fields.set(name, value);
    for (const name of change.remove) fields.delete(name);
    for (const [name, value] of Object.entries(counters)) fields.set(name, String(value));
  }

  function metaOf(id: string, entry: Entry): SessionMeta {
    return {
      id,
      createdAt: entry.createdAt,
      lastSeenAt: entry.lastSeenAt,
      expiresAt: entry.expiresAt,
      absoluteExpiresAt: entry.absoluteExpiresAt,
      idleTimeout: entry.idleTimeout,
      userId: entry.userId,
      userAgent: entry.userAgent,
      ip: entry.ip,
    };
  }

  return {
    name: "memory",

    async load(id: string, at?: At): Promise<SessionRecord | null> {
      const now = begin(at);
      const entry = live(id, now);
      if (entry === undefined) return null;
      return { ...metaOf(id, entry), fields: Object.fromEntries(entry.fields) };
    },

    async create(id: string, session: NewSession): Promise<WriteResult | null> {
      const now = begin(session);
      if (live(id, now) !== undefined) return null;
      const times = {
        expiresAt: session.expiresAt,
        lastSeenAt: session.lastSeenAt,
        absoluteExpiresAt: session.absoluteExpiresAt,
        idleTimeout: session.idleTimeout ?? null,
      };
      // Stored and expired in the same instant: nothing is kept.
      if (session.expiresAt <= now) return resultOf(times, {}, []);
      const entry: Entry = {
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
        absoluteExpiresAt: session.absoluteExpiresAt,
        idleTimeout: session.idleTimeout ?? null,
        userId: null,
        userAgent: session.userAgent,
        ip: session.ip,
        fields: new Map(Object.entries(session.fields)),
        memberships: new Set(),
        order: ++created,
      };
      sessions.set(id, entry);
      relist(id, entry, session.indexes);
      const ended = session.user === null ? [] : bind(id, entry, session.user, now);
      return resultOf(entry, {}, ended);
    },

    async update(id: string, change: SessionChange): Promise<WriteResult | null> {
      const now = begin(change);
      const entry = live(id, now);
      if (entry === undefined) return null;
      const counters = countersOf(entry.fields, change);
      checkLimits(entry.fields, change, counters);
      if (change.expiresAt <= now) {
        drop(id, entry);
        return deletedResult(change, entry, counters);
      }
      applyFields(entry.fields, change, counters);
      entry.lastSeenAt = Math.max(entry.lastSeenAt, change.lastSeenAt);
      entry.expiresAt = setsLifetime(change) ? change.expiresAt : Math.max(entry.expiresAt, change.expiresAt);
      if (change.absoluteExpiresAt !== undefined) entry.absoluteExpiresAt = change.absoluteExpiresAt;
      if (change.idleTimeout !== undefined) entry.idleTimeout = change.idleTimeout;
      const ended = applyUser(id, entry, change.user, now);
      relist(id, entry, change.indexes);
      return resultOf(entry, counters, ended);
    },

    async rotate(fromId: string, toId: string, rotation: SessionRotation): Promise<WriteResult | null> {
      const now = begin(rotation);
      if (tagOf(fromId) !== tagOf(toId)) {
        throw new SessionError("VALUE_INVALID", "cannot rotate a session to an id with another slot tag");
      }
      const from = live(fromId, now);
      if (from === undefined || fromId === toId || live(toId, now) !== undefined) return null;
      const fields = rotation.keepData ? new Map(from.fields) : new Map<string, string>();
      const counters = countersOf(fields, rotation);
      checkLimits(fields, rotation, counters);
      drop(fromId, from);
      if (rotation.expiresAt <= now) return deletedResult(rotation, from, counters);
      applyFields(fields, rotation, counters);
      const entry: Entry = {
        createdAt: from.createdAt,
        lastSeenAt: Math.max(from.lastSeenAt, rotation.lastSeenAt),
        expiresAt: setsLifetime(rotation) ? rotation.expiresAt : Math.max(from.expiresAt, rotation.expiresAt),
        absoluteExpiresAt: rotation.absoluteExpiresAt ?? from.absoluteExpiresAt,
        idleTimeout: rotation.idleTimeout === undefined ? from.idleTimeout : rotation.idleTimeout,
        userId: from.userId,
        userAgent: from.userAgent,
        ip: from.ip,
        fields,
        memberships: from.memberships,
        order: from.order,
      };
      sessions.set(toId, entry);
      if (entry.userId !== null) index(entry.userId, toId);
      const ended = applyUser(toId, entry, rotation.user, now);
      relist(toId, entry, rotation.indexes);
      return resultOf(entry, counters, ended);
    },

    async destroy(id: string, options: { userId?: string } & At = {}): Promise<boolean> {
      const now = begin(options);
      const entry = live(id, now);
      if (entry === undefined) return false;
      if (options.userId !== undefined && entry.userId !== options.userId) return false;
      drop(id, entry);
      return true;
    },

    async listUserSessions(userId: string, at?: At): Promise<SessionMeta[]> {
      const now = begin(at);
      return liveSessionsOf(userId, now).map(([id, entry]) => metaOf(id, entry));
    },

    async endUserSessions(userId: string, options: { exceptId?: string } & At = {}): Promise<number> {
      const now = begin(options);
      let ended = 0;
      for (const [id, entry] of liveSessionsOf(userId, now)) {
        if (id === options.exceptId) continue;
        drop(id, entry);
        ended += 1;
      }
      return ended;
    },

    async countIndex(name: string, value: string, at?: At): Promise<number> {
      const now = begin(at);
      return listed(membershipOf(name, value), now).length;
    },

    async findIndex(name: string, value: string, page: { offset: number; limit: number } & At): Promise<IndexPage> {
      const now = begin(page);
      const found = listed(membershipOf(name, value), now).sort(([leftId, left], [rightId, right]) =>
        left.expiresAt !== right.expiresAt ? left.expiresAt - right.expiresAt : leftId < rightId ? -1 : leftId > rightId ? 1 : 0,
      );
      const end = page.offset + page.limit;
      return {
        sessions: found.slice(page.offset, end).map(([id, entry]) => metaOf(id, entry)),
        next: end < found.length ? end : null,
      };
    },

    async ping(): Promise<void> {
      begin();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      sessions.clear();
      users.clear();
      listings.clear();
    },

    remainingTtl(id: string): number | null {
      const now = clock();
      const entry = live(id, now);
      return entry === undefined ? null : entry.expiresAt - now;
    },

    size(): number {
      return sessions.size;
    },

    indexSize(): number {
      let total = 0;
      for (const ids of users.values()) total += ids.size;
      return total;
    },

    membershipCount(): number {
      let total = 0;
      for (const ids of listings.values()) total += ids.size;
      return total;
    },

    sweep(): number {
      return sweepAt(clock());
    },
  };
}

/** A change that starts a new lifetime (new absolute deadline or idle timeout) sets the expiry it carries, even an earlier one. */
function setsLifetime(change: SessionChange): boolean {
  return change.absoluteExpiresAt !== undefined || change.idleTimeout !== undefined;
}

/** The integer a field's JSON text holds, or null when it holds anything else. */
function integerOf(text: string): number | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof value === "number" && Number.isSafeInteger(value) ? value : null;
}

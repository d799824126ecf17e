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
 *   memory stays bounded. Every user-sessions and index entry goes with its session.
 * - Secondary indexes: each write carrying `indexes` recomputes the session's memberships from its
 *   fields after the write (a write without them keeps the memberships as they were); rotation
 *   moves them to the new id. Counts and listings look only at live sessions.
 * - `create` is insert-only, `update` is update-only, `rotate` moves a session in one step: every
 *   method runs synchronously inside its promise, so each one is atomic with respect to the others.
 * - Values are copied in and out: nothing the caller passes or receives is shared with the store.
 *
 * The sessions and the sets over them (user sessions, index entries) are kept in memory-store.ts;
 * how a write applies to a session's fields (counters, limits) and what it answers, in
 * memory-changes.ts. This module holds the driver's methods, its options and the sweep schedule.
 */
import type { At, IndexPage, NewSession, SessionChange, SessionDriver, SessionMeta, SessionRecord, SessionRotation, WriteResult } from "./driver.js";
import { SessionError, configError } from "./errors.js";
import { membershipOf } from "./indexes.js";
import { applyFields, checkLimits, countersOf, deletedResult, metaOf, resultOf, setsLifetime } from "./memory-changes.js";
import { createMemoryStore, type Entry } from "./memory-store.js";
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
  /** User-sessions entries held in memory (one per bound session, expired ones included until swept). */
  indexSize(): number;
  /** Secondary-index entries held in memory (one per session and membership, expired ones included until swept). */
  membershipCount(): number;
  /** Removes every expired session now. Returns how many were removed. */
  sweep(): number;
}

const DEFAULT_SWEEP_INTERVAL = 60_000;
/** setInterval clamps longer delays to 1 ms; keep below that. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

export function createMemoryDriver(options: MemoryDriverOptions = {}): MemoryDriver {
  const clock = options.clock ?? Date.now;
  if (typeof clock !== "function") {
    throw configError("clock", "must be a function returning milliseconds since the epoch");
  }
  const sweepInterval = options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL;
  if (typeof sweepInterval !== "number" || !Number.isFinite(sweepInterval) || sweepInterval <= 0) {
    throw configError("sweepInterval", `must be a positive number of milliseconds, got ${String(sweepInterval)}`);
  }

  const store = createMemoryStore();
  const { sessions, live, drop } = store;
  let created = 0;
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
    return store.sweep(now);
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
      store.relist(id, entry, session.indexes);
      const ended = session.user === null ? [] : store.bind(id, entry, session.user, now);
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
      const ended = store.applyUser(id, entry, change.user, now);
      store.relist(id, entry, change.indexes);
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
      if (entry.userId !== null) store.enlistUser(entry.userId, toId);
      const ended = store.applyUser(toId, entry, rotation.user, now);
      store.relist(toId, entry, rotation.indexes);
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
      return store.userSessions(userId, now).map(([id, entry]) => metaOf(id, entry));
    },

    async endUserSessions(userId: string, options: { exceptId?: string } & At = {}): Promise<number> {
      const now = begin(options);
      let ended = 0;
      for (const [id, entry] of store.userSessions(userId, now)) {
        if (id === options.exceptId) continue;
        drop(id, entry);
        ended += 1;
      }
      return ended;
    },

    async countIndex(name: string, value: string, at?: At): Promise<number> {
      const now = begin(at);
      return store.listed(membershipOf(name, value), now).length;
    },

    async findIndex(name: string, value: string, page: { offset: number; limit: number } & At): Promise<IndexPage> {
      const now = begin(page);
      const found = store.listed(membershipOf(name, value), now).sort(([leftId, left], [rightId, right]) =>
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
      store.clear();
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
      return store.userEntryCount();
    },

    membershipCount(): number {
      return store.membershipCount();
    },

    sweep(): number {
      return sweepAt(clock());
    },
  };
}

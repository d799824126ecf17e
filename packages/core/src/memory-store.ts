/**
 * What the memory driver holds: its sessions, each user's sessions and the sessions each index
 * entry lists, kept together: a session that goes (ended, expired, swept, rotated away) leaves its
 * user's sessions and its index entries with it, and a stale id met in a set is pruned.
 */
import type { IndexSpec, SessionMeta, UserBinding } from "./driver.js";
import { membershipsOf } from "./indexes.js";

/** A stored session: its metadata (the id is the map's key), fields and memberships. */
export interface Entry extends Omit<SessionMeta, "id"> {
  fields: Map<string, string>;
  /** Secondary-index entries (`name\0value`) the session is listed under. */
  memberships: Set<string>;
  /** Creation order (kept by a rotation): tells apart sessions created in the same millisecond. */
  order: number;
}

/** The sessions of one memory driver and the sets over them. */
export interface MemoryStore {
  /** Every session by id, expired ones included until they are touched or swept. */
  readonly sessions: Map<string, Entry>;
  /** The live entry under `id`; an expired one is removed on the way. */
  live(id: string, now: number): Entry | undefined;
  /** Removes the session with its user-sessions and index entries. */
  drop(id: string, entry: Entry): void;
  /** Removes every session expired at `now`. Returns how many were removed. */
  sweep(now: number): number;
  /** Lists the session under the entries its fields give (when the write carries index specs). */
  relist(id: string, entry: Entry, specs: readonly IndexSpec[] | undefined): void;
  /** The live sessions listed under an index entry; stale ids are pruned. */
  listed(membership: string, now: number): Array<[string, Entry]>;
  /** The user's live sessions, oldest first; expired and stale entries are pruned. */
  userSessions(userId: string, now: number): Array<[string, Entry]>;
  /** Adds `id` to the user's sessions. */
  enlistUser(userId: string, id: string): void;
  /** Binds the session; returns the ids of the user's oldest other sessions ended for `maxSessions`. */
  bind(id: string, entry: Entry, binding: UserBinding, now: number): string[];
  /** Applies a write's `user` (bind, unbind, or nothing when undefined); returns the ids ended for `maxSessions`. */
  applyUser(id: string, entry: Entry, user: UserBinding | null | undefined, now: number): string[];
  /** User-sessions entries held (one per bound session, expired ones included until swept). */
  userEntryCount(): number;
  /** Index entries held (one per session and membership, expired ones included until swept). */
  membershipCount(): number;
  clear(): void;
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

/** How many ids the sets hold together. */
function idCount(sets: Map<string, Set<string>>): number {
  let total = 0;
  for (const ids of sets.values()) total += ids.size;
  return total;
}

export function createMemoryStore(): MemoryStore {
  const sessions = new Map<string, Entry>();
  /** userId → ids of the sessions bound to that user. */
  const users = new Map<string, Set<string>>();
  /** `name\0value` → ids of the sessions listed under that index entry. */
  const listings = new Map<string, Set<string>>();

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
    if (entry.userId !== null) unenlistUser(entry.userId, id);
    for (const membership of entry.memberships) unlist(membership, id);
  }

  function unlist(membership: string, id: string): void {
    removeFrom(listings, membership, id);
  }

  function list(membership: string, id: string): void {
    addTo(listings, membership, id);
  }

  function enlistUser(userId: string, id: string): void {
    addTo(users, userId, id);
  }

  function unenlistUser(userId: string, id: string): void {
    removeFrom(users, userId, id);
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

  function userSessions(userId: string, now: number): Array<[string, Entry]> {
    return liveIn(users, userId, now, (entry) => entry.userId === userId).sort(([, left], [, right]) =>
      left.absoluteExpiresAt !== right.absoluteExpiresAt
        ? left.absoluteExpiresAt - right.absoluteExpiresAt
        : left.createdAt !== right.createdAt
          ? left.createdAt - right.createdAt
          : left.order - right.order,
    );
  }

  function bind(id: string, entry: Entry, binding: UserBinding, now: number): string[] {
    if (entry.userId !== null && entry.userId !== binding.userId) unenlistUser(entry.userId, id);
    entry.userId = binding.userId;
    enlistUser(binding.userId, id);
    if (binding.maxSessions === undefined) return [];
    const others = userSessions(binding.userId, now).filter(([otherId]) => otherId !== id);
    const excess = others.length - (Math.max(1, binding.maxSessions) - 1);
    const ended = others.slice(0, Math.max(0, excess));
    for (const [otherId, other] of ended) drop(otherId, other);
    return ended.map(([otherId]) => otherId);
  }

  return {
    sessions,
    live,
    drop,
    enlistUser,
    userSessions,
    bind,

    sweep(now) {
      let removed = 0;
      for (const [id, entry] of sessions) {
        if (entry.expiresAt <= now) {
          drop(id, entry);
          removed += 1;
        }
      }
      return removed;
    },

    relist(id, entry, specs) {
      if (specs === undefined || specs.length === 0) {
        for (const membership of entry.memberships) list(membership, id);
        return;
      }
      const next = membershipsOf(entry.fields, specs);
      for (const membership of entry.memberships) if (!next.has(membership)) unlist(membership, id);
      for (const membership of next) list(membership, id);
      entry.memberships = next;
    },

    listed(membership, now) {
      return liveIn(listings, membership, now, (entry) => entry.memberships.has(membership));
    },

    applyUser(id, entry, user, now) {
      if (user === undefined) return [];
      if (user === null) {
        if (entry.userId !== null) unenlistUser(entry.userId, id);
        entry.userId = null;
        return [];
      }
      return bind(id, entry, user, now);
    },

    userEntryCount: () => idCount(users),
    membershipCount: () => idCount(listings),

    clear() {
      sessions.clear();
      users.clear();
      listings.clear();
    },
  };
}

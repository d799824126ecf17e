/**
 * The steps of a write that run outside its session script: on a Cluster (the keys live in other
 * slots) the user-sessions, per-user limit and index steps; on any server, taking ended or stale
 * sessions out of their user sessions and indexes.
 */
import { SCRIPTS } from "./scripts.js";
import type { DriverContext } from "./context.js";
import { endOutcome, entriesOverLimit, splitMembership } from "./replies.js";
import type { MembershipChange } from "./replies.js";

/** How long a tombstone left by end-1 refuses inserts under its id. */
export const TOMBSTONE_MS = 60_000;

export interface Steps {
  /** User-sessions step of a binding, before its write: the id joins the user's sessions (nobody is ended yet). */
  enlistUser(operation: string, now: number, userId: string, id: string, score: number | string): Promise<void>;
  /**
   * Limit step of a binding, after its write succeeded: ends the user's oldest other sessions beyond
   * `max`, and resolves the ids it ended. After the write, so a binding whose write fails ends nobody;
   * a binding ended meanwhile by a newer one (not listed any more) ends nobody either.
   */
  enforce(operation: string, now: number, userId: string, id: string, max: number | undefined): Promise<string[]>;
  unenlistUser(operation: string, userId: string, ids: string[]): Promise<void>;
  /**
   * The index step after a session script: `fromId` leaves the entries it lost, `toId` is listed
   * (score = its expiresAt) under the entries it gained and, after a renewal or rotation, all of its
   * entries again. One command per index key, all in parallel.
   */
  relist(operation: string, now: number, fromId: string, toId: string, expiresAt: number, change: MembershipChange): Promise<void>;
  /** Takes `id` out of the index entries `memberships` names. */
  unlist(operation: string, now: number, id: string, memberships: string[]): Promise<void>;
  /** end-1 on behalf of `userId`'s user sessions, then the ended session's index entries. */
  end(operation: string, now: number, userId: string, id: string, score: string): Promise<boolean>;
}

export function createSteps({ port, keys, call, run }: DriverContext): Steps {
  function indexKey(membership: string): string {
    const [name, value] = splitMembership(membership);
    return keys.index(name, value);
  }

  const steps: Steps = {
    async enlistUser(operation, now, userId, id, score) {
      const argv = { now: String(now), id, score: String(score), maxSessions: "" };
      await run(operation, SCRIPTS.user, { userSessions: keys.user(userId) }, argv);
    },

    async enforce(operation, now, userId, id, max) {
      if (max === undefined) return [];
      const reply = await run(operation, SCRIPTS.user, { userSessions: keys.user(userId) }, { now: String(now), id, score: "", maxSessions: String(max) });
      const entries = entriesOverLimit(reply);
      const ended = await Promise.all(entries.map((entry) => steps.end(operation, now, userId, entry.id, entry.score)));
      return entries.filter((_, i) => ended[i]).map((entry) => entry.id);
    },

    async unenlistUser(operation, userId, ids) {
      if (ids.length === 0) return;
      await call(operation, () => port.zrem(keys.user(userId), ids));
    },

    async relist(operation, now, fromId, toId, expiresAt, change) {
      const listed = new Set([...change.added, ...change.current]);
      if (listed.size === 0 && change.removed.length === 0) return;
      await Promise.all([
        ...change.removed.map((membership) => call(operation, () => port.zrem(indexKey(membership), [fromId]))),
        ...[...listed].map((membership) =>
          run(operation, SCRIPTS.enlist, { index: indexKey(membership) }, { now: String(now), id: toId, score: String(expiresAt) }),
        ),
      ]);
    },

    unlist(operation, now, id, memberships) {
      return steps.relist(operation, now, id, id, 0, { added: [], removed: memberships, current: [] });
    },

    async end(operation, now, userId, id, score) {
      const outcome = endOutcome(
        await run(operation, SCRIPTS.end, { session: keys.session(id) }, { userId, score, tombstoneMs: String(TOMBSTONE_MS), now: String(now) }),
      );
      await steps.unlist(operation, now, id, outcome.memberships);
      return outcome.ended;
    },
  };
  return steps;
}

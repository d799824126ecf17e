/**
 * The read-only questions a Redis driver answers across sessions: a user's sessions (and ending
 * them all), and the sessions a declared index lists. Stale entries met on the way are removed.
 */
import type { SessionDriver, SessionMeta } from "@sess/core";
import type { DriverContext } from "./context.js";
import { isWrongType, storeError } from "./port.js";
import { META_FIELDS, sessionMetaOf } from "./records.js";
import { SCRIPTS } from "./scripts.js";
import { countOutcome, pageOutcome, storedMemberships } from "./replies.js";
import type { Steps } from "./steps.js";

export type Queries = Pick<SessionDriver, "listUserSessions" | "endUserSessions" | "countIndex" | "findIndex">;

export function createQueries({ port, keys, begin, call, run }: DriverContext, { end, unenlistUser }: Steps): Queries {
  return {
    async listUserSessions(userId, at) {
      const now = begin("listUserSessions", at);
      const entries = await call("listUserSessions", () => port.zrangeWithScores(keys.user(userId)));
      const metas = await Promise.all(
        entries.map(async (entry) => {
          if (entry.score <= now) return null;
          try {
            return sessionMetaOf(entry.member, await port.hmget(keys.session(entry.member), [...META_FIELDS]));
          } catch (error) {
            if (isWrongType(error)) return null;
            throw storeError(port, "listUserSessions", error);
          }
        }),
      );
      const live: SessionMeta[] = [];
      const stale: { member: string; score: number }[] = [];
      entries.forEach((entry, i) => {
        const meta = metas[i];
        if (meta && meta.userId === userId && meta.expiresAt > now) live.push(meta);
        else stale.push(entry);
      });
      if (stale.length > 0) {
        // A stale entry is first made harmless (tombstone or end marker), then removed, so an
        // in-flight write it belongs to can never produce a live session missing from its user sessions.
        await Promise.all(
          stale.filter((entry) => entry.score > now).map((entry) => end("listUserSessions", now, userId, entry.member, String(entry.score))),
        );
        await unenlistUser("listUserSessions", userId, stale.map((entry) => entry.member));
      }
      return live.sort(
        (x, y) =>
          x.absoluteExpiresAt - y.absoluteExpiresAt || x.createdAt - y.createdAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
      );
    },

    async endUserSessions(userId, endOptions = {}) {
      const now = begin("endUserSessions", endOptions);
      const entries = await call("endUserSessions", () => port.zrangeWithScores(keys.user(userId)));
      const targets = entries.filter((entry) => entry.member !== endOptions.exceptId);
      const ended = await Promise.all(targets.map((entry) => end("endUserSessions", now, userId, entry.member, String(entry.score))));
      await unenlistUser("endUserSessions", userId, targets.map((entry) => entry.member));
      return ended.filter(Boolean).length;
    },

    async countIndex(name, value, at) {
      const now = begin("countIndex", at);
      return countOutcome(await run("countIndex", SCRIPTS.count, { index: keys.index(name, value) }, { now: String(now) }));
    },

    async findIndex(name, value, page) {
      const now = begin("findIndex", page);
      const key = keys.index(name, value);
      const ids = pageOutcome(
        await run("findIndex", SCRIPTS.page, { index: key }, { now: String(now), offset: String(page.offset), limit: String(page.limit + 1) }),
      );
      const more = ids.length > page.limit;
      const candidates = ids.slice(0, page.limit);
      const membership = `${name}\0${value}`;
      const found = await Promise.all(
        candidates.map(async (id) => {
          try {
            const values = await port.hmget(keys.session(id), [...META_FIELDS, "$i"]);
            return { meta: sessionMetaOf(id, values), memberships: storedMemberships(values[META_FIELDS.length]) };
          } catch (error) {
            if (isWrongType(error)) return { meta: null, memberships: [] };
            throw storeError(port, "findIndex", error);
          }
        }),
      );
      const sessions: SessionMeta[] = [];
      const gone: string[] = [];
      found.forEach(({ meta, memberships }, i) => {
        if (meta === null || meta.expiresAt <= now) gone.push(candidates[i]!);
        // Listed by an index step that lost a race with a later write: skipped, left to expire.
        else if (memberships.includes(membership)) sessions.push(meta);
      });
      // A session that is gone never comes back (writes are update-only), so its entry can go.
      if (gone.length > 0) await call("findIndex", () => port.zrem(key, gone));
      return { sessions, next: more ? page.offset + page.limit - gone.length : null };
    },
  };
}

/**
 * The shared `SessionDriver` implementation on the client port: loads and the writes (create,
 * update, rotate, destroy). The data layout (keys, hash fields, write ids, tombstones) is described
 * once, in this package's README ("Data layout").
 *
 * Flow of a write on a standalone or Sentinel server (`port.oneServer`): one session script
 * (create-1, update-1, rotate-2) that also runs the user-sessions, index and per-user limit steps
 * (lua/include/steps.lua), atomically: one round trip. On a Cluster, where those keys live in other
 * slots: the user-sessions step (user-1) awaited before the session script, so a live session is
 * never missing from its user sessions; the session script, which answers the times the store kept,
 * the counters and the index memberships that changed; then, in parallel, the per-user limit (user-1
 * then end-1 for each session beyond it) and the index steps (enlist-1 and ZREM, each index key
 * alone: its own slot), from steps.ts. The cross-session questions are in queries.ts.
 */
import { SessionError } from "@sess/core";
import type { NewSession, SessionChange, SessionDriver, SessionRotation, UserBinding, WriteResult } from "@sess/core";
import { changeArgv, changeTail, specArgs } from "./change-argv.js";
import type { StepArgv } from "./change-argv.js";
import { createDriverContext } from "./context.js";
import { isWrongType, storeError } from "./port.js";
import type { RedisPort } from "./port.js";
import type { NearCache } from "./near-cache.js";
import { createQueries } from "./queries.js";
import { frozenRecord, recordOf } from "./records.js";
import { createOutcome, destroyOutcome, writeOutcome } from "./replies.js";
import type { StoredTimes, WriteOutcome } from "./replies.js";
import { SCRIPTS } from "./scripts.js";
import { createSteps, TOMBSTONE_MS } from "./steps.js";
import { newWriteId } from "./write-id.js";

export { TOMBSTONE_MS } from "./steps.js";

export interface RedisDriverOptions {
  /** Key prefix (default "sess"). Must not contain "{" or "}". */
  prefix?: string;
  /** Serves loads from memory while it holds the session (near-cache.ts); writes go through `withNearCache`. */
  nearCache?: NearCache;
}

/** Attempts of a binding write whose expectation keeps failing under concurrent logins. */
const MAX_ATTEMPTS = 8;

export function createRedisDriver(port: RedisPort, options: RedisDriverOptions = {}): SessionDriver {
  const context = createDriverContext(port, options.prefix);
  const { keys, inline, begin, run } = context;
  const steps = createSteps(context);
  const queries = createQueries(context, steps);

  /** Reads `$a` and `$u`; null when no live session. WRONGTYPE counts as no session. */
  async function readBinding(operation: string, id: string): Promise<{ a: string; u: string } | null> {
    let values: (string | null)[];
    try {
      values = await port.hmget(keys.session(id), ["$c", "$a", "$u"]);
    } catch (error) {
      if (isWrongType(error)) return null;
      throw storeError(port, operation, error);
    }
    const [c, a, u] = values;
    if (c == null || a == null) return null;
    return { a, u: u ?? "" };
  }

  /**
   * Runs `write` after the user-sessions step of `userId` (none when null). Inline, the session
   * script adds the id itself, atomically with the write. On a Cluster the step is awaited first:
   * the write never runs unless the id is in its user sessions.
   */
  async function afterEnlisting<T>(operation: string, now: number, userId: string | null, id: string, score: string, write: () => Promise<T>): Promise<T> {
    if (userId !== null && !inline) await steps.enlistUser(operation, now, userId, id, score);
    return write();
  }

  /** The ARGV that has a session script run the steps of a write bound to `user` (none when not inline). */
  function stepArgv(user: UserBinding | null | undefined, userId: string | null): StepArgv {
    if (!inline) return { base: "", userKey: "", maxSessions: "", tombstoneMs: "" };
    return {
      base: keys.base,
      userKey: userId === null ? "" : keys.user(userId),
      maxSessions: user?.maxSessions === undefined ? "" : String(user.maxSessions),
      tombstoneMs: String(TOMBSTONE_MS),
    };
  }

  /** What a write that deleted the session (expired, or lost to a newer login) answers: the times it was sent. */
  function sentTimes(change: SessionChange, fallbackAbsolute: string): StoredTimes {
    return {
      expiresAt: change.expiresAt,
      lastSeenAt: change.lastSeenAt,
      absoluteExpiresAt: change.absoluteExpiresAt ?? Number(fallbackAbsolute),
      idleTimeout: change.idleTimeout ?? null,
    };
  }

  /**
   * Shared body of update and rotate: user-sessions step first (so a live session is never missing
   * from its user sessions), then the atomic write, then the per-user limit and removal of entries the
   * write made stale. A rotation that writes nothing takes its new id out of the user sessions again.
   */
  async function write(operation: "update" | "rotate", fromId: string, toId: string, change: SessionChange, keepData: boolean): Promise<WriteResult | null> {
    const now = begin(operation, change);
    const binding: UserBinding | null | undefined = change.user;
    const moving = fromId !== toId;
    const spec = moving ? SCRIPTS.rotate : SCRIPTS.update;
    const scriptKeys = { session: keys.session(fromId), from: keys.session(fromId), to: keys.session(toId) };
    const tail = changeTail(change);
    // One id for every attempt of this call: whichever attempt ran, a re-sent copy of it is a no-op.
    const writeId = newWriteId();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // The user-sessions step needs the user the session ends up bound to and its absolute deadline
      // (the score); read them when the change does not carry them.
      const newAbsolute = change.absoluteExpiresAt;
      const needsRead =
        moving || (binding != null && newAbsolute === undefined) || (binding === undefined && newAbsolute !== undefined);
      let expected = { a: "", u: "" };
      let score = newAbsolute === undefined ? "" : String(newAbsolute);
      let user: string | null = binding ? binding.userId : null;
      if (needsRead) {
        // The first attempt takes what the caller loaded, if given (the script checks it atomically);
        // a retry, or a call without it, reads it.
        const loaded = attempt === 0 ? change.loaded : undefined;
        const current = loaded ? { a: String(loaded.absoluteExpiresAt), u: loaded.userId ?? "" } : await readBinding(operation, fromId);
        if (current === null) return null;
        expected = current;
        if (score === "") score = current.a;
        if (binding === undefined) user = current.u === "" ? null : current.u;
      }
      // Without an expectation, the user the caller loaded is a hint: inline, the script takes the old
      // id out of that user's sessions itself if the stored user is still that one, so an unbinding or
      // a write that deletes the session costs no ZREM after it (a wrong hint leaves that to the ZREM).
      const leaving = expected.u !== "" ? expected.u : inline ? (change.loaded?.userId ?? "") : "";
      // The new id of a rotation that wrote nothing is in no session: out of the user sessions again
      // (inline, it never joined them).
      const withdraw = () => (moving && user !== null && !inline ? steps.unenlistUser(operation, user, [toId]) : undefined);
      const argv = changeArgv(change, now, keepData, {
        userId: user ?? "",
        score: user === null ? "" : score,
        expectedAbsolute: expected.a,
        expectedUser: leaving,
        writeId,
        ...stepArgv(binding, user),
        previousUserKey: inline && leaving !== "" ? keys.user(leaving) : "",
        endOthers: inline && change.endOtherSessions === true ? "1" : "",
      });
      const reply = await afterEnlisting(operation, now, user, toId, score, () => run(operation, spec, scriptKeys, argv, tail));
      let outcome: WriteOutcome;
      try {
        outcome = writeOutcome(reply, operation);
      } catch (error) {
        await withdraw(); // a refused value: nothing was written
        throw error;
      }
      if (outcome.kind === "retry") {
        if (attempt === MAX_ATTEMPTS - 1) await withdraw();
        continue;
      }
      if (outcome.kind !== "written") {
        await withdraw();
        return null;
      }
      const previous = outcome.previousUserId;
      const finalUser = binding === undefined ? previous : binding === null ? null : binding.userId;
      const stored = outcome.stored;
      // Inline, the script took the old id out of the user sessions it was given (`leaving`'s).
      const leftUser = inline && leaving !== "" && previous === leaving;
      const [, , ended] = await Promise.all([
        previous !== null && !leftUser && (moving || previous !== finalUser || stored === null) ? steps.unenlistUser(operation, previous, [fromId]) : undefined,
        inline ? undefined : steps.relist(operation, now, fromId, toId, outcome.memberships.expiresAt ?? change.expiresAt, outcome.memberships),
        inline ? outcome.ended : binding && stored !== null ? steps.enforce(operation, now, binding.userId, toId, binding.maxSessions) : [],
      ]);
      const result: WriteResult = { ...(stored ?? sentTimes(change, score || expected.a)), counters: outcome.counters, ended };
      if (outcome.endedOthers.length > 0) result.endedOthers = outcome.endedOthers;
      return result;
    }
    throw new SessionError("STORE_UNAVAILABLE", `${operation}: gave up after ${MAX_ATTEMPTS} concurrent logins changed the session`);
  }

  return {
    name: port.name,
    // One server: update-1 and rotate-2 end the user's other sessions inline (regenerate({ endOtherSessions: true })).
    endsOtherSessions: inline,

    async load(id, at) {
      const now = begin("load", at);
      const near = options.nearCache;
      if (near !== undefined && near.holds(id)) {
        await near.turn(); // invalidations read in this turn are applied first
        const cached = near.read(id);
        if (cached !== undefined) return cached.expiresAt <= now ? null : cached;
      }
      const key = keys.session(id);
      const ticket = near?.ticket(id);
      let hash: Record<string, string>;
      try {
        hash = await port.hgetall(key);
      } catch (error) {
        if (ticket !== undefined) near!.settle(ticket, undefined);
        if (isWrongType(error)) return null;
        throw storeError(port, "load", error);
      }
      const record = recordOf(id, hash);
      const live = record !== null && record.expiresAt > now;
      // Only live sessions are kept: a miss always asks Redis. A kept record is frozen, and every
      // hit answers it until the session changes: core then parses each of its values once.
      if (!live) {
        if (ticket !== undefined) near!.settle(ticket, undefined);
        return null;
      }
      if (ticket !== undefined) near!.settle(ticket, frozenRecord(record));
      return record;
    },

    async create(id, session: NewSession) {
      const now = begin("create", session);
      const user = session.user;
      const score = String(session.absoluteExpiresAt);
      const specs = specArgs(session.indexes);
      const tail = [...specs, "$c", String(session.createdAt), "$s", String(session.lastSeenAt)];
      tail.push("$x", String(session.expiresAt), "$a", score);
      if (session.idleTimeout != null) tail.push("$t", String(session.idleTimeout));
      if (user) tail.push("$u", user.userId);
      if (session.userAgent !== null) tail.push("$ua", session.userAgent);
      if (session.ip !== null) tail.push("$ip", session.ip);
      for (const [name, value] of Object.entries(session.fields)) tail.push(name, value);
      const argv = {
        now: String(now),
        expiresAt: String(session.expiresAt),
        userId: user ? user.userId : "",
        score: user ? score : "",
        writeId: newWriteId(),
        ...stepArgv(user, user ? user.userId : null),
        nSpecs: String(specs.length / 3),
      };
      const outcome = createOutcome(
        await afterEnlisting("create", now, user ? user.userId : null, id, score, () =>
          run("create", SCRIPTS.create, { session: keys.session(id) }, argv, tail),
        ),
      );
      const [, ended] = inline
        ? [undefined, outcome.ended]
        : await Promise.all([
            steps.relist("create", now, id, id, session.expiresAt, { added: outcome.memberships, removed: [], current: [] }),
            user ? (outcome.created ? steps.enforce("create", now, user.userId, id, user.maxSessions) : steps.unenlistUser("create", user.userId, [id])) : [],
          ]);
      if (!outcome.created) return null;
      return {
        expiresAt: session.expiresAt,
        lastSeenAt: session.lastSeenAt,
        absoluteExpiresAt: session.absoluteExpiresAt,
        idleTimeout: session.idleTimeout ?? null,
        counters: {},
        ended: ended ?? [],
      };
    },

    async update(id, change) {
      return write("update", id, id, change, true);
    },

    async rotate(fromId, toId, rotation: SessionRotation) {
      if (fromId === toId) {
        begin("rotate", rotation);
        return null;
      }
      return write("rotate", fromId, toId, rotation, rotation.keepData);
    },

    async destroy(id, destroyOptions = {}) {
      const now = begin("destroy", destroyOptions);
      const argv = { userId: destroyOptions.userId ?? "" };
      const outcome = destroyOutcome(await run("destroy", SCRIPTS.destroy, { session: keys.session(id) }, argv));
      await Promise.all([
        outcome.userId === null ? undefined : steps.unenlistUser("destroy", outcome.userId, [id]),
        steps.unlist("destroy", now, id, outcome.memberships),
      ]);
      return outcome.destroyed;
    },

    ...queries,

    async close() {
      context.close();
    },
  };
}

/**
 * The shared `SessionDriver` implementation on the client port. The data layout (keys, hash fields,
 * write ids, tombstones) is described once, in this package's README ("Data layout").
 *
 * Flow of a write on a standalone or Sentinel server (`port.oneServer`): one session script
 * (create-1, update-1, rotate-2) that also runs the user-sessions, index and per-user limit steps
 * (lua/include/steps.lua), atomically: one round trip. On a Cluster, where those keys live in other
 * slots: the user-sessions step (user-1) awaited before the session script, so a live session is
 * never missing from its user sessions; the session script, which answers the times the store kept,
 * the counters and the index memberships that changed; then, in parallel, the per-user limit (user-1
 * then end-1 for each session beyond it) and the index steps (enlist-1 and ZREM, each index key
 * alone: its own slot).
 */
import { randomBytes } from "node:crypto";
import { SessionError } from "@sess/core";
import type {
  At,
  IndexSpec,
  NewSession,
  SessionChange,
  SessionDriver,
  SessionMeta,
  SessionRecord,
  SessionRotation,
  UserBinding,
  WriteResult,
} from "@sess/core";
import { createKeySchema } from "./keys.js";
import { SCRIPTS, invoke } from "./scripts.js";
import type { ScriptSpec } from "./scripts.js";
import { assertReady, isWrongType, storeError } from "./port.js";
import type { RedisPort } from "./port.js";
import {
  countOutcome,
  createOutcome,
  destroyOutcome,
  endOutcome,
  entriesOverLimit,
  pageOutcome,
  splitMembership,
  storedMemberships,
  writeOutcome,
} from "./replies.js";
import type { MembershipChange, StoredTimes, WriteOutcome } from "./replies.js";

export interface RedisDriverOptions {
  /** Key prefix (default "sess"). Must not contain "{" or "}". */
  prefix?: string;
}

/** How long a tombstone left by end-1 refuses inserts under its id. */
export const TOMBSTONE_MS = 60_000;
/** Attempts of a binding write whose expectation keeps failing under concurrent logins. */
const MAX_ATTEMPTS = 8;

const META_FIELDS = ["$c", "$s", "$x", "$a", "$t", "$u", "$ua", "$ip"] as const;

/** A session's metadata from its `META_FIELDS` values; null when they do not describe a session. */
function sessionMetaOf(id: string, values: readonly (string | null | undefined)[]): SessionMeta | null {
  const [c, s, x, a, t, u, ua, ip] = values;
  if (c == null || s == null || x == null || a == null) return null;
  const numbers = [Number(c), Number(s), Number(x), Number(a)] as const;
  if (!numbers.every(Number.isFinite)) return null;
  return {
    id,
    createdAt: numbers[0],
    lastSeenAt: numbers[1],
    expiresAt: numbers[2],
    absoluteExpiresAt: numbers[3],
    idleTimeout: t == null || !Number.isFinite(Number(t)) ? null : Number(t),
    userId: u ?? null,
    userAgent: ua ?? null,
    ip: ip ?? null,
  };
}

/**
 * The session a HGETALL reply holds, in one pass over it (as `sessionMetaOf` reads the metadata:
 * null without valid `$c`, `$s`, `$x`, `$a`), user fields (`__proto__` left out) copied as they are.
 */
function recordOf(id: string, hash: Record<string, string>): SessionRecord | null {
  let c: string | undefined, s: string | undefined, x: string | undefined, a: string | undefined, t: string | undefined;
  let u: string | null = null, ua: string | null = null, ip: string | null = null;
  const fields: Record<string, string> = {};
  const names = Object.keys(hash);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = hash[name]!;
    if (name.charCodeAt(0) !== 36 /* $ */) {
      if (name !== "__proto__") fields[name] = value;
      continue;
    }
    switch (name) {
      case "$c": c = value; break;
      case "$s": s = value; break;
      case "$x": x = value; break;
      case "$a": a = value; break;
      case "$t": t = value; break;
      case "$u": u = value; break;
      case "$ua": ua = value; break;
      case "$ip": ip = value; break;
    }
  }
  if (c === undefined || s === undefined || x === undefined || a === undefined) return null;
  const createdAt = Number(c), lastSeenAt = Number(s), expiresAt = Number(x), absoluteExpiresAt = Number(a);
  if (!Number.isFinite(createdAt) || !Number.isFinite(lastSeenAt) || !Number.isFinite(expiresAt) || !Number.isFinite(absoluteExpiresAt)) return null;
  const idleTimeout = t === undefined || !Number.isFinite(Number(t)) ? null : Number(t);
  return { id, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, idleTimeout, userId: u, userAgent: ua, ip, fields };
}

/** Random bytes drawn in batches: a write id costs no CSPRNG call of its own. */
const WRITE_ID_BYTES = 6;
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * A write id, one per driver write call (see lua/include/writes.lua): 48 random bits as 8 base64url
 * characters, so the last 8 of them fit one 64-byte hash value. The chance that a write meets a
 * copy of its id among a session's last 8 is below 3e-14.
 */
export function newWriteId(): string {
  if (poolAt + WRITE_ID_BYTES > pool.length) {
    pool = randomBytes(WRITE_ID_BYTES * 256);
    poolAt = 0;
  }
  const id = pool.toString("base64url", poolAt, poolAt + WRITE_ID_BYTES);
  poolAt += WRITE_ID_BYTES;
  return id;
}

/** The ARGV of update-1 and rotate-2 before their tail (lua/include/change.lua), for one attempt. */
interface ChangeArgv extends StepArgv {
  userId: string;
  score: string;
  expectedAbsolute: string;
  expectedUser: string;
  writeId: string;
  previousUserKey: string;
  endOthers: string;
}

/** The ARGV that has a session script run the steps inline (lua/include/steps.lua); all "" for none. */
interface StepArgv {
  base: string;
  userKey: string;
  maxSessions: string;
  tombstoneMs: string;
}

function changeArgv(change: SessionChange, now: number, keepData: boolean, attempt: ChangeArgv) {
  return {
    now: String(now),
    expiresAt: String(change.expiresAt),
    lastSeenAt: String(change.lastSeenAt),
    absoluteExpiresAt: change.absoluteExpiresAt === undefined ? "" : String(change.absoluteExpiresAt),
    idleTimeout: change.idleTimeout === undefined ? "" : change.idleTimeout === null ? "-" : String(change.idleTimeout),
    userOp: change.user === undefined ? "" : change.user === null ? "-" : "+",
    ...attempt,
    keepData: keepData ? "1" : "0",
    nSet: String(Object.keys(change.set).length),
    nRemove: String(change.remove.length),
    nIncrement: String(Object.keys(change.increment).length),
    nSpecs: String(change.indexes?.length ?? 0),
    maxFields: change.limits ? String(change.limits.maxFields) : "",
    maxBytes: change.limits ? String(change.limits.maxBytes) : "",
  };
}

/** The tail of update-1 and rotate-2: set pairs, remove names, increment pairs, index spec triples. */
function changeTail(change: SessionChange): string[] {
  const tail: string[] = [];
  for (const [name, value] of Object.entries(change.set)) tail.push(name, value);
  tail.push(...change.remove);
  for (const [name, delta] of Object.entries(change.increment)) tail.push(name, String(delta));
  tail.push(...specArgs(change.indexes));
  return tail;
}

/** Index specs as the scripts take them: triples of kind ("f" or "p"), name, field or prefix. */
function specArgs(indexes: readonly IndexSpec[] | undefined): string[] {
  const args: string[] = [];
  for (const spec of indexes ?? []) {
    if ("field" in spec) args.push("f", spec.name, spec.field);
    else args.push("p", spec.name, spec.fieldPrefix);
  }
  return args;
}

export function createRedisDriver(port: RedisPort, options: RedisDriverOptions = {}): SessionDriver {
  const keys = createKeySchema(options.prefix);
  /** One server holds every key: the session scripts run the user-sessions, index and limit steps. */
  const inline = port.oneServer === true;
  let closed = false;

  /** Checks the driver can send now; returns the time the call is judged at (the caller's `now`, else the clock). */
  function begin(operation: string, at?: At): number {
    if (closed) throw new SessionError("CLOSED", `${port.name} driver: ${operation} after close()`);
    assertReady(port, operation);
    return at?.now ?? Date.now();
  }

  async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw storeError(port, operation, error);
    }
  }

  function run<S extends ScriptSpec<string, string>>(
    operation: string,
    spec: S,
    scriptKeys: Parameters<typeof invoke<S>>[2],
    argv: Parameters<typeof invoke<S>>[3],
    tail: readonly string[] = [],
  ): Promise<unknown> {
    return call(operation, () => invoke(port, spec, scriptKeys, argv, tail));
  }

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

  /** User-sessions step of a binding, before its write: the id joins the user's sessions (nobody is ended yet). */
  async function enlistUser(operation: string, now: number, userId: string, id: string, score: number | string): Promise<void> {
    const argv = { now: String(now), id, score: String(score), maxSessions: "" };
    await run(operation, SCRIPTS.user, { userSessions: keys.user(userId) }, argv);
  }

  /**
   * Runs `write` after the user-sessions step of `userId` (none when null). Inline, the session
   * script adds the id itself, atomically with the write. On a Cluster the step is awaited first:
   * the write never runs unless the id is in its user sessions.
   */
  async function afterEnlisting<T>(operation: string, now: number, userId: string | null, id: string, score: string, write: () => Promise<T>): Promise<T> {
    if (userId !== null && !inline) await enlistUser(operation, now, userId, id, score);
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

  /**
   * Limit step of a binding, after its write succeeded: ends the user's oldest other sessions beyond
   * `max`, and resolves the ids it ended. After the write, so a binding whose write fails ends nobody;
   * a binding ended meanwhile by a newer one (not listed any more) ends nobody either.
   */
  async function enforce(operation: string, now: number, userId: string, id: string, max: number | undefined): Promise<string[]> {
    if (max === undefined) return [];
    const reply = await run(operation, SCRIPTS.user, { userSessions: keys.user(userId) }, { now: String(now), id, score: "", maxSessions: String(max) });
    const entries = entriesOverLimit(reply);
    const ended = await Promise.all(entries.map((entry) => end(operation, now, userId, entry.id, entry.score)));
    return entries.filter((_, i) => ended[i]).map((entry) => entry.id);
  }

  async function unenlistUser(operation: string, userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await call(operation, () => port.zrem(keys.user(userId), ids));
  }

  /**
   * The index step after a session script: `fromId` leaves the entries it lost, `toId` is listed
   * (score = its expiresAt) under the entries it gained and, after a renewal or rotation, all of its
   * entries again. One command per index key, all in parallel.
   */
  async function relist(operation: string, now: number, fromId: string, toId: string, expiresAt: number, change: MembershipChange): Promise<void> {
    const listed = new Set([...change.added, ...change.current]);
    if (listed.size === 0 && change.removed.length === 0) return;
    await Promise.all([
      ...change.removed.map((membership) => call(operation, () => port.zrem(indexKey(membership), [fromId]))),
      ...[...listed].map((membership) =>
        run(operation, SCRIPTS.enlist, { index: indexKey(membership) }, { now: String(now), id: toId, score: String(expiresAt) }),
      ),
    ]);
  }

  function indexKey(membership: string): string {
    const [name, value] = splitMembership(membership);
    return keys.index(name, value);
  }

  function unlist(operation: string, now: number, id: string, memberships: string[]): Promise<void> {
    return relist(operation, now, id, id, 0, { added: [], removed: memberships, current: [] });
  }

  /** end-1 on behalf of `userId`'s user sessions, then the ended session's index entries. */
  async function end(operation: string, now: number, userId: string, id: string, score: string): Promise<boolean> {
    const outcome = endOutcome(
      await run(operation, SCRIPTS.end, { session: keys.session(id) }, { userId, score, tombstoneMs: String(TOMBSTONE_MS), now: String(now) }),
    );
    await unlist(operation, now, id, outcome.memberships);
    return outcome.ended;
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
      // The new id of a rotation that wrote nothing is in no session: out of the user sessions again
      // (inline, it never joined them).
      const withdraw = () => (moving && user !== null && !inline ? unenlistUser(operation, user, [toId]) : undefined);
      const argv = changeArgv(change, now, keepData, {
        userId: user ?? "",
        score: user === null ? "" : score,
        expectedAbsolute: expected.a,
        expectedUser: expected.u,
        writeId,
        ...stepArgv(binding, user),
        previousUserKey: inline && expected.u !== "" ? keys.user(expected.u) : "",
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
      // Inline, the script took the old id out of the user sessions it was given (the expected user's).
      const leftUser = inline && expected.u !== "" && previous === expected.u;
      const [, , ended] = await Promise.all([
        previous !== null && !leftUser && (moving || previous !== finalUser || stored === null) ? unenlistUser(operation, previous, [fromId]) : undefined,
        inline ? undefined : relist(operation, now, fromId, toId, outcome.memberships.expiresAt ?? change.expiresAt, outcome.memberships),
        inline ? outcome.ended : binding && stored !== null ? enforce(operation, now, binding.userId, toId, binding.maxSessions) : [],
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
      let hash: Record<string, string>;
      try {
        hash = await port.hgetall(keys.session(id));
      } catch (error) {
        if (isWrongType(error)) return null;
        throw storeError(port, "load", error);
      }
      const record = recordOf(id, hash);
      return record === null || record.expiresAt <= now ? null : record;
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
            relist("create", now, id, id, session.expiresAt, { added: outcome.memberships, removed: [], current: [] }),
            user ? (outcome.created ? enforce("create", now, user.userId, id, user.maxSessions) : unenlistUser("create", user.userId, [id])) : [],
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
        outcome.userId === null ? undefined : unenlistUser("destroy", outcome.userId, [id]),
        unlist("destroy", now, id, outcome.memberships),
      ]);
      return outcome.destroyed;
    },

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

    async close() {
      closed = true;
    },
  };
}

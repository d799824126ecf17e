/**
 * The shared `SessionDriver` implementation on the client port.
 *
 * Session hash fields: user fields under their own names (JSON text), metadata under `$` names:
 *   $c createdAt   $s lastSeenAt   $x expiresAt   $a absoluteExpiresAt   (ms since epoch, decimal)
 *   $u userId      $ua user agent  $ip ip         (absent when null)
 *   $ev eviction marker "<userId>|<score>" (see lua/kill-1.lua)
 *   $i  secondary-index memberships: JSON array of "<index name>\0<value>" (see lua/include/indexes.lua)
 *   $w  the write ids of the session's last 8 writes, space-separated, newest last (see lua/include/writes.lua)
 * A tombstone is a hash holding only `$dead` (TTL 60 s, at most the replaced session's remaining
 * absolute lifetime). A hash without `$c` is not a session.
 * Every write sets PEXPIREAT <expiresAt> on the session key; user indexes expire at their highest score.
 *
 * Write ids: each create, update and rotate call draws a random id, sent with every attempt of that
 * call. A script that finds its id in the session's $w has already run (a client re-sent it after a
 * reconnect, ioredis's autoResendUnfulfilledCommands) and answers as it did instead of writing again.
 *
 * Secondary indexes: one sorted set per (index name, value), member = session id, score = the
 * session's expiresAt, key expiry = its highest score. The session scripts compute memberships
 * atomically from the stored fields and answer what changed; the driver then lists (enlist-1) and
 * unlists (ZREM) the id, each index key alone (its own slot on a cluster), in parallel. Counting
 * prunes expired entries (count-1); listing skips (and removes) entries whose session is gone.
 */
import { randomBytes } from "node:crypto";
import { SessionError } from "@sess/core";
import type {
  Counters,
  IndexSpec,
  NewSession,
  SessionChange,
  SessionDriver,
  SessionMeta,
  SessionRecord,
  SessionRotation,
  UserBinding,
} from "@sess/core";
import { createKeySchema } from "./keys.js";
import { scripts } from "./lua.generated.js";
import type { EmbeddedScript } from "./lua.generated.js";
import { assertReady, isWrongType, runScript, storeError } from "./port.js";
import type { RedisPort } from "./port.js";
import {
  countOutcome,
  createOutcome,
  destroyOutcome,
  evictedEntries,
  killOutcome,
  pageOutcome,
  splitMembership,
  storedMemberships,
  writeOutcome,
} from "./replies.js";
import type { MembershipChange, WriteOutcome } from "./replies.js";

export interface RedisDriverOptions {
  /** Key prefix (default "sess"). Must not contain "{" or "}". */
  prefix?: string;
}

/** How long a tombstone left by kill-1 refuses inserts under its id. */
export const TOMBSTONE_MS = 60_000;
/** Attempts of a binding write whose expectation keeps failing under concurrent logins. */
const MAX_ATTEMPTS = 8;

const META_FIELDS = ["$c", "$s", "$x", "$a", "$u", "$ua", "$ip"] as const;

function metaOf(id: string, values: readonly (string | null | undefined)[]): SessionMeta | null {
  const [c, s, x, a, u, ua, ip] = values;
  if (c == null || s == null || x == null || a == null) return null;
  const numbers = [Number(c), Number(s), Number(x), Number(a)] as const;
  if (!numbers.every(Number.isFinite)) return null;
  return {
    id,
    createdAt: numbers[0],
    lastSeenAt: numbers[1],
    expiresAt: numbers[2],
    absoluteExpiresAt: numbers[3],
    userId: u ?? null,
    userAgent: ua ?? null,
    ip: ip ?? null,
  };
}

/** Random per process: write ids of different processes never meet. */
const WRITE_ID_PREFIX = randomBytes(9).toString("base64url");
let writeCount = 0;

/**
 * A write id, one per driver write call (see lua/include/writes.lua): 72 random bits chosen once
 * per process, then a counter. Unique across processes and calls, without a CSPRNG call per write.
 */
export function newWriteId(): string {
  writeCount = (writeCount + 1) % Number.MAX_SAFE_INTEGER;
  return WRITE_ID_PREFIX + writeCount.toString(36);
}

/** ARGV[1..9] of update-1 and rotate-2; `indexUser`/`score`: the user index entry this write relies on. */
function changeArgs(change: SessionChange, indexUser: string | null, score: string, expectation: string, writeId: string): string[] {
  const op = change.user === undefined ? "" : change.user === null ? "-" : "+";
  const args = [
    "", // now, filled in at send time
    String(change.expiresAt),
    String(change.lastSeenAt),
    change.absoluteExpiresAt === undefined ? "" : String(change.absoluteExpiresAt),
    op,
    change.user ? change.user.userId : (indexUser ?? ""),
    indexUser === null ? "" : score,
    expectation,
    writeId,
  ];
  return args;
}

/** The field counts (nSet, nRemove, nIncrement), the nSpecs count, the limits, and the body: fields then index specs. */
function fieldArgs(change: SessionChange): { counts: string[]; specCount: string; limits: string[]; body: string[] } {
  const set = Object.entries(change.set);
  const increments = Object.entries(change.increment);
  const body: string[] = [];
  for (const [name, value] of set) body.push(name, value);
  body.push(...change.remove);
  for (const [name, delta] of increments) body.push(name, String(delta));
  const specs = specArgs(change.indexes);
  body.push(...specs);
  return {
    counts: [String(set.length), String(change.remove.length), String(increments.length)],
    specCount: String(specs.length / 3),
    limits: change.limits ? [String(change.limits.maxFields), String(change.limits.maxBytes)] : ["", ""],
    body,
  };
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
  let closed = false;

  function begin(operation: string): void {
    if (closed) throw new SessionError("CLOSED", `${port.name} driver: ${operation} after close()`);
    assertReady(port, operation);
  }

  async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw storeError(port, operation, error);
    }
  }

  function script(operation: string, which: EmbeddedScript, scriptKeys: string[], args: string[]): Promise<unknown> {
    return call(operation, () => runScript(port, which, scriptKeys, args));
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

  /** Index step of a binding, before its write: the id joins the user's index (nothing is evicted yet). */
  async function index(operation: string, userId: string, id: string, score: number | string): Promise<void> {
    await script(operation, scripts.index, [keys.user(userId)], [String(Date.now()), id, String(score), ""]);
  }

  /**
   * Limit step of a binding, after its write succeeded: ends the user's oldest other sessions beyond
   * `max`. After the write, so a binding whose write fails ends nobody; a binding evicted meanwhile
   * by a newer one (not listed any more) evicts nobody either.
   */
  async function enforce(operation: string, userId: string, id: string, max: number | undefined): Promise<void> {
    if (max === undefined) return;
    const reply = await script(operation, scripts.index, [keys.user(userId)], [String(Date.now()), id, "", String(max)]);
    await Promise.all(evictedEntries(reply).map((entry) => kill(operation, userId, entry.id, entry.score)));
  }

  async function unindex(operation: string, userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await call(operation, () => port.zrem(keys.user(userId), ids));
  }

  /**
   * The index step after a session script: `fromId` leaves the entries it lost, `toId` is listed
   * (score = its expiresAt) under the entries it gained and, after a renewal or rotation, all of its
   * entries again. One command per index key, all in parallel.
   */
  async function relist(operation: string, fromId: string, toId: string, expiresAt: number, change: MembershipChange): Promise<void> {
    const listed = new Set([...change.added, ...change.current]);
    if (listed.size === 0 && change.removed.length === 0) return;
    const now = String(Date.now());
    await Promise.all([
      ...change.removed.map((membership) => call(operation, () => port.zrem(indexKey(membership), [fromId]))),
      ...[...listed].map((membership) => script(operation, scripts.enlist, [indexKey(membership)], [now, toId, String(expiresAt)])),
    ]);
  }

  function indexKey(membership: string): string {
    const [name, value] = splitMembership(membership);
    return keys.index(name, value);
  }

  function unlist(operation: string, id: string, memberships: string[]): Promise<void> {
    return relist(operation, id, id, 0, { added: [], removed: memberships, current: [] });
  }

  /** kill-1 on behalf of `userId`'s index, then the ended session's index entries. */
  async function kill(operation: string, userId: string, id: string, score: string): Promise<boolean> {
    const outcome = killOutcome(
      await script(operation, scripts.kill, [keys.session(id)], [userId, score, String(TOMBSTONE_MS), String(Date.now())]),
    );
    await unlist(operation, id, outcome.memberships);
    return outcome.ended;
  }

  /**
   * Shared body of update and rotate: index first (so a live session is never missing from its
   * user's index), then the atomic write, then the per-user limit and removal of entries the write
   * made stale. A rotation that writes nothing takes its new id out of the index again.
   */
  async function write(
    operation: string,
    fromId: string,
    toId: string,
    change: SessionChange,
    send: (args: string[]) => Promise<unknown>,
  ): Promise<Counters | null> {
    const binding: UserBinding | null | undefined = change.user;
    // One id for every attempt of this call: whichever attempt ran, a re-sent copy of it is a no-op.
    const writeId = newWriteId();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const moving = fromId !== toId;
      // The index step needs the user the session ends up bound to and its absolute deadline
      // (the index score); read them when the change does not carry them.
      const newAbsolute = change.absoluteExpiresAt;
      const needsRead =
        moving || (binding != null && newAbsolute === undefined) || (binding === undefined && newAbsolute !== undefined);
      let expectation = "";
      let score = newAbsolute === undefined ? "" : String(newAbsolute);
      let indexUser: string | null = binding ? binding.userId : null;
      if (needsRead) {
        const current = await readBinding(operation, fromId);
        if (current === null) return null;
        expectation = `${current.a}|${current.u}`;
        if (score === "") score = current.a;
        if (binding === undefined) indexUser = current.u === "" ? null : current.u;
      }
      if (indexUser !== null) await index(operation, indexUser, toId, score);
      // The new id of a rotation that wrote nothing is in no session: out of the index again.
      const withdraw = () => (moving && indexUser !== null ? unindex(operation, indexUser, [toId]) : undefined);
      const args = changeArgs(change, indexUser, score, expectation, writeId);
      const reply = await send(args);
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
      await Promise.all([
        previous !== null && (moving || previous !== finalUser || change.expiresAt <= Date.now())
          ? unindex(operation, previous, [fromId])
          : undefined,
        relist(operation, fromId, toId, outcome.memberships.expiresAt ?? change.expiresAt, outcome.memberships),
        binding ? enforce(operation, binding.userId, toId, binding.maxSessions) : undefined,
      ]);
      return outcome.counters;
    }
    throw new SessionError("STORE_UNAVAILABLE", `${operation}: gave up after ${MAX_ATTEMPTS} concurrent logins changed the session`);
  }

  return {
    name: port.name,

    async load(id) {
      begin("load");
      let hash: Record<string, string>;
      try {
        hash = await port.hgetall(keys.session(id));
      } catch (error) {
        if (isWrongType(error)) return null;
        throw storeError(port, "load", error);
      }
      const meta = metaOf(id, META_FIELDS.map((name) => hash[name]));
      if (meta === null || meta.expiresAt <= Date.now()) return null;
      const fields: Record<string, string> = {};
      for (const [name, value] of Object.entries(hash)) {
        if (!name.startsWith("$") && name !== "__proto__") fields[name] = value;
      }
      const record: SessionRecord = { ...meta, fields };
      return record;
    },

    async create(id, session: NewSession) {
      begin("create");
      if (session.user) await index("create", session.user.userId, id, session.absoluteExpiresAt);
      const binding = session.user ? `${session.user.userId}|${String(session.absoluteExpiresAt)}` : "";
      const specs = specArgs(session.indexes);
      const args = [String(Date.now()), String(session.expiresAt), binding, newWriteId(), String(specs.length / 3), ...specs];
      args.push("$c", String(session.createdAt), "$s", String(session.lastSeenAt));
      args.push("$x", String(session.expiresAt), "$a", String(session.absoluteExpiresAt));
      if (session.user) args.push("$u", session.user.userId);
      if (session.userAgent !== null) args.push("$ua", session.userAgent);
      if (session.ip !== null) args.push("$ip", session.ip);
      for (const [name, value] of Object.entries(session.fields)) args.push(name, value);
      const outcome = createOutcome(await script("create", scripts.create, [keys.session(id)], args));
      const user = session.user;
      await Promise.all([
        relist("create", id, id, session.expiresAt, { added: outcome.memberships, removed: [], current: [] }),
        user && (outcome.created ? enforce("create", user.userId, id, user.maxSessions) : unindex("create", user.userId, [id])),
      ]);
      return outcome.created;
    },

    async update(id, change) {
      begin("update");
      const fields = fieldArgs(change);
      return write("update", id, id, change, (args) => {
        args[0] = String(Date.now());
        return script("update", scripts.update, [keys.session(id)], [
          ...args,
          ...fields.counts,
          fields.specCount,
          ...fields.limits,
          ...fields.body,
        ]);
      });
    },

    async rotate(fromId, toId, rotation: SessionRotation) {
      begin("rotate");
      if (fromId === toId) return null;
      const fields = fieldArgs(rotation);
      return write("rotate", fromId, toId, rotation, (args) => {
        args[0] = String(Date.now());
        return script("rotate", scripts.rotate, [keys.session(fromId), keys.session(toId)], [
          ...args,
          ...fields.counts,
          rotation.keepData ? "1" : "0",
          fields.specCount,
          ...fields.limits,
          ...fields.body,
        ]);
      });
    },

    async destroy(id) {
      begin("destroy");
      const outcome = destroyOutcome(await script("destroy", scripts.destroy, [keys.session(id)], []));
      await Promise.all([
        outcome.userId === null ? undefined : unindex("destroy", outcome.userId, [id]),
        unlist("destroy", id, outcome.memberships),
      ]);
      return outcome.destroyed;
    },

    async listUserSessions(userId) {
      begin("listUserSessions");
      const entries = await call("listUserSessions", () => port.zrangeWithScores(keys.user(userId)));
      const now = Date.now();
      const metas = await Promise.all(
        entries.map(async (entry) => {
          if (entry.score <= now) return null;
          try {
            return metaOf(entry.member, await port.hmget(keys.session(entry.member), [...META_FIELDS]));
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
        // A stale entry is first made harmless (tombstone or eviction marker), then removed, so an
        // in-flight write it belongs to can never produce a live session missing from the index.
        await Promise.all(
          stale
            .filter((entry) => entry.score > now)
            .map((entry) => kill("listUserSessions", userId, entry.member, String(entry.score))),
        );
        await unindex("listUserSessions", userId, stale.map((entry) => entry.member));
      }
      return live.sort(
        (x, y) =>
          x.absoluteExpiresAt - y.absoluteExpiresAt || x.createdAt - y.createdAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
      );
    },

    async endUserSessions(userId, endOptions) {
      begin("endUserSessions");
      const entries = await call("endUserSessions", () => port.zrangeWithScores(keys.user(userId)));
      const targets = entries.filter((entry) => entry.member !== endOptions?.exceptId);
      const ended = await Promise.all(targets.map((entry) => kill("endUserSessions", userId, entry.member, String(entry.score))));
      await unindex("endUserSessions", userId, targets.map((entry) => entry.member));
      return ended.filter(Boolean).length;
    },

    async countIndex(name, value) {
      begin("countIndex");
      return countOutcome(await script("countIndex", scripts.count, [keys.index(name, value)], [String(Date.now())]));
    },

    async findIndex(name, value, page) {
      begin("findIndex");
      const key = keys.index(name, value);
      const now = Date.now();
      const ids = pageOutcome(
        await script("findIndex", scripts.page, [key], [String(now), String(page.offset), String(page.limit + 1)]),
      );
      const more = ids.length > page.limit;
      const candidates = ids.slice(0, page.limit);
      const membership = `${name}\0${value}`;
      const found = await Promise.all(
        candidates.map(async (id) => {
          try {
            const values = await port.hmget(keys.session(id), [...META_FIELDS, "$i"]);
            return { meta: metaOf(id, values), memberships: storedMemberships(values[META_FIELDS.length]) };
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

/**
 * The shared `SessionDriver` implementation on the client port.
 *
 * Session hash fields: user fields under their own names (JSON text), metadata under `$` names:
 *   $c createdAt   $s lastSeenAt   $x expiresAt   $a absoluteExpiresAt   (ms since epoch, decimal)
 *   $u userId      $ua user agent  $ip ip         (absent when null)
 *   $ev eviction marker "<userId>|<score>" (see lua/kill-1.lua)
 * A tombstone is a hash holding only `$dead` (TTL 60 s). A hash without `$c` is not a session.
 * Every write sets PEXPIREAT <expiresAt> on the session key; user indexes expire at their highest score.
 */
import { SessionError } from "@sess/core";
import type {
  Counters,
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
import { createOutcome, destroyOutcome, evictedEntries, killOutcome, writeOutcome } from "./replies.js";
import type { WriteOutcome } from "./replies.js";

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

/** ARGV[1..8] of update-1 and rotate-2; `indexUser`/`score`: the user index entry this write relies on. */
function changeArgs(change: SessionChange, indexUser: string | null, score: string, expectation: string): string[] {
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
  ];
  return args;
}

function fieldArgs(change: SessionChange): string[] {
  const set = Object.entries(change.set);
  const increments = Object.entries(change.increment);
  const args = [String(set.length), String(change.remove.length), String(increments.length)];
  for (const [name, value] of set) args.push(name, value);
  args.push(...change.remove);
  for (const [name, delta] of increments) args.push(name, String(delta));
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

  /** Index step of a binding: add the id to the user's index, then end whatever the limit evicted. */
  async function index(operation: string, userId: string, id: string, score: number | string, max?: number): Promise<void> {
    const reply = await script(operation, scripts.index, [keys.user(userId)], [
      String(Date.now()),
      id,
      String(score),
      max === undefined ? "" : String(max),
    ]);
    await Promise.all(
      evictedEntries(reply).map((entry) =>
        script(operation, scripts.kill, [keys.session(entry.id)], [userId, entry.score, String(TOMBSTONE_MS)]),
      ),
    );
  }

  async function unindex(operation: string, userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await call(operation, () => port.zrem(keys.user(userId), ids));
  }

  /**
   * Shared body of update and rotate: index first (so a live session is never missing from its
   * user's index), then the atomic write, then removal of entries the write made stale.
   */
  async function write(
    operation: string,
    fromId: string,
    toId: string,
    change: SessionChange,
    send: (args: string[]) => Promise<unknown>,
  ): Promise<Counters | null> {
    const binding: UserBinding | null | undefined = change.user;
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
      if (indexUser !== null) await index(operation, indexUser, toId, score, binding?.maxSessions);
      const args = changeArgs(change, indexUser, score, expectation);
      const outcome: WriteOutcome = writeOutcome(await send(args), operation);
      if (outcome.kind === "retry") continue;
      if (outcome.kind !== "written") return null;
      const previous = outcome.previousUserId;
      const finalUser = binding === undefined ? previous : binding === null ? null : binding.userId;
      if (previous !== null && (moving || previous !== finalUser || change.expiresAt <= Date.now())) {
        await unindex(operation, previous, [fromId]);
      }
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
      if (session.user) {
        await index("create", session.user.userId, id, session.absoluteExpiresAt, session.user.maxSessions);
      }
      const binding = session.user ? `${session.user.userId}|${String(session.absoluteExpiresAt)}` : "";
      const args = [String(Date.now()), String(session.expiresAt), binding];
      args.push("$c", String(session.createdAt), "$s", String(session.lastSeenAt));
      args.push("$x", String(session.expiresAt), "$a", String(session.absoluteExpiresAt));
      if (session.user) args.push("$u", session.user.userId);
      if (session.userAgent !== null) args.push("$ua", session.userAgent);
      if (session.ip !== null) args.push("$ip", session.ip);
      for (const [name, value] of Object.entries(session.fields)) args.push(name, value);
      return createOutcome(await script("create", scripts.create, [keys.session(id)], args));
    },

    async update(id, change) {
      begin("update");
      return write("update", id, id, change, (args) => {
        args[0] = String(Date.now());
        return script("update", scripts.update, [keys.session(id)], [...args, ...fieldArgs(change)]);
      });
    },

    async rotate(fromId, toId, rotation: SessionRotation) {
      begin("rotate");
      if (fromId === toId) return null;
      return write("rotate", fromId, toId, rotation, (args) => {
        args[0] = String(Date.now());
        return script("rotate", scripts.rotate, [keys.session(fromId), keys.session(toId)], [
          ...args,
          ...fieldArgs(rotation).slice(0, 3),
          rotation.keepData ? "1" : "0",
          ...fieldArgs(rotation).slice(3),
        ]);
      });
    },

    async destroy(id) {
      begin("destroy");
      const outcome = destroyOutcome(await script("destroy", scripts.destroy, [keys.session(id)], []));
      if (outcome.userId !== null) await unindex("destroy", outcome.userId, [id]);
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
            .map((entry) =>
              script("listUserSessions", scripts.kill, [keys.session(entry.member)], [
                userId,
                String(entry.score),
                String(TOMBSTONE_MS),
              ]),
            ),
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
      const ended = await Promise.all(
        targets.map(async (entry) =>
          killOutcome(
            await script("endUserSessions", scripts.kill, [keys.session(entry.member)], [
              userId,
              String(entry.score),
              String(TOMBSTONE_MS),
            ]),
          ),
        ),
      );
      await unindex("endUserSessions", userId, targets.map((entry) => entry.member));
      return ended.filter(Boolean).length;
    },

    async close() {
      closed = true;
    },
  };
}

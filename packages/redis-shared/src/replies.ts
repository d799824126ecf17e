/**
 * The one table from script replies to typed results. Scripts answer with a status code first
 * (see the header of each file in lua/); this module turns codes into results or `SessionError`s.
 */
import { SessionError } from "@sess/core";
import type { Counters } from "@sess/core";

/**
 * What a write did to the session's secondary-index memberships (`<name>\0<value>` strings):
 * `removed` are unlisted for the old id, `added` and `current` listed for the (new) id.
 */
export interface MembershipChange {
  added: string[];
  removed: string[];
  current: string[];
  /** The session's expiry after the write (its index score), when the script reports it. */
  expiresAt?: number;
}

/** The times a write left in the store (`$x $s $a $t`); null when the write deleted the session. */
export interface StoredTimes {
  expiresAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  idleTimeout: number | null;
}

export type WriteOutcome =
  | {
      kind: "written";
      previousUserId: string | null;
      memberships: MembershipChange;
      stored: StoredTimes | null;
      counters: Counters;
      /** The ids the script's inline limit step ended (none when the caller runs the steps). */
      ended: string[];
      /** The ids the script ended for `endOtherSessions` (inline only). */
      endedOthers: string[];
    }
  | { kind: "missing" }
  | { kind: "retry" }
  | { kind: "taken" };

/**
 * Status codes of update-1 and rotate-2. A re-sent call whose write id the session already holds
 * answers 1 as well, with the current counters and memberships (see lua/include/writes.lua).
 */
const WRITE_CODES: Record<number, (reply: unknown[], operation: string) => WriteOutcome> = {
  1: (reply, operation) => writtenOf(reply, operation),
  0: () => ({ kind: "missing" }),
  [-1]: (reply, operation) => {
    throw new SessionError(
      "VALUE_INVALID",
      `${operation} refused: field "${text(reply[1])}" does not hold an integer (or the result leaves the safe integer range); nothing was written`,
    );
  },
  [-2]: () => ({ kind: "retry" }),
  [-4]: (reply, operation) => {
    const [measure, value, limit] = [text(reply[1]), text(reply[2]), text(reply[3])];
    throw new SessionError(
      "PAYLOAD_TOO_LARGE",
      measure === "fields"
        ? `${operation} refused: the session would hold ${value} fields, more than limits.maxFields (${limit}); nothing was written`
        : `${operation} refused: the session would hold ${value} bytes of data, more than limits.maxBytes (${limit}); nothing was written`,
    );
  },
  [-3]: () => ({ kind: "taken" }),
};

export function writeOutcome(reply: unknown, operation: string): WriteOutcome {
  if (!Array.isArray(reply)) throw unexpected(operation, reply);
  const handler = WRITE_CODES[integer(reply[0])];
  if (handler === undefined) throw unexpected(operation, reply);
  return handler(reply, operation);
}

/**
 * create-1: {1, memberships, ended} created (or accepted and already over, with none; or created
 * earlier by this same call, re-sent: the stored memberships), {0} refused.
 */
export function createOutcome(reply: unknown): { created: boolean; memberships: string[]; ended: string[] } {
  const code = Array.isArray(reply) ? integer(reply[0]) : NaN;
  if (!Array.isArray(reply) || (code !== 1 && code !== 0)) throw unexpected("create", reply);
  return { created: code === 1, memberships: textsOf(reply[1]), ended: textsOf(reply[2]) };
}

/** destroy-1: {1, userId or "", $i} deleted, {0} nothing there. */
export function destroyOutcome(reply: unknown): { destroyed: boolean; userId: string | null; memberships: string[] } {
  if (!Array.isArray(reply)) throw unexpected("destroy", reply);
  return integer(reply[0]) === 1
    ? { destroyed: true, userId: text(reply[1]) || null, memberships: storedMemberships(reply[2]) }
    : { destroyed: false, userId: null, memberships: [] };
}

/** end-1: {1, $i} a live session was ended, {0} otherwise. */
export function endOutcome(reply: unknown): { ended: boolean; memberships: string[] } {
  const code = Array.isArray(reply) ? integer(reply[0]) : NaN;
  if (!Array.isArray(reply) || (code !== 1 && code !== 0)) throw unexpected("end", reply);
  return code === 1 ? { ended: true, memberships: storedMemberships(reply[1]) } : { ended: false, memberships: [] };
}

/** count-1: the number of live entries. */
export function countOutcome(reply: unknown): number {
  const count = integer(reply);
  if (!Number.isSafeInteger(count)) throw unexpected("countIndex", reply);
  return count;
}

/** page-1: session ids. */
export function pageOutcome(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw unexpected("findIndex", reply);
  return textsOf(reply);
}

/** The session's `$i` field: a JSON array of memberships (anything else reads as none). */
export function storedMemberships(value: unknown): string[] {
  if (value == null) return [];
  try {
    const parsed: unknown = JSON.parse(text(value));
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/** `<name>\0<value>` → [name, value]. */
export function splitMembership(membership: string): [name: string, value: string] {
  const at = membership.indexOf("\0");
  return at < 0 ? [membership, ""] : [membership.slice(0, at), membership.slice(at + 1)];
}

/** Where the lists of a written reply start: after the code, the user, four times, expiresAt and five counts. */
const LISTS_AT = 12;

/**
 * A written reply of update-1 or rotate-2, one flat array (see lua/include/change.lua):
 * {1, previousUserId, $x, $s, $a, $t, expiresAt, nAdded, nRemoved, nCurrent, nEnded, nEndedOthers,
 * the five lists in that order, then the counters' field/value pairs}.
 */
function writtenOf(reply: unknown[], operation: string): WriteOutcome {
  const counts: number[] = [];
  let end = LISTS_AT;
  for (let i = LISTS_AT - 5; i < LISTS_AT; i++) {
    const count = integer(reply[i]);
    if (!Number.isInteger(count) || count < 0) throw unexpected(operation, reply);
    counts.push(count);
    end += count;
  }
  if (end > reply.length) throw unexpected(operation, reply);
  let at = LISTS_AT;
  const next = (count: number): string[] => {
    const items: string[] = [];
    for (const stop = at + count; at < stop; at++) items.push(text(reply[at]));
    return items;
  };
  const memberships: MembershipChange = { added: next(counts[0]!), removed: next(counts[1]!), current: next(counts[2]!) };
  const expiresAt = text(reply[6]);
  if (expiresAt !== "" && Number.isFinite(Number(expiresAt))) memberships.expiresAt = Number(expiresAt);
  return {
    kind: "written",
    previousUserId: text(reply[1]) || null,
    memberships,
    stored: storedTimesOf(reply.slice(2, 6)),
    ended: next(counts[3]!),
    endedOthers: next(counts[4]!),
    counters: countersOf(reply.slice(end)),
  };
}

function textsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text) : [];
}

/** {$x, $s, $a, $t}: null when the write deleted the session ("" for each) or a time is not a number. */
function storedTimesOf(value: unknown[]): StoredTimes | null {
  if (text(value[0]) === "") return null;
  const [x, s, a] = [integer(value[0]), integer(value[1]), integer(value[2])];
  if (![x, s, a].every(Number.isFinite)) return null;
  const t = text(value[3]);
  return { expiresAt: x, lastSeenAt: s, absoluteExpiresAt: a, idleTimeout: t === "" || !Number.isFinite(Number(t)) ? null : Number(t) };
}

/** user-1: the entries beyond the limit (the caller ends those sessions). */
export function entriesOverLimit(reply: unknown): { id: string; score: string }[] {
  if (!Array.isArray(reply)) throw unexpected("user", reply);
  const entries: { id: string; score: string }[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ id: text(reply[i]), score: text(reply[i + 1]) });
  return entries;
}

/**
 * A reply item as text: strings, Buffers, numbers (integers, RESP3 doubles) and bigints as written,
 * booleans (RESP3) as 1/0, anything else (null, nested replies) as "".
 */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  return "";
}

/** A status code or integer reply as a number, whether the client gives it as a number or as text (ioredis `stringNumbers`). */
function integer(value: unknown): number {
  return typeof value === "number" ? value : Number(text(value));
}

/*
 * Replies of plain commands, the same whatever the client, protocol (RESP2, RESP3) or reply mapping:
 * a map arrives as a flat [k, v, k, v] array (RESP2, ioredis's "legacy" mapping), an array of
 * [k, v] pairs, a Map, or an object (plain or null-prototype); a score as a number or as text; a
 * sorted-set entry with scores as flat [member, score] items, [member, score] pairs or
 * { value, score } objects (node-redis).
 */

/** Field/value pairs of a map reply (HGETALL, CONFIG GET), in any of the shapes above. */
export function pairsOf(reply: unknown): [string, unknown][] {
  if (reply == null) return [];
  if (reply instanceof Map) return [...reply.entries()].map(([name, value]) => [text(name), value]);
  if (Array.isArray(reply)) {
    if (reply.every((item) => Array.isArray(item) && item.length === 2)) {
      return (reply as unknown[][]).map((pair) => [text(pair[0]), pair[1]]);
    }
    const pairs: [string, unknown][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([text(reply[i]), reply[i + 1]]);
    return pairs;
  }
  if (typeof reply === "object") return Object.keys(reply).map((name) => [name, (reply as Record<string, unknown>)[name]]);
  return [];
}

/**
 * HGETALL: field → value, `__proto__` left out (it could only be planted by another writer). The
 * shape ioredis and node-redis answer with by default, an object of strings, is a fresh object per
 * reply and is returned as it is (one pass over it, no copy).
 */
export function hashOf(reply: unknown): Record<string, string> {
  if (isTextObject(reply)) return reply;
  if (Array.isArray(reply)) {
    const hash = textPairsOf(reply);
    if (hash !== null) return hash;
  }
  const hash: Record<string, string> = {};
  for (const [name, value] of pairsOf(reply)) {
    if (name !== "__proto__") hash[name] = text(value);
  }
  return hash;
}

/** A flat [name, value, …] array of strings (RESP2, ioredis's raw reply) as an object in one pass, or null when it holds anything else. */
function textPairsOf(reply: unknown[]): Record<string, string> | null {
  if (reply.length % 2 !== 0) return null;
  const hash: Record<string, string> = {};
  for (let i = 0; i < reply.length; i += 2) {
    const name = reply[i];
    const value = reply[i + 1];
    if (typeof name !== "string" || typeof value !== "string") return null;
    if (name !== "__proto__") hash[name] = value;
  }
  return hash;
}

/** Whether `reply` is a plain (or null-prototype) object whose own values are all strings, without a `__proto__` key. */
function isTextObject(reply: unknown): reply is Record<string, string> {
  if (reply === null || typeof reply !== "object" || Array.isArray(reply) || reply instanceof Map || reply instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(reply) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const object = reply as Record<string, unknown>;
  const names = Object.keys(object);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name === "__proto__" || typeof object[name] !== "string") return false;
  }
  return true;
}

/** CONFIG GET <name>: its value, or null when the server has no such setting. */
export function configValueOf(reply: unknown, name: string): string | null {
  const found = pairsOf(reply).find(([key]) => key === name);
  return found === undefined ? null : text(found[1]);
}

/** HMGET: one value or null per field. */
export function valuesOf(reply: unknown): (string | null)[] {
  return Array.isArray(reply) ? reply.map((value: unknown) => (value == null ? null : text(value))) : [];
}

/** ZRANGE … WITHSCORES: members with their scores, in the reply's order. */
export function scoredMembersOf(reply: unknown): { member: string; score: number }[] {
  if (!Array.isArray(reply)) return [];
  if (reply.every((item) => item !== null && typeof item === "object" && !Array.isArray(item) && !(item instanceof Uint8Array))) {
    return (reply as { value: unknown; score: unknown }[]).map((entry) => ({ member: text(entry.value), score: Number(text(entry.score)) }));
  }
  return pairsOf(reply).map(([member, score]) => ({ member, score: Number(text(score)) }));
}

function countersOf(pairs: unknown[]): Counters {
  const counters: Counters = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) counters[text(pairs[i])] = integer(pairs[i + 1]);
  return counters;
}

function unexpected(operation: string, reply: unknown): SessionError {
  return new SessionError("STORE_UNAVAILABLE", `${operation}: unexpected script reply ${JSON.stringify(reply)}`);
}

/**
 * The one table from script replies to typed results. Scripts answer with a status code first
 * (see the header of each file in lua/); this module turns codes into results or `SessionError`s.
 */
import { SessionError } from "@sess/core";
import type { Counters } from "@sess/core";

export type WriteOutcome =
  | { kind: "written"; previousUserId: string | null; counters: Counters }
  | { kind: "missing" }
  | { kind: "retry" }
  | { kind: "taken" };

/** Status codes of update-1 and rotate-2. */
const WRITE_CODES: Record<number, (reply: unknown[], operation: string) => WriteOutcome> = {
  1: (reply) => ({ kind: "written", previousUserId: text(reply[1]) || null, counters: countersOf(reply.slice(2)) }),
  0: () => ({ kind: "missing" }),
  [-1]: (reply, operation) => {
    throw new SessionError(
      "VALUE_INVALID",
      `${operation} refused: field "${text(reply[1])}" does not hold an integer (or the result leaves the safe integer range); nothing was written`,
    );
  },
  [-2]: () => ({ kind: "retry" }),
  [-3]: () => ({ kind: "taken" }),
};

export function writeOutcome(reply: unknown, operation: string): WriteOutcome {
  if (!Array.isArray(reply)) throw unexpected(operation, reply);
  const handler = WRITE_CODES[Number(reply[0])];
  if (handler === undefined) throw unexpected(operation, reply);
  return handler(reply, operation);
}

/** create-1: 1 created, 0 refused. */
export function createOutcome(reply: unknown): boolean {
  if (reply !== 1 && reply !== 0) throw unexpected("create", reply);
  return reply === 1;
}

/** destroy-1: {1, userId or ""} deleted, {0} nothing there. */
export function destroyOutcome(reply: unknown): { destroyed: boolean; userId: string | null } {
  if (!Array.isArray(reply)) throw unexpected("destroy", reply);
  return reply[0] === 1 ? { destroyed: true, userId: text(reply[1]) || null } : { destroyed: false, userId: null };
}

/** kill-1: 1 a live session was ended, 0 otherwise. */
export function killOutcome(reply: unknown): boolean {
  if (reply !== 1 && reply !== 0) throw unexpected("kill", reply);
  return reply === 1;
}

/** index-1: the evicted entries. */
export function evictedEntries(reply: unknown): { id: string; score: string }[] {
  if (!Array.isArray(reply)) throw unexpected("index", reply);
  const entries: { id: string; score: string }[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ id: text(reply[i]), score: text(reply[i + 1]) });
  return entries;
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (typeof value === "number") return String(value);
  return "";
}

function countersOf(pairs: unknown[]): Counters {
  const counters: Counters = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) counters[text(pairs[i])] = Number(pairs[i + 1]);
  return counters;
}

function unexpected(operation: string, reply: unknown): SessionError {
  return new SessionError("STORE_UNAVAILABLE", `${operation}: unexpected script reply ${JSON.stringify(reply)}`);
}

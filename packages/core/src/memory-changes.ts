/**
 * How the memory driver applies a write to a session's fields, and what it answers: the counters a
 * change produces (checked before anything is written, so a refused increment changes nothing),
 * the limits it is judged by, the fields after it, and the write result and metadata it returns.
 */
import type { Counters, SessionChange, SessionMeta, WriteResult } from "./driver.js";
import { SessionError } from "./errors.js";
import type { Entry } from "./memory-store.js";
import { fieldSize, limitError } from "./values.js";

type Times = Pick<Entry, "expiresAt" | "lastSeenAt" | "absoluteExpiresAt" | "idleTimeout">;

export function resultOf(entry: Times, counters: Counters, ended: string[]): WriteResult {
  const { expiresAt, lastSeenAt, absoluteExpiresAt, idleTimeout } = entry;
  return { expiresAt, lastSeenAt, absoluteExpiresAt, idleTimeout, counters, ended };
}

/** The result of a write that deleted the session (its expiry had passed): the times it was sent. */
export function deletedResult(change: SessionChange, entry: Entry, counters: Counters): WriteResult {
  return resultOf(
    {
      expiresAt: change.expiresAt,
      lastSeenAt: change.lastSeenAt,
      absoluteExpiresAt: change.absoluteExpiresAt ?? entry.absoluteExpiresAt,
      idleTimeout: change.idleTimeout === undefined ? entry.idleTimeout : change.idleTimeout,
    },
    counters,
    [],
  );
}

/**
 * The counters a change would produce on `fields`, computed before anything is written so that a
 * refused increment changes nothing. Order of a change: `set`, then `remove`, then `increment`.
 */
export function countersOf(fields: Map<string, string>, change: SessionChange): Counters {
  const removed = new Set(change.remove);
  const counters: Counters = {};
  for (const [name, delta] of Object.entries(change.increment)) {
    if (!Number.isSafeInteger(delta)) {
      throw new SessionError("VALUE_INVALID", `cannot increment field "${name}" by ${String(delta)}: not an integer`);
    }
    const text = removed.has(name)
      ? undefined
      : Object.hasOwn(change.set, name)
        ? change.set[name]
        : fields.get(name);
    const current = text === undefined ? 0 : integerOf(text);
    if (current === null) {
      throw new SessionError("VALUE_INVALID", `cannot increment field "${name}": its value is not an integer`);
    }
    const next = current + delta;
    if (!Number.isSafeInteger(next)) {
      throw new SessionError("VALUE_INVALID", `cannot increment field "${name}": the result is not a safe integer`);
    }
    counters[name] = next;
  }
  return counters;
}

/** Throws PAYLOAD_TOO_LARGE when the change would grow `fields` past `change.limits`. */
export function checkLimits(fields: Map<string, string>, change: SessionChange, counters: Counters): void {
  if (change.limits === undefined) return;
  const after = new Map(fields);
  applyFields(after, change, counters);
  const sizeOf = (map: Map<string, string>) => {
    let size = 0;
    for (const [name, text] of map) size += fieldSize(name, text);
    return size;
  };
  const before = sizeOf(fields);
  const size = sizeOf(after);
  const error = limitError(change.limits, { count: after.size, grown: after.size > fields.size }, { size, grown: size > before });
  if (error) throw error;
}

export function applyFields(fields: Map<string, string>, change: SessionChange, counters: Counters): void {
  for (const [name, value] of Object.entries(change.set)) fields.set(name, value);
  for (const name of change.remove) fields.delete(name);
  for (const [name, value] of Object.entries(counters)) fields.set(name, String(value));
}

/** A change that starts a new lifetime (new absolute deadline or idle timeout) sets the expiry it carries, even an earlier one. */
export function setsLifetime(change: SessionChange): boolean {
  return change.absoluteExpiresAt !== undefined || change.idleTimeout !== undefined;
}

export function metaOf(id: string, entry: Entry): SessionMeta {
  return {
    id,
    createdAt: entry.createdAt,
    lastSeenAt: entry.lastSeenAt,
    expiresAt: entry.expiresAt,
    absoluteExpiresAt: entry.absoluteExpiresAt,
    idleTimeout: entry.idleTimeout,
    userId: entry.userId,
    userAgent: entry.userAgent,
    ip: entry.ip,
  };
}

/** The integer a field's JSON text holds, or null when it holds anything else. */
function integerOf(text: string): number | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof value === "number" && Number.isSafeInteger(value) ? value : null;
}

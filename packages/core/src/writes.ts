/**
 * What a commit sends to the driver and what it keeps from the answer: the new session a first
 * write creates, the change a later write makes (fields, renewal, lifetimes, user binding), and the
 * session's record as the store kept it.
 */
import { storedIp, storedUserAgent } from "./device.js";
import type { IndexSpec, NewSession, SessionChange, SessionRecord, UserBinding, WriteResult } from "./driver.js";
import type { SessionTimes } from "./expiration.js";
import type { ManagerConfig } from "./manager-options.js";
import { fieldsObjectOf, type SessionState } from "./session-state.js";
import type { RequestInfo } from "./transport.js";

/** The writes of one manager, built once. */
export interface Writes {
  /** The session a commit creates at `now` from what the request wrote (and the device it came from). */
  created(state: SessionState, request: RequestInfo, now: number): NewSession;
  /** The change a commit makes at `now` to the stored session `record`; `renew` moves its expiry. */
  change(state: SessionState, record: SessionRecord, now: number, renew: boolean): SessionChange;
}

export function createWrites({ policy, limits, device, maxSessions, indexes }: ManagerConfig): Writes {
  const indexArgs: { indexes?: readonly IndexSpec[] } = indexes.length === 0 ? {} : { indexes };

  function binding(userId: string): UserBinding {
    return maxSessions === undefined ? { userId } : { userId, maxSessions };
  }

  return {
    created(state, request, now) {
      const lifetime = state.lifetime ?? {};
      const times = expiringBy(policy.start(now, lifetime), state.expiresBy);
      const idleTimeout = lifetime.idleTimeout ?? null;
      const fields = { ...fieldsObjectOf(state) };
      const userAgent = storedUserAgent(device, request);
      const ip = storedIp(device, request);
      const user = state.login === null ? null : binding(state.login);
      return { now, fields, ...times, idleTimeout, user, userAgent, ip, ...indexArgs };
    },

    change(state, record, now, renew) {
      const changes = state.changes;
      // The session's lifetimes: a login starts a new one (its own, else the manager's); a regenerate
      // with lifetimes replaces what it gives; anything else keeps what the session has.
      const lifetime = state.lifetime;
      const newAbsolute =
        state.login !== null ? now + (lifetime?.absoluteTimeout ?? policy.absoluteTimeout)
        : lifetime?.absoluteTimeout !== undefined ? now + lifetime.absoluteTimeout
        : undefined;
      const newIdle = state.login !== null ? (lifetime?.idleTimeout ?? null) : lifetime?.idleTimeout;
      const absoluteExpiresAt = newAbsolute ?? record.absoluteExpiresAt;
      const idleTimeout = newIdle === undefined ? record.idleTimeout : newIdle;
      const change: SessionChange = {
        now,
        set: changes === null ? {} : Object.fromEntries(changes.set),
        remove: changes === null ? [] : [...changes.remove],
        increment: changes === null ? {} : Object.fromEntries(changes.increment),
        lastSeenAt: renew ? now : record.lastSeenAt,
        expiresAt: renew ? policy.expiresAt(now, absoluteExpiresAt, idleTimeout) : record.expiresAt,
        ...indexArgs,
        limits, // judged again by the store, atomically: parallel requests cannot grow a session past them
        loaded: { absoluteExpiresAt: record.absoluteExpiresAt, userId: record.userId },
      };
      if (newAbsolute !== undefined) change.absoluteExpiresAt = newAbsolute;
      if (newIdle !== undefined) change.idleTimeout = newIdle;
      if (state.login !== null) change.user = binding(state.login);
      return change;
    },
  };
}

/** The record of a session after a write, from what the store kept. */
export function keptRecord(base: Omit<SessionRecord, "lastSeenAt" | "expiresAt" | "absoluteExpiresAt" | "idleTimeout">, kept: WriteResult): SessionRecord {
  const { lastSeenAt, expiresAt, absoluteExpiresAt, idleTimeout } = kept;
  return { ...base, lastSeenAt, expiresAt, absoluteExpiresAt, idleTimeout };
}

/** A new session's times, its absolute deadline (and so its expiry) no later than `deadline` (a converted legacy session's). */
function expiringBy(times: SessionTimes, deadline: number | null): SessionTimes {
  if (deadline === null || deadline >= times.absoluteExpiresAt) return times;
  return { ...times, absoluteExpiresAt: deadline, expiresAt: Math.min(times.expiresAt, deadline) };
}

import { describe } from "./describe.js";
import { configError } from "./errors.js";

/** All durations are in milliseconds. */
export interface ExpirationOptions {
  /** Sliding idle timeout: a session unused for this long is gone. Default 30 minutes. */
  idleTimeout?: number;
  /** Absolute lifetime, counted from creation or from the last login; never extended. Default 12 hours. */
  absoluteTimeout?: number;
  /**
   * Renewal throttle: the idle deadline of a read-only request is pushed forward only when at least
   * this long has passed since the last renewal. Default 60 seconds, or half the idle timeout when
   * that is shorter. Must be shorter than the idle timeout.
   */
  renewAfter?: number;
}

export interface SessionTimes {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

export interface ExpirationPolicy {
  readonly idleTimeout: number;
  readonly absoluteTimeout: number;
  readonly renewAfter: number;
  /** The times of a session created (or logged in, for `absoluteExpiresAt`) at `now`. */
  start(now: number): SessionTimes;
  /** The store expiry of a session renewed at `now`: min(idle deadline, absolute deadline). */
  expiresAt(now: number, absoluteExpiresAt: number): number;
  /** True when a read-only request at `now` should renew the session. */
  isRenewalDue(times: Pick<SessionTimes, "lastSeenAt" | "expiresAt" | "absoluteExpiresAt">, now: number): boolean;
  /** True when the session must be treated as gone at `now`, whatever the store says. */
  isExpired(times: Pick<SessionTimes, "expiresAt" | "absoluteExpiresAt">, now: number): boolean;
}

export const DEFAULT_IDLE_TIMEOUT = 30 * 60_000;
export const DEFAULT_ABSOLUTE_TIMEOUT = 12 * 60 * 60_000;
export const DEFAULT_RENEW_AFTER = 60_000;

export function checkDuration(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || !Number.isInteger(value) || value <= 0) {
    throw configError(option, `expected a positive whole number of milliseconds, got ${describe(value)}`);
  }
  return value;
}

export function createExpirationPolicy(options: ExpirationOptions = {}): ExpirationPolicy {
  const idleTimeout = checkDuration("idleTimeout", options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT);
  const absoluteTimeout = checkDuration("absoluteTimeout", options.absoluteTimeout ?? DEFAULT_ABSOLUTE_TIMEOUT);
  if (absoluteTimeout < idleTimeout) {
    throw configError(
      "absoluteTimeout",
      `must be at least idleTimeout (${idleTimeout} ms), got ${absoluteTimeout} ms`,
    );
  }
  const renewAfter = checkDuration(
    "renewAfter",
    options.renewAfter ?? Math.min(DEFAULT_RENEW_AFTER, Math.floor(idleTimeout / 2)),
  );
  if (renewAfter >= idleTimeout) {
    throw configError("renewAfter", `must be shorter than idleTimeout (${idleTimeout} ms), got ${renewAfter} ms`);
  }

  const expiresAt = (now: number, absoluteExpiresAt: number) => Math.min(now + idleTimeout, absoluteExpiresAt);
  return {
    idleTimeout,
    absoluteTimeout,
    renewAfter,
    start(now) {
      const absoluteExpiresAt = now + absoluteTimeout;
      return { createdAt: now, lastSeenAt: now, expiresAt: expiresAt(now, absoluteExpiresAt), absoluteExpiresAt };
    },
    expiresAt,
    isRenewalDue(times, now) {
      return now - times.lastSeenAt >= renewAfter && times.expiresAt < times.absoluteExpiresAt;
    },
    isExpired(times, now) {
      return now >= times.expiresAt || now >= times.absoluteExpiresAt;
    },
  };
}

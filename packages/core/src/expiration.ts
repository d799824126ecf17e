import { describe } from "./describe.js";
import { SessionError, configError } from "./errors.js";

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

/**
 * A session's own lifetimes, given to `login` or `regenerate` ("remember me"), in milliseconds. Each
 * one left out follows the manager's option of the same name.
 */
export interface SessionLifetime {
  /** Sliding idle timeout of this session: stored with it and used by every renewal. */
  idleTimeout?: number;
  /** Absolute lifetime of this session, counted from the login or regenerate that sets it. */
  absoluteTimeout?: number;
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
  /** The times of a session created (or logged in, for `absoluteExpiresAt`) at `now`, with its own lifetimes if any. */
  start(now: number, lifetime?: SessionLifetime): SessionTimes;
  /**
   * The store expiry of a session renewed at `now`: min(idle deadline, absolute deadline); the idle
   * deadline uses the session's own `idleTimeout` when it has one (null or absent: the manager's).
   */
  expiresAt(now: number, absoluteExpiresAt: number, idleTimeout?: number | null): number;
  /** True when a read-only request at `now` should renew the session (throttled by its own idle timeout when shorter). */
  isRenewalDue(
    times: Pick<SessionTimes, "lastSeenAt" | "expiresAt" | "absoluteExpiresAt"> & { idleTimeout?: number | null },
    now: number,
  ): boolean;
  /**
   * Checks the lifetimes given to `login` or `regenerate` (`call` names it in messages): whole
   * positive milliseconds, an idle timeout not longer than the absolute lifetime, and an absolute
   * lifetime within `maxAbsoluteTimeout` (400 days with a persistent cookie). Throws `VALUE_INVALID`.
   */
  checkLifetime(call: string, lifetime: unknown, maxAbsoluteTimeout: number | null): SessionLifetime;
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

  const expiresAt = (now: number, absoluteExpiresAt: number, idle?: number | null) =>
    Math.min(now + (idle ?? idleTimeout), absoluteExpiresAt);
  return {
    idleTimeout,
    absoluteTimeout,
    renewAfter,
    start(now, lifetime = {}) {
      const absoluteExpiresAt = now + (lifetime.absoluteTimeout ?? absoluteTimeout);
      return { createdAt: now, lastSeenAt: now, expiresAt: expiresAt(now, absoluteExpiresAt, lifetime.idleTimeout), absoluteExpiresAt };
    },
    expiresAt,
    isRenewalDue(times, now) {
      // A session whose own idle timeout is shorter than the throttle renews at half of it.
      const idle = times.idleTimeout ?? idleTimeout;
      const throttle = idle > renewAfter ? renewAfter : Math.floor(idle / 2);
      return now - times.lastSeenAt >= throttle && times.expiresAt < times.absoluteExpiresAt;
    },
    checkLifetime(call, lifetime, maxAbsoluteTimeout) {
      if (lifetime === null || typeof lifetime !== "object") {
        throw new SessionError("VALUE_INVALID", `${call} options: expected an object, got ${describe(lifetime)}`);
      }
      const given = lifetime as Record<string, unknown>;
      const out: SessionLifetime = {};
      for (const name of ["idleTimeout", "absoluteTimeout"] as const) {
        const value = given[name];
        if (value === undefined) continue;
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
          throw new SessionError(
            "VALUE_INVALID",
            `${call} option "${name}": expected a positive whole number of milliseconds, got ${describe(value)}`,
          );
        }
        out[name] = value;
      }
      const idle = out.idleTimeout ?? idleTimeout;
      const absolute = out.absoluteTimeout ?? absoluteTimeout;
      if (idle > absolute) {
        throw new SessionError(
          "VALUE_INVALID",
          `${call} option "idleTimeout" (${idle} ms) is longer than the session's absolute lifetime (${absolute} ms): give a longer absoluteTimeout too`,
        );
      }
      if (maxAbsoluteTimeout !== null && absolute > maxAbsoluteTimeout) {
        throw new SessionError(
          "VALUE_INVALID",
          `${call} option "absoluteTimeout": a persistent cookie cannot outlive 400 days (browsers cap it); got ${absolute} ms`,
        );
      }
      return out;
    },
    isExpired(times, now) {
      return now >= times.expiresAt || now >= times.absoluteExpiresAt;
    },
  };
}

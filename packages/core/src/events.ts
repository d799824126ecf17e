/**
 * Session events: what an operator acts on (sessions created, rotated and ended, and why; writes
 * refused by a conflict; the store unavailable), reported through the manager's `onEvent` option
 * and published on the `sess:event` diagnostics channel (`node:diagnostics_channel`).
 *
 * A payload carries only public session ids, reasons, operation names, counts and error codes:
 * never a token (it would let a reader take the session over), never session data, a user id, a
 * user agent or an IP address (personal data that a log or metrics pipeline would then keep).
 * An event is built only when `onEvent` is set or the channel has a subscriber.
 */
import { channel } from "node:diagnostics_channel";
import { SessionError, type SessionErrorCode } from "./errors.js";
import type { StoreOperation } from "./tracing.js";
import type { StoreCalls } from "./deadline.js";

/** The channel every manager publishes its events on, whether or not `onEvent` is set. */
export const EVENT_CHANNEL = "sess:event";

/** A session was stored for the first time (by the request that first wrote to it, or logged in). */
export interface SessionCreatedEvent {
  type: "created";
  sessionId: string;
}

/** A session moved to a new token: `login()` or `regenerate()`. The previous id is dead from then on. */
export interface SessionRotatedEvent {
  type: "rotated";
  reason: "login" | "regenerate";
  sessionId: string;
  previousId: string;
}

/**
 * Why sessions ended: `logout` (the request destroyed its own session), `end` (ended by id with
 * `endSession`), `user` (user-wide: `endUserSessions`, `regenerate({ endOtherSessions })`),
 * `limit` (ended by `maxSessionsPerUser`: one event per id a write's result lists in `ended`),
 * `binding` (used from another device), `expired` (a driver returned it past its deadline by the
 * manager's clock: one that judges by a clock of its own; sess's drivers are told the manager's
 * `now` and return no session then).
 */
export type EndReason = "logout" | "end" | "user" | "limit" | "binding" | "expired";

/** Fields every `ended` event has. */
interface EndedFields {
  type: "ended";
  /** The store operation that ended the session(s) (`destroy`, `endSession`, `endUserSessions`, `load`, `create`, `update`, `rotate`). */
  operation: StoreOperation;
  /** How many sessions ended: 1, except for `user`. */
  count: number;
}

/** One session ended. */
export interface SessionEndedEvent extends EndedFields {
  reason: "logout" | "end" | "limit" | "expired";
  sessionId: string;
}

/** A session ended because a request came from another device than the one that created it. */
export interface SessionBindingEndedEvent extends EndedFields {
  reason: "binding";
  sessionId: string;
  /** What differed from the request that created the session. */
  mismatch: "user-agent" | "ip";
}

/** A user's sessions ended together. */
export interface UserSessionsEndedEvent extends EndedFields {
  reason: "user";
  /** No single session: `count` says how many ended. */
  sessionId: null;
  /** The session that was kept (`exceptId`, or the session that regenerated), or null. */
  keptId: string | null;
}

/** A write was refused because the session ended, expired or was rotated by a parallel request. */
export interface SessionConflictEvent {
  type: "conflict";
  /** The session the request loaded. */
  sessionId: string;
  operation: "update" | "rotate";
  /** True when a parallel request of the same client rotated the session away (a race, not a revocation). */
  rotated: boolean;
}

/** A store operation failed or missed the deadline (`operationTimeout`); the request got STORE_UNAVAILABLE. */
export interface StoreUnavailableEvent {
  type: "unavailable";
  operation: StoreOperation;
  /** The session operated on, or null for user-wide operations and queries. */
  sessionId: string | null;
  errorCode: SessionErrorCode;
  /**
   * The store's own error code when it gave one (`ECONNREFUSED`, `ETIMEDOUT`, …), `TIMEOUT` when
   * the operation deadline passed, else null. Never an error message (it could quote a value).
   */
  storeCode: string | null;
}

/** Reported through `onEvent` and on the `sess:event` channel; discriminate on `type` (and `reason`). */
export type SessionEvent =
  | SessionCreatedEvent
  | SessionRotatedEvent
  | SessionEndedEvent
  | SessionBindingEndedEvent
  | UserSessionsEndedEvent
  | SessionConflictEvent
  | StoreUnavailableEvent;

const events = channel(EVENT_CHANNEL);

/** The events of one manager. */
export interface SessionEvents {
  /** Whether anyone listens: build an event only when true. */
  readonly on: boolean;
  emit(event: SessionEvent): void;
  /** Reports one session ended, when anyone listens. */
  ended(reason: SessionEndedEvent["reason"], operation: SessionEndedEvent["operation"], sessionId: string): void;
  /** Reports each session a write ended to honour `maxSessionsPerUser` (the ids its result lists). */
  limited(ended: readonly string[], operation: "create" | "update" | "rotate"): void;
  /** Reports a user's sessions ended together, when any did. */
  userEnded(count: number, keptId: string | null): void;
}

export function createSessionEvents(
  onEvent: ((event: SessionEvent) => void) | undefined,
  warn: (message: string) => void,
): SessionEvents {
  const failed = (error: unknown) =>
    warn(`an onEvent listener failed; the request went on: ${error instanceof Error ? error.message : String(error)}`);
  const on = () => onEvent !== undefined || events.hasSubscribers;
  function emit(event: SessionEvent): void {
    if (onEvent !== undefined) {
      try {
        const returned: unknown = onEvent(event);
        if (returned instanceof Promise) returned.catch(failed); // an async listener's rejection
      } catch (error) {
        failed(error);
      }
    }
    // Node reports a subscriber's throw as an uncaught exception on a later tick, never to us.
    if (events.hasSubscribers) events.publish(event);
  }
  function ended(reason: SessionEndedEvent["reason"], operation: SessionEndedEvent["operation"], sessionId: string): void {
    if (on()) emit({ type: "ended", reason, operation, sessionId, count: 1 });
  }
  return {
    get on() {
      return on();
    },
    emit,
    ended,
    limited(ids, operation) {
      for (const sessionId of ids) ended("limit", operation, sessionId);
    },
    userEnded(count, keptId) {
      if (count > 0 && on()) emit({ type: "ended", reason: "user", operation: "endUserSessions", sessionId: null, count, keptId });
    },
  };
}

const STORE_CODE = /^[A-Z][A-Z0-9_]{1,31}$/;

/** The store's own error code in the cause chain of `error`, if it has one that looks like a code. */
function storeCodeOf(error: unknown): string | null {
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (cause instanceof SessionError) continue;
    if (typeof code === "string" && STORE_CODE.test(code)) return code;
  }
  return null;
}

/** `calls.call` that also reports every STORE_UNAVAILABLE as an `unavailable` event (when anyone listens). */
export function reportUnavailable(calls: StoreCalls, timeout: number, events: SessionEvents): StoreCalls["call"] {
  return (operation, run, sessionId = null) => {
    if (!events.on) return calls.call(operation, run, sessionId);
    const started = performance.now();
    return calls.call(operation, run, sessionId).catch((error: unknown) => {
      if (error instanceof SessionError && error.code === "STORE_UNAVAILABLE" && events.on) {
        const timedOut = error.cause === undefined && performance.now() - started >= timeout - 1;
        const storeCode = timedOut ? "TIMEOUT" : storeCodeOf(error);
        events.emit({ type: "unavailable", operation, sessionId, errorCode: error.code, storeCode });
      }
      throw error;
    });
  };
}

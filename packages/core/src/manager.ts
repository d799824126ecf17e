/**
 * The request lifecycle: `open` reads a request's token and loads its session, `commit` writes
 * what the request changed (one store call at most) and returns the headers to send. Everything
 * else lives in the module named after it: options (manager-options.ts), transports
 * (transport.ts), device recording and binding (device.ts), the store deadline (deadline.ts),
 * what a commit writes and keeps (writes.ts), a commit's steps on the user's other sessions
 * (other-sessions.ts), the questions across sessions: user sessions, `endSession`, index queries
 * (queries.ts), `health()` (health.ts), session events (events.ts), what `open` answers
 * (opened-session.ts).
 */
import type { IndexPage, SessionDriver, SessionMeta, SessionRecord, WriteResult } from "./driver.js";
import { SessionError } from "./errors.js";
import { bindingMismatch } from "./device.js";
import { createStoreCalls, type ManagerLifecycle } from "./deadline.js";
import { createSessionEvents, reportUnavailable } from "./events.js";
import { checkHealth, type StoreHealth } from "./health.js";
import { createManagerConfig, type SessionManagerOptions } from "./manager-options.js";
import { createQueries, type FindPage, type IndexValue } from "./queries.js";
import type { SessionData, UntypedData } from "./session.js";
import { Session } from "./session.js";
import { createSessionState, fieldsObjectOf, hasFieldChanges, writableTexts } from "./session-state.js";
import { newToken, sessionIdOf, tagOf } from "./token.js";
import { createTransport, type RequestInfo, type ResponseHeaders } from "./transport.js";
import { createWrites, keptRecord } from "./writes.js";
import { createOtherSessions } from "./other-sessions.js";
import { takeOverLegacy } from "./migration.js";
import { CommitContext, OpenedSession, type CommitSteps } from "./opened-session.js";

export interface CommitResult {
  headers: ResponseHeaders;
}

export interface OpenSession<T extends SessionData> {
  session: Session<T>;
  /**
   * Writes what changed (one store call at most) and returns the headers to send. Call once, after
   * the handler and before the response headers are sent. Rejects with a SessionError; its
   * `headers` object (when present) should still be sent, e.g. to clear the cookie of an ended session.
   */
  commit(outcome?: CommitOutcome): Promise<CommitResult>;
  /**
   * The commit done synchronously when it needs no store call (nothing written, renewal not due),
   * or null when it does (then `await commit()`). Lets an adapter send a read-only response without
   * waiting a turn of the event loop; `commit()` afterwards resolves the same result.
   */
  commitNow(outcome?: CommitOutcome): CommitResult | null;
  /**
   * For adapters that wrap the response only when they must. True when, as things stand, the
   * commit needs neither a store call nor a header (a loaded session whose renewal is not due, or
   * no token and no session): then `onChange` runs once, just before the first change to the
   * session (set, increment, destroy, login…), and the adapter wraps the response there. False
   * otherwise (wrap it now; `onChange` is not kept). A change made once the response's head is out
   * is lost: call `commitNow()` in `onChange` then, and the change throws CONFLICT.
   */
  idleUntilChange(onChange: () => void): boolean;
}

/**
 * How the request is being answered, as far as the adapter knows at commit. A request in which a
 * write was refused (`VALUE_INVALID`, `PAYLOAD_TOO_LARGE`) and whose response is an error (`status`
 * 400 or more) commits none of its changes; with a success response the refused call alone is left out.
 */
export interface CommitOutcome {
  status?: number;
}

export interface SessionManager<T extends SessionData> {
  readonly driver: SessionDriver;
  /** Reads the token of a request and loads its session. No store call when the request carries no well-formed token. */
  open(request: RequestInfo): Promise<OpenSession<T>>;
  /** A user's live sessions, oldest first. */
  listUserSessions(userId: string): Promise<SessionMeta[]>;
  /** Ends all of a user's sessions, or all but `exceptId`. Resolves how many were ended. */
  endUserSessions(userId: string, options?: { exceptId?: string | null }): Promise<number>;
  /** Ends one session by its public id; with `userId`, only when the session belongs to that user. */
  endSession(id: string, options?: { userId?: string }): Promise<boolean>;
  /** How many live sessions the declared index `index` lists under `value`. Unknown index: VALUE_INVALID. */
  count(index: string, value: IndexValue): Promise<number>;
  /**
   * One page of the live sessions the index lists under `value` (metadata only, never tokens or
   * data), soonest expiry first. `limit` defaults to 100 (at most 1000); pass `next` as the
   * following page's `offset`.
   */
  find(index: string, value: IndexValue, page?: FindPage): Promise<IndexPage>;
  /**
   * Whether the store answers, and how fast: the driver's `ping()` (a session id that cannot exist
   * is read where the driver has none), under the operation deadline. Never touches a session;
   * never rejects (a failure is `ok: false`).
   */
  health(): Promise<StoreHealth>;
  /** Closes the driver; later calls reject with CLOSED. */
  close(): Promise<void>;
}

/**
 * A SessionError that carries response headers to send with the error response (the clearing
 * cookie of a session that ended), in the `{ name: value }` form error handlers (finalhandler,
 * http-errors, Koa) expect.
 */
export interface SessionErrorWithHeaders extends SessionError {
  headers?: Record<string, string>;
}

export function createSessionManager<T extends SessionData = UntypedData>(
  options: SessionManagerOptions,
): SessionManager<T> {
  const config = createManagerConfig(options);
  const { driver, policy, limits, clock, warn, device, legacy } = config;
  const transport = createTransport(config.cookie, config.header, warn);
  const lifecycle: ManagerLifecycle = { closed: false };
  const calls = createStoreCalls(driver, config.timeout, lifecycle);
  const events = createSessionEvents(config.onEvent, warn);
  const call = reportUnavailable(calls, config.timeout, events);
  const writes = createWrites(config);
  const { endOthers, endOthersAfter, rotatedTo, endRotated } = createOtherSessions(config, call, events);

  const warnCorruptField = (field: string) => warn(`stored field "${field}" of a session is not valid JSON; it reads as undefined`);

  async function open(request: RequestInfo): Promise<OpenSession<T>> {
    if (lifecycle.closed) throw new SessionError("CLOSED", "the session manager was closed");
    const secure = transport.secure(request);
    const { tokens, source } = transport.read(request, secure);
    let record: SessionRecord | null = null;
    let token: string | null = null;
    for (const candidate of tokens) {
      const id = sessionIdOf(candidate);
      const now = clock();
      const found = await call("load", () => driver.load(id, { now }), id);
      if (found === null || found.id !== id) continue;
      if (policy.isExpired(found, now)) {
        events.ended("expired", "load", id);
        continue;
      }
      record = found;
      token = candidate;
      break;
    }
    const mismatch = record === null ? null : bindingMismatch(device, record, request);
    if (record !== null && mismatch !== null) {
      const ended = record.id;
      const deleted = await call("destroy", () => driver.destroy(ended, { now: clock() }), ended);
      record = null;
      if (deleted && events.on) events.emit({ type: "ended", reason: "binding", operation: "destroy", sessionId: ended, count: 1, mismatch });
    }
    const state = createSessionState(record, limits, warnCorruptField, config.checkLifetime);
    const session = new Session<T>(state);
    const opened = new OpenedSession<T>(session, new CommitContext(state, record ? token : null, source, secure, request), steps);
    if (legacy === undefined || tokens.length > 0) return opened;
    return takeOverLegacy(opened, state, {
      source: legacy,
      cookieHeader: request.header("cookie"),
      now: clock(),
      claim: (run) => call("load", run),
      warn,
    });
  }

  /** The result of a commit that needs no store call, or null when it needs one. */
  function settled(context: CommitContext, outcome?: CommitOutcome): CommitResult | null {
    const { state } = context;
    const record = state.record;
    if (state.destroyed) return record ? null : { headers: transport.clear(context.source, context.secure) };
    if (state.refused && (outcome?.status ?? 0) >= 400) return { headers: [] }; // an error response never hides half a change
    if (hasFieldChanges(state) || state.rotate !== null || state.login !== null) return null;
    if (record === null) return { headers: transport.clear(context.source, context.secure) }; // nothing to store; clears a token that matched no session
    return policy.isRenewalDue(record, clock()) ? null : { headers: [] };
  }

  async function commit(context: CommitContext, outcome?: CommitOutcome): Promise<CommitResult> {
    const ready = settled(context, outcome);
    if (ready) return ready;
    const { state } = context;
    const record = state.record;
    const now = clock();

    if (state.destroyed) {
      if (record) {
        let deleted: boolean;
        try {
          deleted = await call("destroy", () => driver.destroy(record.id, { now }), record.id);
        } catch (error) {
          // The store could not delete it: the browser still forgets the token, and the app is told.
          (error as SessionErrorWithHeaders).headers = Object.fromEntries(transport.clear(context.source, context.secure));
          throw error;
        }
        if (deleted) events.ended("logout", "destroy", record.id);
        else await endRotated(record);
      }
      state.record = null;
      return { headers: transport.clear(context.source, context.secure) };
    }

    const wantsWrite = hasFieldChanges(state) || state.rotate !== null || state.login !== null;
    if (record === null) {
      const token = state.next?.token ?? newToken();
      const id = sessionIdOf(token);
      const session = writes.created(state, context.request, now);
      await endOthers(state, null);
      const created = await call("create", () => driver.create(id, session), id);
      if (!created) throw new SessionError("CONFLICT", "a new session id was already taken in the store; nothing was written");
      const { fields, createdAt, userAgent, ip } = session;
      state.record = keptRecord({ id, fields, createdAt, userId: state.login, userAgent, ip }, created);
      if (events.on) events.emit({ type: "created", sessionId: id });
      events.limited(created.ended, "create");
      const headers = transport.issue(context.source, context.secure, token, created.expiresAt, now);
      await endOthersAfter(state, id, headers);
      return { headers };
    }

    // Renewal is throttled for writes too: the expiry moves only when due, on rotation and on login.
    const renew = state.rotate !== null || state.login !== null || policy.isRenewalDue(record, now);
    const ended = (rotated = false): SessionError => {
      state.record = null;
      const error: SessionErrorWithHeaders = new SessionError(
        "CONFLICT",
        "the session ended (logged out, revoked, expired or rotated by a parallel request) while this request was using it; its changes were not saved",
      );
      // A rotation that lost usually lost to a parallel rotation of the same client, whose response
      // carries the new cookie: a clearing cookie arriving after it would drop it. No cookie then;
      // a dead token is cleared by the next request that finds no session under it.
      if (state.rotate === null && !rotated) error.headers = Object.fromEntries(transport.clear(context.source, context.secure));
      if (events.on) events.emit({ type: "conflict", sessionId: record.id, operation: state.rotate ? "rotate" : "update", rotated });
      return error;
    };
    if (!renew && record.expiresAt <= now) throw ended();

    const change = writes.change(state, record, now, renew);
    // regenerate({ endOtherSessions: true }) in the write itself, where the driver can do it atomically.
    const othersInWrite = state.endOthers && driver.endsOtherSessions === true;
    if (othersInWrite) change.endOtherSessions = true;
    let token = context.token!;
    let id = record.id;
    let kept: WriteResult | null;
    if (!othersInWrite) await endOthers(state, record.id);
    if (state.rotate) {
      token = state.next?.token ?? newToken(tagOf(record.id));
      id = sessionIdOf(token);
      const rotation = { ...change, keepData: state.rotate.keepData };
      kept = await call("rotate", () => driver.rotate(record.id, id, rotation), record.id);
    } else {
      kept = await call("update", () => driver.update(record.id, change), record.id);
    }
    if (kept === null) {
      // Rotated away by a parallel request of the same client: its response carries the new cookie,
      // which a clearing cookie arriving later would drop.
      const rotated = state.rotate === null && (await rotatedTo(record)) !== null;
      if (wantsWrite) throw ended(rotated);
      state.record = null;
      return { headers: rotated ? [] : transport.clear(context.source, context.secure) };
    }
    // Reported as the call before the write would have been (ended for the user, this session kept).
    if (othersInWrite) events.userEnded(kept.endedOthers?.length ?? 0, record.id);
    if (state.rotate && events.on) events.emit({ type: "rotated", reason: state.login === null ? "regenerate" : "login", sessionId: id, previousId: record.id });
    events.limited(kept.ended, state.rotate ? "rotate" : "update");
    for (const [field, value] of Object.entries(kept.counters)) {
      writableTexts(state).set(field, String(value));
      state.parsed?.delete(field);
    }
    // The record and the cookie follow what the store kept (a concurrent renewal may have kept a later expiry).
    state.record = keptRecord({ ...record, id, fields: fieldsObjectOf(state), userId: state.login ?? record.userId }, kept);
    const headers = renew ? transport.issue(context.source, context.secure, token, kept.expiresAt, now) : [];
    if (!othersInWrite) await endOthersAfter(state, id, headers);
    return { headers };
  }

  const steps: CommitSteps = { commit, settled };

  return {
    driver,
    open,
    ...createQueries(config, call, events),
    health: () => checkHealth(driver, calls.withDeadline, lifecycle),
    async close() {
      if (lifecycle.closed) return;
      lifecycle.closed = true;
      await driver.close();
    },
  };
}

import type { Counters, IndexPage, IndexSpec, SessionChange, SessionDriver, SessionMeta, SessionRecord, UserBinding } from "./driver.js";
import type { CookieConfig, CookieOptions } from "./cookie.js";
import {
  MAX_COOKIE_LIFETIME,
  cookieName,
  createCookieConfig,
  isSecureCookie,
  readCookie,
  serializeClearingCookie,
  serializeSessionCookie,
  trimHttpWhitespace,
} from "./cookie.js";
import { SessionError, configError, toStoreError, type SessionErrorCode } from "./errors.js";
import type { ExpirationOptions, ExpirationPolicy } from "./expiration.js";
import { checkDuration, createExpirationPolicy, describe } from "./expiration.js";
import type { IndexDefinition } from "./indexes.js";
import { DEFAULT_PAGE, MAX_PAGE, createIndexSpecs } from "./indexes.js";
import type { SessionData, SessionState, UntypedData } from "./session.js";
import { Session, createSessionState, hasFieldChanges } from "./session.js";
import { type StoreOperation, traced } from "./tracing.js";
import { isSessionId, isToken, newToken, sessionIdOf, tagOf } from "./token.js";
import { checkOptionNames } from "./options.js";
import type { LimitOptions } from "./values.js";
import { checkWellFormed, createLimits } from "./values.js";

export interface HeaderOptions {
  /**
   * Request header carrying the token. Default "authorization", read as `Authorization: Bearer <token>`;
   * any other name is read as the bare token.
   */
  name?: string;
  /** Response header that carries a newly issued token (empty when the session ended). Default "session-token". */
  responseHeader?: string;
}

export interface SessionManagerOptions extends ExpirationOptions {
  driver: SessionDriver;
  /** Cookie transport (default on). `false` turns it off; then `header` must be set. */
  cookie?: CookieOptions | false;
  /** Header transport for APIs and mobile clients (default off). When a request carries both, the header wins. */
  header?: HeaderOptions | boolean;
  limits?: LimitOptions;
  /** Deadline for each store operation, in milliseconds. Default 1000. Past it the request gets STORE_UNAVAILABLE. */
  operationTimeout?: number;
  /** Bound on one user's live sessions; a login beyond it ends that user's oldest sessions. Default none. */
  maxSessionsPerUser?: number;
  /** Device metadata stored with a new session and shown in listings. Default: user agent yes, IP no. */
  recordDevice?: { userAgent?: boolean; ip?: boolean };
  /**
   * Declared secondary indexes, by name (`[A-Za-z0-9_.-]{1,64}`): `{ field }` lists a session under
   * the value of one field (string, number or boolean), `{ fieldPrefix }` under the rest of the name
   * of every field with that prefix. Query them with `count` and `find`. Default none.
   */
  indexes?: Record<string, IndexDefinition>;
  /**
   * Binds a session to the device that created it: a request whose user agent (with `userAgent`)
   * or network (with `ipPrefix`: IPv4 prefix bits, e.g. 24; IPv6 addresses by `ipv6Prefix` bits,
   * default 64) differs ends the session and is served as having none. Default off.
   */
  bind?: { userAgent?: boolean; ipPrefix?: number; ipv6Prefix?: number };
  /** Security events: a binding mismatch that ended a session. Default: none reported. */
  onEvent?: (event: SessionEvent) => void;
  /** Where warnings go (insecure cookie setup, unreadable stored field). Default `console.warn`. */
  onWarning?: (message: string) => void;
  /** The clock policies judge by. Default `Date.now`; tests pass the memory driver's clock. */
  clock?: () => number;
}

/** Reported through `onEvent`. */
export interface SessionEvent {
  type: "binding-mismatch";
  /** The session that was ended. */
  sessionId: string;
  /** What differed from the request that created the session. */
  reason: "user-agent" | "ip";
}

/** A value an index is queried by: a `field` index matches the field's value, a `fieldPrefix` index the field name's suffix. */
export type IndexValue = string | number | boolean;

/** What the manager needs from a request. Adapters build it from `req` or `ctx`. */
export interface RequestInfo {
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** Whether the request reached the app over HTTPS (adapters decide, honouring their trust-proxy setting). */
  secure: boolean;
  /** Client address, stored only with `recordDevice.ip`. */
  ip?: string | undefined;
}

/** Response headers to add, in order. */
export type ResponseHeaders = Array<[name: string, value: string]>;

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
  readonly policy: ExpirationPolicy;
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
  find(index: string, value: IndexValue, page?: { offset?: number; limit?: number }): Promise<IndexPage>;
  /**
   * Whether the store answers, and how fast: the driver's `ping()` (a session id that cannot exist
   * is read where the driver has none), under the operation deadline. Never touches a session;
   * never rejects (a failure is `ok: false`).
   */
  health(): Promise<StoreHealth>;
  /** Closes the driver; later calls reject with CLOSED. */
  close(): Promise<void>;
}

/** What `health()` found. */
export interface StoreHealth {
  ok: boolean;
  /** Milliseconds the store took to answer (or to fail). */
  latency: number;
  /** Why the store is not healthy. */
  error?: SessionErrorCode;
}

/**
 * A SessionError that carries response headers to send with the error response (the clearing
 * cookie of a session that ended), in the `{ name: value }` form error handlers (finalhandler,
 * http-errors, Koa) expect.
 */
export interface SessionErrorWithHeaders extends SessionError {
  headers?: Record<string, string>;
}

export const DEFAULT_OPERATION_TIMEOUT = 1000;
const MAX_USER_AGENT = 256;
/** IPv6 networks are compared by this many leading bits unless `bind.ipv6Prefix` says otherwise. */
const DEFAULT_IPV6_PREFIX = 64;
/** Well-formed session cookie values of one request tried at most (one store call each). */
const MAX_COOKIE_TOKENS = 4;

type Source = "cookie" | "header";

export function createSessionManager<T extends SessionData = UntypedData>(
  options: SessionManagerOptions,
): SessionManager<T> {
  if (options === null || typeof options !== "object") throw configError("options", "expected an object");
  checkOptionNames(options, options.onWarning ?? ((message: string) => console.warn(`[sess] ${message}`)));
  const driver = options.driver;
  if (!driver || typeof driver.load !== "function" || typeof driver.update !== "function") {
    throw configError("driver", "expected a SessionDriver (createMemoryDriver(), createIoredisDriver(…), createNodeRedisDriver(…))");
  }
  const policy = createExpirationPolicy(options);
  const limits = createLimits(options.limits);
  const timeout = checkDuration("operationTimeout", options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT);
  const clock = options.clock ?? Date.now;
  const warn = options.onWarning ?? ((message: string) => console.warn(`[sess] ${message}`));
  const maxSessions = options.maxSessionsPerUser;
  if (maxSessions !== undefined && (!Number.isSafeInteger(maxSessions) || maxSessions < 1)) {
    throw configError("maxSessionsPerUser", `expected a positive whole number, got ${describe(maxSessions)}`);
  }
  const recordUserAgent = options.recordDevice?.userAgent ?? true;
  const recordIp = options.recordDevice?.ip ?? false;
  const indexes = createIndexSpecs(options.indexes);
  const indexByName = new Map(indexes.map((spec) => [spec.name, spec]));
  const indexArgs: { indexes?: readonly IndexSpec[] } = indexes.length === 0 ? {} : { indexes };
  const bindUserAgent = options.bind?.userAgent ?? false;
  const bindIpPrefix = options.bind?.ipPrefix;
  if (options.bind !== undefined && (options.bind === null || typeof options.bind !== "object")) {
    throw configError("bind", `expected { userAgent?, ipPrefix? }, got ${describe(options.bind)}`);
  }
  if (bindUserAgent && options.recordDevice?.userAgent === false) {
    throw configError("bind.userAgent", "binding to the user agent needs it recorded: remove recordDevice.userAgent: false");
  }
  if (bindIpPrefix !== undefined && (!Number.isSafeInteger(bindIpPrefix) || bindIpPrefix < 1 || bindIpPrefix > 32)) {
    throw configError("bind.ipPrefix", `expected IPv4 prefix bits from 1 to 32, got ${describe(bindIpPrefix)}`);
  }
  const bindIpv6Prefix = options.bind?.ipv6Prefix ?? DEFAULT_IPV6_PREFIX;
  if (!Number.isSafeInteger(bindIpv6Prefix) || bindIpv6Prefix < 1 || bindIpv6Prefix > 128) {
    throw configError("bind.ipv6Prefix", `expected IPv6 prefix bits from 1 to 128, got ${describe(bindIpv6Prefix)}`);
  }
  const onEvent = options.onEvent;

  const cookie: CookieConfig | null = options.cookie === false ? null : createCookieConfig(options.cookie);
  if (cookie?.persistent && policy.absoluteTimeout > MAX_COOKIE_LIFETIME) {
    throw configError("absoluteTimeout", `a persistent cookie cannot outlive 400 days (browsers cap it); got ${policy.absoluteTimeout} ms`);
  }
  const header = createHeaderConfig(options.header);
  if (!cookie && !header) throw configError("cookie", "with cookie: false, enable the header transport (header: true)");

  let closed = false;
  let warnedInsecure = false;
  let warnedProxy = false;

  /** Runs one store operation under the deadline, traced on its diagnostics channel (see tracing.ts). */
  function call<V>(operation: StoreOperation, run: () => Promise<V>, sessionId: string | null = null): Promise<V> {
    if (closed) return Promise.reject(new SessionError("CLOSED", "the session manager was closed"));
    return traced(operation, driver.name, sessionId, () => withDeadline(operation, run));
  }

  async function withDeadline<V>(operation: StoreOperation | "health", run: () => Promise<V>): Promise<V> {
    let timer: NodeJS.Timeout | undefined;
    let pending: Promise<V>;
    try {
      pending = run();
    } catch (error) {
      throw toStoreError(operation, error);
    }
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SessionError("STORE_UNAVAILABLE", `session store did not answer ${operation} within ${timeout} ms`)),
        timeout,
      );
    });
    try {
      return await Promise.race([pending, deadline]);
    } catch (error) {
      pending.catch(() => undefined); // a late failure after the deadline is not an unhandled rejection
      throw toStoreError(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  function binding(userId: string): UserBinding {
    return maxSessions === undefined ? { userId } : { userId, maxSessions };
  }

  /**
   * The request's well-formed tokens, in the order they are tried. A header that does not hold a
   * sess token (Basic credentials, another service's bearer token) is ignored, so it never hides
   * a cookie. Every well-formed cookie value is a candidate (at most MAX_COOKIE_TOKENS): without
   * the `__Host-` prefix a sibling domain can toss a cookie of the same name in front of the real one.
   */
  function readTokens(request: RequestInfo, secure: boolean): { tokens: string[]; source: Source | null } {
    if (header) {
      const raw = request.header(header.name);
      if (raw !== undefined) {
        const value = header.bearer ? bearerValue(raw) : trimHttpWhitespace(raw);
        if (isToken(value)) return { tokens: [value], source: "header" };
      }
    }
    if (cookie) {
      const values = readCookie(request.header("cookie"), cookieName(cookie, secure));
      if (values.length > 0) {
        return { tokens: [...new Set(values.filter(isToken))].slice(0, MAX_COOKIE_TOKENS), source: "cookie" };
      }
    }
    return { tokens: [], source: null };
  }

  async function open(request: RequestInfo): Promise<OpenSession<T>> {
    if (closed) throw new SessionError("CLOSED", "the session manager was closed");
    const secure = cookie ? isSecureCookie(cookie, request.secure) : request.secure;
    if (cookie && secure && !request.secure && !warnedInsecure) {
      warnedInsecure = true;
      warn(
        "the session cookie is Secure but this request came over plain HTTP: browsers drop Secure cookies set over HTTP, " +
          "so sessions will not stick. Behind a TLS-terminating proxy, enable the adapter's trustProxy option; " +
          "for local HTTP development, set cookie.secure to \"auto\".",
      );
    }
    if (cookie?.secure === "auto" && !request.secure && !warnedProxy && /^\s*https\s*(,|$)/i.test(request.header("x-forwarded-proto") ?? "")) {
      warnedProxy = true;
      warn(
        "a request came with X-Forwarded-Proto: https but is treated as plain HTTP, so the session cookie is issued " +
          "without Secure. Behind a TLS-terminating proxy, enable the adapter's trustProxy option.",
      );
    }
    const { tokens, source } = readTokens(request, secure);
    let record: SessionRecord | null = null;
    let token: string | null = null;
    for (const candidate of tokens) {
      const id = sessionIdOf(candidate);
      const found = await call("load", () => driver.load(id), id);
      if (found === null || found.id !== id || policy.isExpired(found, clock())) continue;
      record = found;
      token = candidate;
      break;
    }
    const mismatch = record === null ? null : bindingMismatch(record, request);
    if (record !== null && mismatch !== null) {
      const ended = record.id;
      await call("destroy", () => driver.destroy(ended), ended);
      record = null;
      onEvent?.({ type: "binding-mismatch", sessionId: ended, reason: mismatch });
    }
    const state = createSessionState(record, limits, (field) =>
      warn(`stored field "${field}" of a session is not valid JSON; it reads as undefined`),
    );
    const session = new Session<T>(state);
    let result: Promise<CommitResult> | null = null;
    const context: CommitContext = { state, token: record ? token : null, source, secure, request };
    return {
      session,
      commit(outcome) {
        state.committed = true;
        return (result ??= commit(context, outcome));
      },
      commitNow(outcome) {
        if (result) return null;
        const ready = settled(context, outcome);
        if (ready) {
          state.committed = true;
          result = Promise.resolve(ready);
        }
        return ready;
      },
    };
  }

  function userAgentOf(request: RequestInfo): string | null {
    return request.header("user-agent")?.slice(0, MAX_USER_AGENT) ?? null;
  }

  /** What a new session stores as `ip`: the address with `recordDevice.ip`, else its bound prefix (or null). */
  function storedIp(request: RequestInfo): string | null {
    const ip = request.ip ?? null;
    if (recordIp || ip === null) return ip;
    return bindIpPrefix === undefined ? null : ipPrefixOf(ip, bindIpPrefix, bindIpv6Prefix);
  }

  /** Why a loaded session may not be used by this request, or null. Sessions stored without the data are not judged. */
  function bindingMismatch(record: SessionRecord, request: RequestInfo): "user-agent" | "ip" | null {
    if (bindUserAgent && record.userAgent !== null && (userAgentOf(request) ?? "") !== record.userAgent) return "user-agent";
    if (bindIpPrefix !== undefined && record.ip !== null) {
      const ip = request.ip;
      const prefix = (address: string) => ipPrefixOf(address, bindIpPrefix, bindIpv6Prefix);
      if (ip === undefined || prefix(ip) !== prefix(record.ip)) return "ip";
    }
    return null;
  }

  function indexSpec(index: string): IndexSpec {
    const spec = typeof index === "string" ? indexByName.get(index) : undefined;
    if (spec === undefined) {
      const known = [...indexByName.keys()].map((name) => JSON.stringify(name)).join(", ") || "none";
      throw new SessionError("VALUE_INVALID", `no index named ${describe(index)} was declared (declared: ${known})`);
    }
    return spec;
  }

  /** The stored form of a queried value: JSON text for a field index, the raw suffix for a prefix index. */
  function indexValue(spec: IndexSpec, value: IndexValue): string {
    if ("field" in spec) {
      if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
        return JSON.stringify(value);
      }
      throw new SessionError("VALUE_INVALID", `index "${spec.name}" is queried by a string, number or boolean, got ${describe(value)}`);
    }
    if (typeof value !== "string") {
      throw new SessionError("VALUE_INVALID", `index "${spec.name}" lists field-name suffixes: query it by a string, got ${describe(value)}`);
    }
    checkWellFormed(`the value index "${spec.name}" is queried by`, value);
    return value;
  }

  interface CommitContext {
    state: SessionState;
    /** The token of the loaded session (null while the session is new). */
    token: string | null;
    /** Where the request's token came from; null when it carried none. */
    source: Source | null;
    secure: boolean;
    request: RequestInfo;
  }

  function issue(context: CommitContext, token: string, expiresAt: number, now: number): ResponseHeaders {
    if (context.source === "header" || !cookie) {
      return [[header!.responseHeader, token], ["cache-control", "no-store"]];
    }
    return [
      ["set-cookie", serializeSessionCookie(cookie, context.secure, token, expiresAt, now)],
      ["cache-control", "no-store"],
    ];
  }

  function clear(context: CommitContext): ResponseHeaders {
    if (context.source === "header") return [[header!.responseHeader, ""], ["cache-control", "no-store"]];
    if (context.source === "cookie" && cookie) {
      return [["set-cookie", serializeClearingCookie(cookie, context.secure)], ["cache-control", "no-store"]];
    }
    return [];
  }

  /** The result of a commit that needs no store call, or null when it needs one. */
  function settled(context: CommitContext, outcome?: CommitOutcome): CommitResult | null {
    const { state } = context;
    const record = state.record;
    if (state.destroyed) return record ? null : { headers: clear(context) };
    if (state.refused && (outcome?.status ?? 0) >= 400) return { headers: [] }; // an error response never hides half a change
    if (hasFieldChanges(state) || state.rotate !== null || state.login !== null) return null;
    if (record === null) return { headers: clear(context) }; // nothing to store; clears a token that matched no session
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
          deleted = await call("destroy", () => driver.destroy(record.id), record.id);
        } catch (error) {
          // The store could not delete it: the browser still forgets the token, and the app is told.
          (error as SessionErrorWithHeaders).headers = Object.fromEntries(clear(context));
          throw error;
        }
        if (!deleted) await endRotated(record);
      }
      state.record = null;
      return { headers: clear(context) };
    }

    const wantsWrite = hasFieldChanges(state) || state.rotate !== null || state.login !== null;
    if (record === null) {
      const token = state.next?.token ?? newToken();
      const id = sessionIdOf(token);
      const times = policy.start(now);
      const fields = Object.fromEntries(state.texts);
      // Bound to the user agent, a request without one records "" so a later one with a user agent differs.
      const userAgent = recordUserAgent ? (userAgentOf(context.request) ?? (bindUserAgent ? "" : null)) : null;
      const ip = storedIp(context.request);
      const user = state.login === null ? null : binding(state.login);
      await endOthers(state, null);
      const created = await call("create", () => driver.create(id, { fields, ...times, user, userAgent, ip, ...indexArgs }), id);
      if (!created) throw new SessionError("CONFLICT", "a new session id was already taken in the store; nothing was written");
      state.record = { id, fields, ...times, userId: state.login, userAgent, ip };
      const headers = issue(context, token, times.expiresAt, now);
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
      if (state.rotate === null && !rotated) error.headers = Object.fromEntries(clear(context));
      return error;
    };
    if (!renew && record.expiresAt <= now) throw ended();

    const absoluteExpiresAt = state.login === null ? record.absoluteExpiresAt : now + policy.absoluteTimeout;
    const change: SessionChange = {
      set: Object.fromEntries(state.set),
      remove: [...state.remove],
      increment: Object.fromEntries(state.increment),
      lastSeenAt: renew ? now : record.lastSeenAt,
      expiresAt: renew ? policy.expiresAt(now, absoluteExpiresAt) : record.expiresAt,
      ...indexArgs,
      limits, // judged again by the store, atomically: parallel requests cannot grow a session past them
    };
    if (state.login !== null) {
      change.absoluteExpiresAt = absoluteExpiresAt;
      change.user = binding(state.login);
    }
    let token = context.token!;
    let id = record.id;
    let counters: Counters | null;
    await endOthers(state, record.id);
    if (state.rotate) {
      token = state.next?.token ?? newToken(tagOf(record.id));
      id = sessionIdOf(token);
      const rotation = { ...change, keepData: state.rotate.keepData };
      counters = await call("rotate", () => driver.rotate(record.id, id, rotation), record.id);
    } else {
      counters = await call("update", () => driver.update(record.id, change), record.id);
    }
    if (counters === null) {
      // Rotated away by a parallel request of the same client: its response carries the new cookie,
      // which a clearing cookie arriving later would drop.
      const rotated = state.rotate === null && (await rotatedTo(record)) !== null;
      if (wantsWrite) throw ended(rotated);
      state.record = null;
      return { headers: rotated ? [] : clear(context) };
    }
    for (const [field, value] of Object.entries(counters)) {
      state.texts.set(field, String(value));
      state.parsed.delete(field);
    }
    state.record = {
      ...record,
      id,
      fields: Object.fromEntries(state.texts),
      lastSeenAt: change.lastSeenAt,
      expiresAt: change.expiresAt,
      absoluteExpiresAt,
      userId: state.login ?? record.userId,
    };
    const headers = renew ? issue(context, token, change.expiresAt, now) : [];
    await endOthersAfter(state, id, headers);
    return { headers };
  }

  /**
   * A destroy that found nothing: a parallel request may have rotated the session away. A bound
   * session is found again in its user's sessions by what rotation keeps (slot tag, creation time)
   * and ended, so a logout that raced a rotation still ends the session. (An anonymous session
   * cannot be found again; its rotation lives on.)
   */
  async function endRotated(record: SessionRecord): Promise<void> {
    const moved = await rotatedTo(record);
    if (moved !== null) await call("destroy", () => driver.destroy(moved.id), moved.id);
  }

  /** The live session a bound session was rotated to (same slot tag and creation time), or null. */
  async function rotatedTo(record: SessionRecord): Promise<SessionMeta | null> {
    const userId = record.userId;
    if (userId === null) return null;
    const sessions = await call("listUserSessions", () => driver.listUserSessions(userId));
    return sessions.find((meta) => tagOf(meta.id) === tagOf(record.id) && meta.createdAt === record.createdAt) ?? null;
  }

  /**
   * regenerate({ endOtherSessions: true }): the user's sessions other than `keepId` end. Run before
   * the write (a failure then leaves the request's session as it was, not logged out) and again
   * after it (`endOthersAfter`), for sessions started in between.
   */
  async function endOthers(state: SessionState, keepId: string | null): Promise<void> {
    const userId = state.login ?? state.record?.userId ?? null;
    if (!state.endOthers || userId === null) return;
    await call("endUserSessions", () => driver.endUserSessions(userId, keepId === null ? {} : { exceptId: keepId }));
  }

  /** The second `endOthers`, after the write: a failure carries the new token's headers, so the client keeps its session. */
  async function endOthersAfter(state: SessionState, id: string, headers: ResponseHeaders): Promise<void> {
    try {
      await endOthers(state, id);
    } catch (error) {
      if (error instanceof SessionError) (error as SessionErrorWithHeaders).headers = Object.fromEntries(headers);
      throw error;
    }
  }

  return {
    driver,
    policy,
    open,
    async count(index, value) {
      const spec = indexSpec(index);
      const text = indexValue(spec, value);
      return call("countIndex", () => driver.countIndex(spec.name, text));
    },
    async find(index, value, page = {}) {
      const spec = indexSpec(index);
      const text = indexValue(spec, value);
      const offset = page.offset ?? 0;
      const limit = page.limit ?? DEFAULT_PAGE;
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new SessionError("VALUE_INVALID", `find needs offset to be a whole number of at least 0, got ${describe(offset)}`);
      }
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
        throw new SessionError("VALUE_INVALID", `find needs limit to be a whole number from 1 to ${MAX_PAGE}, got ${describe(limit)}`);
      }
      return call("findIndex", () => driver.findIndex(spec.name, text, { offset, limit }));
    },
    async listUserSessions(userId) {
      checkWellFormed("the user id", userId);
      return call("listUserSessions", () => driver.listUserSessions(userId));
    },
    async endUserSessions(userId, endOptions = {}) {
      checkWellFormed("the user id", userId);
      const exceptId = endOptions.exceptId ?? undefined;
      return call("endUserSessions", () => driver.endUserSessions(userId, exceptId === undefined ? {} : { exceptId }));
    },
    async endSession(id, endOptions = {}) {
      if (!isSessionId(id)) return false;
      if (endOptions.userId !== undefined) {
        checkWellFormed("the user id", endOptions.userId);
        const record = await call("load", () => driver.load(id), id);
        if (record === null || record.userId !== endOptions.userId) return false;
      }
      return call("endSession", () => driver.destroy(id), id);
    },
    async health() {
      const started = performance.now();
      const latency = () => Math.round((performance.now() - started) * 100) / 100;
      try {
        if (closed) throw new SessionError("CLOSED", "the session manager was closed");
        await withDeadline("health", () => (driver.ping ? driver.ping() : driver.load(sessionIdOf(newToken())).then(() => undefined)));
        return { ok: true, latency: latency() };
      } catch (error) {
        return { ok: false, latency: latency(), error: error instanceof SessionError ? error.code : "STORE_UNAVAILABLE" };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await driver.close();
    },
  };
}

interface HeaderConfig {
  name: string;
  bearer: boolean;
  responseHeader: string;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function createHeaderConfig(options: HeaderOptions | boolean | undefined): HeaderConfig | null {
  if (options === undefined || options === false) return null;
  if (options !== true && (options === null || typeof options !== "object")) {
    throw configError("header", `expected true, false or { name, responseHeader }, got ${describe(options)}`);
  }
  const settings = options === true ? {} : options;
  const name = (settings.name ?? "authorization").toLowerCase();
  if (!HEADER_NAME.test(name) || name === "cookie") {
    throw configError("header.name", `expected an HTTP header name other than "cookie", got ${describe(settings.name)}`);
  }
  const responseHeader = (settings.responseHeader ?? "session-token").toLowerCase();
  if (!HEADER_NAME.test(responseHeader) || responseHeader === "set-cookie") {
    throw configError("header.responseHeader", `expected an HTTP header name, got ${describe(settings.responseHeader)}`);
  }
  return { name, bearer: name === "authorization", responseHeader };
}

/**
 * The network part of an address: the first `bits` bits of an IPv4 address ("203.0.113.0/24"),
 * IPv4-mapped IPv6 included, or the first `bits6` bits of an IPv6 address, every group written
 * out ("2001:db8:0:0:0:0:0:0/64"; a zone "%eth0" is dropped). Anything else is kept whole
 * (compared exactly), a stored network included.
 */
export function ipPrefixOf(ip: string, bits: number, bits6 = DEFAULT_IPV6_PREFIX): string {
  const address = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  const value = ipv4Value(address);
  if (value === null) {
    const groups = ipv6Groups(address);
    if (groups === null) return address;
    const masked = groups.map((group, i) => {
      const kept = Math.min(16, Math.max(0, bits6 - 16 * i));
      return group & ((0xffff << (16 - kept)) & 0xffff);
    });
    return `${masked.map((group) => group.toString(16)).join(":")}/${bits6}`;
  }
  const network = bits === 32 ? value : value - (value % 2 ** (32 - bits));
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join(".")}/${bits}`;
}

/** A dotted-quad IPv4 address as a number, or null. */
function ipv4Value(address: string): number | null {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return null;
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** The eight 16-bit groups of an IPv6 address ("::" and a trailing dotted quad expanded), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.split("%")[0]!;
  const tail: number[] = [];
  if (text.includes(".")) {
    const at = text.lastIndexOf(":");
    const value = ipv4Value(text.slice(at + 1));
    if (at < 0 || value === null) return null;
    tail.push(Math.floor(value / 65536), value % 65536);
    text = text.slice(0, at);
    if (text.endsWith(":")) text += ":";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string | undefined) => (half ? half.split(":") : []);
  const left = groupsOf(halves[0]);
  const right = groupsOf(halves[1]);
  if (![...left, ...right].every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  const missing = 8 - left.length - right.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const parse = (groups: string[]) => groups.map((group) => parseInt(group, 16));
  return [...parse(left), ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...parse(right), ...tail];
}

/** The credentials of `Bearer <token>`; only SP and HTAB count as white space around them. */
function bearerValue(raw: string): string {
  const match = /^[ \t]*Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(raw);
  return match?.[1] ?? "";
}

/**
 * Sessions for any framework that speaks the Web's `Request` and `Response` (Hono, Elysia, Next.js
 * route handlers, React Router, SvelteKit, Bun.serve, Deno.serve…): `open(request)` before the
 * handler, `commit()` after it, and the headers (or the cookie as name, value and attributes) to
 * add to the response.
 */
import {
  SessionError,
  runWithSession,
  sessionErrorResponse as errorResponseOf,
  type CommitOutcome,
  type CommitResult,
  type OpenSession,
  type RequestInfo,
  type ResponseHeaders,
  type Session,
  type SessionData,
  type UntypedData,
} from "@sess/core";
import {
  createAdapterCore,
  isForwardedHttps,
  type SessionHelpers,
  type SessionMiddlewareOptions,
} from "@sess/core/adapter";

/** What `open` reads of a request. A Web `Request` is one; so is `{ headers, url }` from a framework that has no `Request`. */
export interface RequestParts {
  headers: { get(name: string): string | null };
  /** The absolute URL: its `https:` scheme makes the request secure (Secure, `__Host-` cookie). */
  url: string | URL;
}

export interface CookieAttributes {
  path: string;
  domain?: string;
  httpOnly: true;
  secure: boolean;
  sameSite: "lax" | "strict" | "none";
  /** Seconds; absent for a browser-session cookie (`cookie.persistent: false`); 0 when the cookie is cleared. */
  maxAge?: number;
  expires?: Date;
}

/** The session cookie of a commit, for frameworks that set cookies through their own API. */
export interface SessionCookie {
  name: string;
  /** The token; "" when the cookie is cleared. */
  value: string;
  attributes: CookieAttributes;
}

export interface WebCommit {
  /** Headers to add to the response, in order. Append them: Set-Cookie must join, never replace, the app's cookies. */
  headers: ResponseHeaders;
  /** The Set-Cookie of `headers` as name, value and attributes (null when there is none); set it, then add the other headers. */
  cookie: SessionCookie | null;
}

export interface WebOpenSession<T extends SessionData> {
  session: Session<T>;
  /**
   * Writes what changed (one store call at most) and resolves the headers to send. Call it once,
   * after the handler and before the response leaves. Rejects with a `SessionError` (`status` 503
   * when the store fails; 409, with `headers` clearing the cookie, when the session ended
   * meanwhile): answer with `sessionErrorResponse(error)` or your framework's error handling.
   * Pass the response's `status`: a request whose write was refused (413, 400) and that answers
   * with an error commits none of its changes.
   */
  commit(outcome?: CommitOutcome): Promise<WebCommit>;
  /** The commit done at once when it needs no store call (nothing written, renewal not due), or null. */
  commitNow(outcome?: CommitOutcome): WebCommit | null;
}

/** The helpers of a Web-standard adapter: those of every adapter, `openSession` taking a Web request. */
export interface WebSessionHelpers<K, T extends SessionData> extends Omit<SessionHelpers<K, T>, "openSession"> {
  /**
   * Opens the session of a request the adapter does not handle (a WebSocket upgrade, a server
   * action, a queue consumer given the headers): from a `Request`, its headers and URL, or just its
   * `Headers`. One store call at most, same token rules; nothing remembered for `of`. Read it
   * directly; after writing, `await commit()` and send its headers yourself if the response allows.
   */
  openSession(request: RequestParts | Headers, options?: OpenOptions): Promise<WebOpenSession<T>>;
}

/** The shared part of a Web-standard framework adapter: its helpers, keyed by `K`, and `open`. */
export interface WebAdapter<K extends object, T extends SessionData> {
  helpers: WebSessionHelpers<K, T>;
  /** Whether requests run in a `currentSession()` scope (the `asyncContext` option). */
  asyncContext: boolean;
  /** Opens the session of `request` and remembers it under `key` (for `of`, `login`, `logout`…). */
  open(key: K, request: RequestParts, options?: OpenOptions): Promise<WebOpenSession<T>>;
}

/** What a `Request` does not carry, when the runtime knows it. */
export interface OpenOptions {
  /** The client address: used only by `recordDevice.ip` and `bind.ipPrefix`. */
  ip?: string | undefined;
  /**
   * Whether the connection is TLS, when the runtime knows it better than the URL's scheme (Node's
   * socket). Default: the URL says `https:`. `X-Forwarded-Proto: https` counts with `trustProxy`.
   */
  secure?: boolean | undefined;
}

/** For adapters built on this one (`@sess/hono`): `where` names the thing sessions hang on, for messages. */
export function createWebAdapter<K extends object, T extends SessionData = UntypedData>(
  options: SessionMiddlewareOptions<T>,
  where: string,
): WebAdapter<K, T> {
  const core = createAdapterCore<K, T>(options, where);
  return {
    helpers: {
      ...core.helpers,
      async openSession(request, openOptions = {}) {
        const parts = request instanceof Headers ? { headers: request } : request;
        return webOpenSession(await core.helpers.manager.open(requestInfo(parts, core.trustProxy, openOptions)));
      },
    },
    asyncContext: core.asyncContext,
    async open(key, request, openOptions = {}) {
      return webOpenSession(await core.openInfo(key, requestInfo(request, core.trustProxy, openOptions)));
    },
  };
}

export interface WebSessions<T extends SessionData = UntypedData> extends WebSessionHelpers<object, T> {
  /**
   * Opens the session of a request (no store call without a token). The helpers (`of`, `login`,
   * `logout`, `logoutEverywhere`) then take the same `request` object.
   */
  open(request: RequestParts, options?: OpenOptions): Promise<WebOpenSession<T>>;
  /**
   * The whole cycle in one call: opens the session of `request`, runs `handler` (inside a
   * `currentSession()` scope with `asyncContext: true`), commits with the response's status and
   * returns the response with the session headers added. Rejects with a `SessionError` when the
   * store fails at open or at commit (the handler's response is then dropped): answer it with
   * `sessionErrorResponse(error)`.
   */
  handle(request: RequestParts, handler: (session: Session<T>) => Response | Promise<Response>, options?: OpenOptions): Promise<Response>;
}

/**
 * Sessions over Web `Request`s: `open(request)`, the handler, then `commit()` and its headers.
 * Takes the same options as the Express, Koa and Fastify adapters.
 */
export function webSessions<T extends SessionData = UntypedData>(options: SessionMiddlewareOptions<T>): WebSessions<T> {
  const adapter = createWebAdapter<object, T>(options, "request");
  return Object.assign({}, adapter.helpers, {
    open: (request: RequestParts, openOptions?: OpenOptions) => adapter.open(request, request, openOptions),
    async handle(request: RequestParts, handler: (session: Session<T>) => Response | Promise<Response>, openOptions?: OpenOptions) {
      const opened = await adapter.open(request, request, openOptions);
      const response = await (adapter.asyncContext ? runWithSession(opened.session, () => handler(opened.session)) : handler(opened.session));
      const outcome = { status: response.status };
      let commit: WebCommit;
      try {
        commit = opened.commitNow(outcome) ?? (await opened.commit(outcome));
      } catch (error) {
        await response.body?.cancel().catch(() => undefined);
        throw error;
      }
      return withSessionHeaders(response, commit);
    },
  });
}

function requestInfo(request: RequestParts | { headers: RequestParts["headers"]; url?: undefined }, trustProxy: boolean, options: OpenOptions): RequestInfo {
  const url = request.url === undefined ? "" : typeof request.url === "string" ? request.url : request.url.href;
  const tls = options.secure ?? /^https:/i.test(url);
  return {
    header: (name) => request.headers.get(name) ?? undefined,
    secure: tls || (trustProxy && isForwardedHttps(request.headers.get("x-forwarded-proto") ?? undefined)),
    ip: options.ip,
  };
}

function webOpenSession<T extends SessionData>(opened: OpenSession<T>): WebOpenSession<T> {
  return {
    session: opened.session,
    commit: async (outcome) => webCommit(await opened.commit(outcome)),
    commitNow(outcome) {
      const ready = opened.commitNow(outcome);
      return ready && webCommit(ready);
    },
  };
}

function webCommit(result: CommitResult): WebCommit {
  const line = result.headers.find(([name]) => name === "set-cookie")?.[1];
  return { headers: result.headers, cookie: line === undefined ? null : parseSessionCookie(line) };
}

/** Reads back a Set-Cookie line sess wrote (`name=value; Path=…; HttpOnly; …`): never a foreign one. */
function parseSessionCookie(line: string): SessionCookie {
  const [pair, ...parts] = line.split("; ");
  const eq = pair!.indexOf("=");
  const attributes: CookieAttributes = { path: "/", httpOnly: true, secure: false, sameSite: "lax" };
  for (const part of parts) {
    const at = part.indexOf("=");
    const key = (at === -1 ? part : part.slice(0, at)).toLowerCase();
    const value = at === -1 ? "" : part.slice(at + 1);
    if (key === "path") attributes.path = value;
    else if (key === "domain") attributes.domain = value;
    else if (key === "secure") attributes.secure = true;
    else if (key === "samesite") attributes.sameSite = value.toLowerCase() as CookieAttributes["sameSite"];
    else if (key === "max-age") attributes.maxAge = Number(value);
    else if (key === "expires") attributes.expires = new Date(value);
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

/**
 * Adds a commit's headers to a response: Set-Cookie is appended next to the app's own cookies.
 * Returns `response`, or a copy when its headers cannot change (a `fetch()` response, `Response.redirect`).
 */
export function withSessionHeaders(response: Response, commit: Pick<WebCommit, "headers">): Response {
  if (commit.headers.length === 0) return response;
  let target = response;
  try {
    appendHeaders(target.headers, commit.headers);
  } catch {
    target = new Response(response.body, response); // immutable headers: the copy's are mutable
    appendHeaders(target.headers, commit.headers);
  }
  return target;
}

function appendHeaders(headers: Headers, list: ResponseHeaders): void {
  for (const [name, value] of list) {
    if (name === "set-cookie") headers.append(name, value);
    else headers.set(name, value);
  }
}

/**
 * The answer to a `SessionError` from `open` or `commit`: its status (503 store unavailable, 409
 * session ended meanwhile…), its `headers` (the clearing cookie of an ended session),
 * `Cache-Control: no-store`, `Retry-After: 1` when the store is down, and a JSON body
 * `{ error: code, message }` with no stack and no internal detail. Never a session cookie.
 * Anything else is rethrown.
 */
export function sessionErrorResponse(error: unknown): Response {
  if (!(error instanceof SessionError)) throw error;
  const answer = errorResponseOf(error);
  const headers = new Headers({ "content-type": "application/json; charset=utf-8" });
  for (const [name, value] of Object.entries(answer.headers)) headers.append(name, value);
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
}

/** Turns an error into a Response: what `sessionErrorHandler()` returns. */
export type SessionErrorHandler = (error: unknown) => Response | Promise<Response>;

/**
 * The ready-made error handler for sessions: a function turning a `SessionError` into its
 * `sessionErrorResponse(error)`, and any other error into `fallback(error)` (rethrown without one),
 * for the `catch` around `open`/`handle`/`commit` or a framework's `onError`/`handleError` hook.
 */
export function sessionErrorHandler(fallback?: SessionErrorHandler): SessionErrorHandler {
  return (error) => {
    if (error instanceof SessionError) return sessionErrorResponse(error);
    if (fallback) return fallback(error);
    throw error;
  };
}

export {
  SessionError,
  isSessionError,
  currentSession,
  type SessionErrorBody,
  type ResponseHeaders,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  type UntypedData,
} from "@sess/core";
export type { AdapterOptions, SessionMiddlewareOptions } from "@sess/core/adapter";

import type { Context, ErrorHandler, MiddlewareHandler } from "hono";
import { SessionError, configError, runWithSession, type Session, type SessionData, type UntypedData } from "@sess/core";
import type { SessionMiddlewareOptions } from "@sess/core/adapter";
import { createWebAdapter, sessionErrorResponse, type OpenOptions, type RequestParts, type WebOpenSession, type WebSessionHelpers } from "@sess/web";

/** Hono's `Variables` the middleware fills: `c.get("session")`. */
export interface SessionVariables<T extends SessionData = UntypedData> {
  session: Session<T>;
}

/** The env to give `new Hono<SessionEnv<MySession>>()` (or to merge into yours) so that `c.get("session")` is typed. */
export interface SessionEnv<T extends SessionData = UntypedData> {
  Variables: SessionVariables<T>;
}

export interface HonoAdapterOptions {
  /**
   * The client address of a request, used only by `recordDevice.ip` and `bind.ipPrefix`. Default:
   * the socket's address on `@hono/node-server`, none elsewhere (pass e.g. `getConnInfo(c).remote.address`).
   */
  ip?: (c: Context) => string | undefined;
}

export type HonoSessionOptions<T extends SessionData = UntypedData> = SessionMiddlewareOptions<T> & HonoAdapterOptions;

export interface SessionMiddleware<T extends SessionData = UntypedData>
  extends Omit<WebSessionHelpers<Context, T>, "openSession">,
    MiddlewareHandler<SessionEnv<T>> {
  /**
   * Opens the session of a request the middleware does not handle (a route registered before it,
   * a WebSocket upgrade handler, another entry point): from the route's `Context` (its client
   * address and TLS as the middleware reads them), a `Request`, or just `Headers`. One store call at
   * most, same token rules; nothing remembered for `of`. After writing, `await commit()` and add its
   * headers yourself if the response allows.
   */
  openSession(request: Context | RequestParts | Headers, options?: OpenOptions): Promise<WebOpenSession<T>>;
}

/** What `@hono/node-server` puts in `c.env`: the Node request. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } };
}

/**
 * Hono middleware (Hono 4, any runtime with `node:crypto`). Opens the request's session (no store
 * call without a token), exposes it as `c.get("session")` and through `of(c)`, runs the handler,
 * then commits the session and adds its headers to `c.res`. Store failures are thrown as a
 * `SessionError` (`status` 503) that Hono's default error handling answers with no session cookie;
 * the handler's response is dropped.
 */
export function sessionMiddleware<T extends SessionData = UntypedData>(options: HonoSessionOptions<T>): SessionMiddleware<T> {
  if (options === null || typeof options !== "object") throw configError("options", "expected an object");
  const { ip, ...adapterOptions } = options;
  if (ip !== undefined && typeof ip !== "function") throw configError("ip", "expected a function (c) => address");
  const adapter = createWebAdapter<Context, T>(adapterOptions as SessionMiddlewareOptions<T>, "context");
  const connection = (c: Context): OpenOptions => {
    const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
    return { ip: ip ? ip(c) : socket?.remoteAddress, secure: socket ? socket.encrypted === true : undefined };
  };

  const middleware: MiddlewareHandler<SessionEnv<T>> = async (c, next) => {
    const opened = await adapter.open(c, c.req.raw, connection(c)).catch((error: unknown) => {
      throw answerable(error);
    });
    c.set("session", opened.session);
    if (adapter.asyncContext) await runWithSession(opened.session, next);
    else await next();
    let commit;
    try {
      // The response's status (Hono's error handling has set it when the handler threw) tells a
      // request whose write was refused to commit none of its changes.
      const outcome = { status: c.res.status };
      commit = opened.commitNow(outcome) ?? (await opened.commit(outcome));
    } catch (error) {
      await dropResponse(c);
      throw answerable(error);
    }
    for (const [name, value] of commit.headers) c.header(name, value, { append: name === "set-cookie" });
  };
  return Object.assign(middleware, adapter.helpers, {
    openSession(request: Context | RequestParts | Headers, openOptions?: OpenOptions) {
      return isContext(request)
        ? adapter.helpers.openSession(request.req.raw, { ...connection(request), ...openOptions })
        : adapter.helpers.openSession(request, openOptions);
    },
  });
}

function isContext(value: object): value is Context {
  return "req" in value && "env" in value;
}

/**
 * The ready-made Hono error handler for sessions, for `app.onError(sessionErrorHandler())`: a
 * `SessionError` is answered with its status, its headers (the clearing cookie of an ended
 * session), `Cache-Control: no-store`, `Retry-After: 1` when the store is down, and a JSON body
 * `{ error: code, message }` with no stack and no internal detail. Any other error goes to
 * `fallback` when given, else is answered as Hono's default handling does (an `HTTPException`'s own
 * response, otherwise a logged error and a plain 500).
 */
export function sessionErrorHandler<E extends object = SessionEnv>(fallback?: ErrorHandler<E>): ErrorHandler<E> {
  return (error, c) => {
    if (error instanceof SessionError) return sessionErrorResponse(error);
    if (fallback) return fallback(error, c);
    if ("getResponse" in error && typeof error.getResponse === "function") return (error.getResponse as () => Response)();
    console.error(error);
    return c.text("Internal Server Error", 500);
  };
}

/** Clears the handler's response (its headers, cookies included, and its body) before the error answer replaces it. */
async function dropResponse(c: Context): Promise<void> {
  for (const name of new Set(c.res.headers.keys())) c.header(name, undefined);
  await c.res.body?.cancel().catch(() => undefined);
}

/** Gives a SessionError the `getResponse()` Hono's default error handling answers with (status, clearing cookie, `{error}`). */
function answerable(error: unknown): unknown {
  if (error instanceof SessionError && !("getResponse" in error)) {
    Object.defineProperty(error, "getResponse", { value: () => sessionErrorResponse(error), configurable: true });
  }
  return error;
}

export { sessionErrorResponse, type OpenOptions, type RequestParts, type WebOpenSession, type WebCommit } from "@sess/web";
export {
  SessionError,
  isSessionError,
  currentSession,
  type SessionErrorBody,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  type UntypedData,
} from "@sess/core";
export type { AdapterOptions, SessionMiddlewareOptions } from "@sess/core/adapter";

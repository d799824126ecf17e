import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  SessionError,
  createSessionManager,
  type ResponseHeaders,
  type Session,
  type SessionData,
  type UntypedData,
  type SessionManager,
  type SessionManagerOptions,
} from "@sess/core";


export interface AdapterOptions {
  /**
   * Trust `X-Forwarded-Proto` from a TLS-terminating proxy: `https` there makes the request secure
   * (Secure, `__Host-` cookie). Default false: only a TLS socket makes a request secure.
   */
  trustProxy?: boolean;
}

/** Either the core options (the middleware builds its manager) or an existing `manager`, plus `trustProxy`. */
export type SessionMiddlewareOptions<T extends SessionData = UntypedData> =
  | (SessionManagerOptions & AdapterOptions & { manager?: undefined })
  | ({ manager: SessionManager<T> } & AdapterOptions);

/** What the middleware uses of a Koa context (Koa 2 and 3 contexts have it). */
export interface SessionContext {
  req: IncomingMessage;
  res: ServerResponse;
  ip?: string;
}

export interface SessionMiddleware<T extends SessionData = UntypedData> {
  (ctx: SessionContext, next: () => Promise<unknown>): Promise<void>;
  /** The manager the middleware opens sessions with (user listings, revocation, `close()`). */
  readonly manager: SessionManager<T>;
  /** The typed session of a context this middleware handled (also set as `ctx.session`). */
  of(ctx: SessionContext): Session<T>;
  /** Logs `userId` in: a new token at commit, data kept unless `keepData: false`, session bound to the user. */
  login(ctx: SessionContext, userId: string, options?: { keepData?: boolean }): Session<T>;
  /** Ends the context's session: deleted at commit, and the response clears the cookie. */
  logout(ctx: SessionContext): void;
  /** Ends every session of the context's user (this one included). Resolves how many others were ended. */
  logoutEverywhere(ctx: SessionContext): Promise<number>;
}

/**
 * Koa middleware (Koa 2 and 3). Opens the request's session (no store call without a token),
 * exposes it as `ctx.session` and through `of(ctx)`, runs the downstream middleware, then commits
 * the session and adds its headers before Koa sends the response. Store failures are thrown as a
 * `SessionError` with `status` 503 and no session cookie.
 */
export function sessionMiddleware<T extends SessionData = UntypedData>(
  options: SessionMiddlewareOptions<T>,
): SessionMiddleware<T> {
  const { trustProxy = false } = options;
  if (typeof trustProxy !== "boolean") {
    throw new SessionError("CONFIG_INVALID", `invalid option "trustProxy": expected a boolean, got ${typeof trustProxy}`);
  }
  let manager: SessionManager<T>;
  if (options.manager !== undefined) {
    manager = options.manager;
  } else {
    const { trustProxy: _trustProxy, manager: _manager, ...core } = options;
    manager = createSessionManager<T>(core);
  }
  const sessions = new WeakMap<SessionContext, Session<T>>();

  function of(ctx: SessionContext): Session<T> {
    const session = sessions.get(ctx);
    if (!session) {
      throw new Error("this context has no session: use sessionMiddleware(…) before the middleware that reads it");
    }
    return session;
  }

  const middleware = async (ctx: SessionContext, next: () => Promise<unknown>): Promise<void> => {
    const { req } = ctx;
    const { session, commit } = await manager.open({
      header: (name) => headerValue(req.headers[name]),
      secure: isSecure(req, trustProxy),
      ip: ctx.ip ?? req.socket.remoteAddress,
    });
    sessions.set(ctx, session);
    (ctx as { session?: Session<T> }).session = session;
    await next();
    // A failed commit throws; Koa's error handling sends the error's `headers` (the clearing cookie).
    const { headers } = await commit();
    addHeaders(ctx.res, headers);
  };

  return Object.assign(middleware, {
    manager,
    of,
    login(ctx: SessionContext, userId: string, loginOptions?: { keepData?: boolean }) {
      const session = of(ctx);
      session.login(userId, loginOptions);
      return session;
    },
    logout(ctx: SessionContext) {
      of(ctx).destroy();
    },
    async logoutEverywhere(ctx: SessionContext) {
      const session = of(ctx);
      const userId = session.userId;
      const ended = userId === null ? 0 : await manager.endUserSessions(userId, { exceptId: session.id });
      session.destroy();
      return ended;
    },
  });
}

function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  if (!trustProxy) return false;
  const proto = headerValue(req.headers["x-forwarded-proto"]);
  return proto !== undefined && proto.split(",")[0]!.trim().toLowerCase() === "https";
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

function addHeaders(res: ServerResponse, headers: ResponseHeaders): void {
  if (headers.length > 0 && res.headersSent) {
    throw new SessionError(
      "CONFLICT",
      "the response headers were sent before the session was committed; let Koa send the response (ctx.body) instead of writing to ctx.res",
    );
  }
  for (const [name, value] of headers) {
    if (name === "set-cookie") {
      const previous = res.getHeader("set-cookie");
      const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
      res.setHeader("set-cookie", [...list, value]);
    } else {
      res.setHeader(name, value);
    }
  }
}

export {
  SessionError,
  isSessionError,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  type UntypedData,
} from "@sess/core";

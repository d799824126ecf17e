import type { IncomingMessage, ServerResponse } from "node:http";
import {
  appendResponseHeaders,
  createAdapterCore,
  type SessionData,
  type SessionHelpers,
  type SessionMiddlewareOptions,
  type UntypedData,
} from "@sess/core";

/** What the middleware uses of a Koa context (Koa 2 and 3 contexts have it). */
export interface SessionContext {
  req: IncomingMessage;
  res: ServerResponse;
  ip?: string;
}

export interface SessionMiddleware<T extends SessionData = UntypedData> extends SessionHelpers<SessionContext, T> {
  (ctx: SessionContext, next: () => Promise<unknown>): Promise<void>;
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
  const adapter = createAdapterCore<SessionContext, T>(options, "context");
  const middleware = async (ctx: SessionContext, next: () => Promise<unknown>): Promise<void> => {
    const opened = await adapter.open(ctx, ctx.req, ctx.ip);
    await next();
    // A failed commit throws; Koa's error handling sends the error's `headers` (the clearing cookie).
    const { headers } = opened.commitNow() ?? (await opened.commit());
    appendResponseHeaders(ctx.res, headers);
  };
  return Object.assign(middleware, adapter.helpers);
}

export {
  SessionError,
  isSessionError,
  type AdapterOptions,
  type SessionMiddlewareOptions,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  type UntypedData,
} from "@sess/core";

import type { IncomingMessage, ServerResponse } from "node:http";
import {
  runWithSession,
  type CommitResult,
  type ResponseHeaders,
  type SessionData,
  type SessionErrorWithHeaders,
  type UntypedData,
} from "@sess/core";
import {
  appendResponseHeaders,
  createAdapterCore,
  type SessionHelpers,
  type SessionMiddlewareOptions,
} from "@sess/core/adapter";

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
  // Koa builds every context from its application's own `app.context`.
  const adapter = createAdapterCore<SessionContext, T>(options, "context", { accessorOnPrototype: true });
  const middleware = async (ctx: SessionContext, next: () => Promise<unknown>): Promise<void> => {
    const opened = await adapter.open(ctx, ctx.req, ctx);
    try {
      if (adapter.asyncContext) await runWithSession(opened.session, next);
      else await next();
    } catch (error) {
      // Committed anyway, as on Express (whose error response commits): a logout() or regenerate()
      // before the throw takes effect, and the error carries the session's headers.
      // The error's status tells a refused write's request to commit none of its changes.
      const failed = { status: typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500 };
      const committed = await Promise.resolve(opened.commitNow(failed) ?? opened.commit(failed)).then(
        (result) => result.headers,
        () => null, // the handler's error is the one to report
      );
      if (committed !== null) carryHeaders(error, committed);
      throw error;
    }
    const outcome = { status: ctx.res.statusCode };
    let result: CommitResult;
    try {
      result = opened.commitNow(outcome) ?? (await opened.commit(outcome));
    } catch (error) {
      // The error's `headers` (the clearing cookie) go out with whatever error response the app
      // sends; Koa's own error handling sets them again after clearing the response headers.
      if (!ctx.res.headersSent) {
        // The handler's answer is dropped, as on every adapter: none of its headers reach the error response.
        for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
        const headers = (error as SessionErrorWithHeaders).headers;
        if (headers) appendResponseHeaders(ctx.res, Object.entries(headers));
      }
      throw error;
    }
    appendResponseHeaders(ctx.res, result.headers);
  };
  return Object.assign(middleware, adapter.helpers);
}

/**
 * Adds the session's headers to a thrown error's `headers` (Koa's error handling sends only those:
 * it clears the response's own), joining a Set-Cookie the error already carries.
 */
function carryHeaders(error: unknown, headers: ResponseHeaders): void {
  if (headers.length === 0 || error === null || typeof error !== "object") return;
  const target = error as { headers?: Record<string, string | string[]> };
  const carried: Record<string, string | string[]> = { ...target.headers };
  for (const [name, value] of headers) {
    const previous = name === "set-cookie" ? carried[name] : undefined;
    carried[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  target.headers = carried;
}

export { sessionErrorHandler, type ErrorContext } from "./errors.js";
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

import { isSessionError, sessionErrorResponse } from "@sess/core";

/** What the error handler uses of a Koa context (Koa 2 and 3 contexts have it). */
export interface ErrorContext {
  status: number;
  body: unknown;
  set(field: Record<string, string>): void;
}

/**
 * The ready-made Koa error handler for sessions, registered before `sessionMiddleware`: a
 * `SessionError` thrown downstream is answered with its status, its headers (the clearing cookie of
 * an ended session), `Cache-Control: no-store`, `Retry-After: 1` when the store is down, and a
 * JSON body `{ error: code, message }` with no stack and no internal detail. Other errors are
 * re-thrown to your own handling.
 */
export function sessionErrorHandler(): (ctx: ErrorContext, next: () => Promise<unknown>) => Promise<void> {
  return async function sessionErrors(ctx, next) {
    try {
      await next();
    } catch (error) {
      if (!isSessionError(error)) throw error;
      const response = sessionErrorResponse(error);
      ctx.status = response.status;
      ctx.set(response.headers);
      ctx.body = response.body;
    }
  };
}

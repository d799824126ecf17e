import type { IncomingMessage, ServerResponse } from "node:http";
import { isSessionError, sessionErrorResponse } from "@sess/core";

/** An Express error-handling middleware (four parameters). */
export type SessionErrorHandler = (error: unknown, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * The ready-made Express error handler for sessions: a `SessionError` is answered with its status,
 * its headers (the clearing cookie of an ended session), `Cache-Control: no-store`, `Retry-After: 1`
 * when the store is down, and a JSON body `{ error: code, message }` with no stack and no internal
 * detail. Any other error, or one that arrives after the response started, goes to `next`.
 * Register it after your routes: `app.use(sessionErrorHandler())`.
 */
export function sessionErrorHandler(): SessionErrorHandler {
  return function sessionErrors(error, _req, res, next) {
    if (!isSessionError(error) || res.headersSent) {
      next(error);
      return;
    }
    const response = sessionErrorResponse(error);
    res.statusCode = response.status;
    for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify(response.body));
  };
}

/**
 * The response an adapter's ready-made error handler sends for a `SessionError`: its status, its
 * headers (the clearing cookie, `Cache-Control: no-store`, `Retry-After` when the store is down)
 * and a JSON body with the code and a fixed sentence, never the stack or the internal message.
 */
import type { SessionError, SessionErrorCode } from "./errors.js";

export interface SessionErrorBody {
  error: SessionErrorCode;
  message: string;
}

export interface SessionErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: SessionErrorBody;
}

const MESSAGES: Record<SessionErrorCode, string> = {
  CONFIG_INVALID: "the session set-up is invalid",
  TOKEN_INVALID: "the session token is invalid",
  STORE_UNAVAILABLE: "the session store is unavailable, try again",
  CONFLICT: "the session ended while this request used it; nothing was saved",
  PAYLOAD_TOO_LARGE: "the session data would be too large; nothing was saved",
  VALUE_INVALID: "a session value was refused; nothing was saved",
  CLOSED: "the session store is shutting down, try again",
};

export function sessionErrorResponse(error: SessionError): SessionErrorResponse {
  const headers: Record<string, string> = { "cache-control": "no-store", ...error.headers };
  if (error.code === "STORE_UNAVAILABLE" || error.code === "CLOSED") headers["retry-after"] = "1";
  return { status: error.status, headers, body: { error: error.code, message: MESSAGES[error.code] } };
}

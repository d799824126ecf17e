/**
 * Every failure sess reports is a `SessionError` with a `code` from this union.
 * `status` is the HTTP status an adapter answers with when the error reaches it.
 */
export type SessionErrorCode =
  /** A configuration option is missing, out of range or inconsistent. Thrown at construction. */
  | "CONFIG_INVALID"
  /** A token does not have the sess format. Adapters treat it as "no session"; it never reaches the store. */
  | "TOKEN_INVALID"
  /** The store failed, refused or did not answer within the operation deadline. */
  | "STORE_UNAVAILABLE"
  /** The session was ended (destroyed, ended by id or user, rotated away, expired) while this request used it. */
  | "CONFLICT"
  /** A session would exceed the configured size or field-count limits. */
  | "PAYLOAD_TOO_LARGE"
  /** A field name or value is not allowed (not JSON, reserved or polluting name, bad counter). */
  | "VALUE_INVALID"
  /** The manager or driver was closed. */
  | "CLOSED";

const STATUS: Record<SessionErrorCode, number> = {
  CONFIG_INVALID: 500,
  TOKEN_INVALID: 400,
  STORE_UNAVAILABLE: 503,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  VALUE_INVALID: 400,
  CLOSED: 503,
};

export class SessionError extends Error {
  override readonly name = "SessionError";
  readonly code: SessionErrorCode;
  /** HTTP status an adapter answers with. */
  readonly status: number;
  /**
   * Response headers to send with the error response, when there are any: the clearing cookie of a
   * session that ended meanwhile or whose logout could not reach the store. `isSessionError(e)`
   * narrows to this class, so `e.headers` needs no cast.
   */
  declare headers?: Record<string, string>;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}

export function isSessionError(value: unknown, code?: SessionErrorCode): value is SessionError {
  return value instanceof SessionError && (code === undefined || value.code === code);
}

/**
 * Wraps anything a driver threw into `STORE_UNAVAILABLE`, keeping the original as `cause`; a
 * `SessionError` passes through. `detail` replaces the thrown value's message in the text (a driver
 * naming the server's error class, say).
 */
export function toStoreError(operation: string, error: unknown, detail?: string): SessionError {
  if (error instanceof SessionError) return error;
  const text = detail ?? (error instanceof Error ? error.message : String(error));
  return new SessionError("STORE_UNAVAILABLE", `session store failed during ${operation}: ${text}`, {
    cause: error,
  });
}

export function configError(option: string, problem: string): SessionError {
  return new SessionError("CONFIG_INVALID", `invalid option "${option}": ${problem}`);
}

export * from "./errors.js";
export { sessionErrorResponse, type SessionErrorBody, type SessionErrorResponse } from "./error-response.js";
export type * from "./driver.js";
export {
  TOKEN_LENGTH,
  TAG_LENGTH,
  SESSION_ID_LENGTH,
  isToken,
  isSessionId,
  newToken,
  sessionIdOf,
  tagOf,
} from "./token.js";
export {
  createExpirationPolicy,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_ABSOLUTE_TIMEOUT,
  DEFAULT_RENEW_AFTER,
  type ExpirationOptions,
  type ExpirationPolicy,
  type SessionTimes,
  type SessionLifetime,
} from "./expiration.js";
export {
  createCookieConfig,
  serializeSessionCookie,
  serializeClearingCookie,
  readCookie,
  cookieName,
  isSecureCookie,
  MAX_COOKIE_LIFETIME,
  type CookieOptions,
  type CookieConfig,
} from "./cookie.js";
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_FIELDS,
  MAX_FIELD_NAME_LENGTH,
  type LimitOptions,
  type Limits,
} from "./values.js";
export { Session, type SessionData, type UntypedData, type DeepReadonly, type LoginOptions, type RegenerateOptions } from "./session.js";
export { SessionMap, type MapName, type MapValue } from "./map.js";
export { currentSession, runWithSession } from "./context.js";
export { createSessionManager, type SessionManager, type OpenSession, type CommitResult, type CommitOutcome, type SessionErrorWithHeaders } from "./manager.js";
export type { StoreHealth } from "./health.js";
export { DEFAULT_OPERATION_TIMEOUT, type SessionManagerOptions } from "./manager-options.js";
export {
  EVENT_CHANNEL,
  type SessionEvent,
  type EndReason,
  type SessionCreatedEvent,
  type SessionRotatedEvent,
  type SessionEndedEvent,
  type SessionBindingEndedEvent,
  type UserSessionsEndedEvent,
  type SessionConflictEvent,
  type StoreUnavailableEvent,
} from "./events.js";
export type { RequestInfo, ResponseHeaders, HeaderOptions } from "./transport.js";
export type { IndexValue } from "./queries.js";
export { CHANNELS, type ChannelName, type StoreOperation, type StoreTrace } from "./tracing.js";
export { createIndexSpecs, type IndexDefinition } from "./indexes.js";
export {
  connectRedisSource,
  koaRedisSource,
  type LegacySource,
  type LegacyOptions,
  type LegacySession,
  type LegacyClaim,
  type Claim,
  type ConnectRedisSourceOptions,
  type KoaRedisSourceOptions,
} from "./legacy.js";

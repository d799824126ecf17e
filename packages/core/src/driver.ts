/**
 * The storage-driver contract.
 *
 * A driver stores sessions by session id (never by token). Every method is required and returns
 * a Promise. "Not found" resolves to `null` or `false`; a driver throws only when the store fails
 * (core wraps that into `STORE_UNAVAILABLE`) or, with a `SessionError`, for a refused value
 * (`VALUE_INVALID`: increment of a non-integer field; `PAYLOAD_TOO_LARGE`: a write beyond `limits`).
 *
 * Times are absolute milliseconds since the epoch, decided by core's expiration policy. A driver
 * never invents an expiry: it stores the one it is given. A write whose `expiresAt` is not in the
 * future deletes the session instead.
 *
 * One clock: every call carries `now`, the manager's clock, and the driver (and its scripts) judge
 * expiry by it. A driver falls back to its own clock only when a caller leaves `now` out.
 *
 * Field names are validated by core before they reach a driver: 1..128 characters, never starting
 * with `$` (reserved for the driver's own metadata), never `__proto__`, `constructor` or `prototype`.
 * Field names, user ids and prefix-index values are well-formed UTF-16 (no lone surrogate, which a
 * UTF-8 store would turn into U+FFFD, making two strings one).
 * Field values are JSON text; a driver stores and returns them unchanged.
 */

/** User fields as stored: field name → JSON text. */
export type StoredFields = Record<string, string>;

/** What a session is, apart from its data: returned by `load` and by user listings. */
export interface SessionMeta {
  /** Session id: the public handle, derived from the token by core. Never the token. */
  id: string;
  /** When the session was first stored (kept across rotation). */
  createdAt: number;
  /** When the session was last renewed. */
  lastSeenAt: number;
  /** When the store drops the session unless renewed: min(idle deadline, absolute deadline). */
  expiresAt: number;
  /** The absolute deadline: the session never lives past it, renewed or not. */
  absoluteExpiresAt: number;
  /**
   * The session's own sliding idle timeout in ms (set by a login or regenerate with `idleTimeout`,
   * e.g. "remember me"), or null when it follows the manager's `idleTimeout`. Kept across rotation.
   */
  idleTimeout: number | null;
  /** The user the session is bound to, or null. */
  userId: string | null;
  /** Device metadata recorded when the session was stored (null when not recorded). */
  userAgent: string | null;
  ip: string | null;
}

export interface SessionRecord extends SessionMeta {
  fields: StoredFields;
}

/** Binding of a session to a user, carried by a write. */
export interface UserBinding {
  userId: string;
  /**
   * Maximum number of live sessions for this user, this one included. When binding would exceed
   * it, the user's oldest sessions (by absolute deadline, that is by login time) are ended first.
   * Enforced atomically: concurrent bindings never leave more than this many live.
   */
  maxSessions?: number;
}

/**
 * A declared secondary index, as the manager passes it with every write (the same list each time).
 *
 * - `{ name, field }`: the session is listed under the stored JSON text of `field` when that text
 *   is a string, number or boolean (first character `"`, `t`, `f`, `-` or a digit); not listed when
 *   the field is absent or holds null, an array or an object.
 * - `{ name, fieldPrefix }`: the session is listed under the rest of the name of every present field
 *   that starts with `fieldPrefix` (the raw suffix, e.g. `cart:mug` → `mug`).
 *
 * Memberships are derived per field from what the store holds after each write, never from a view
 * of the whole session, so concurrent writes to different fields cannot leave a wrong index.
 */
export type IndexSpec = { name: string; field: string } | { name: string; fieldPrefix: string };

/** One page of an index listing. */
export interface IndexPage {
  /** Live sessions listed under the entry, as metadata (never tokens, never data). */
  sessions: SessionMeta[];
  /** The offset of the next page, or null when this page is the last. */
  next: number | null;
}

/** When a call is judged, in ms since the epoch: the manager's clock. Absent: the driver's own clock. */
export interface At {
  now?: number;
}

/** A per-field change of an existing session, applied atomically or not at all. */
export interface SessionChange extends At {
  /** Fields to write (JSON text). */
  set: StoredFields;
  /** Fields to delete. */
  remove: string[];
  /** Integer deltas, applied atomically to integer fields (a missing field counts as 0). */
  increment: Record<string, number>;
  /** New `lastSeenAt`; a write never moves it earlier (the later of stored and given is kept). */
  lastSeenAt: number;
  /**
   * New store expiry. Not in the future → the session is deleted. Otherwise a write never moves the
   * expiry earlier: the later of the stored and the given expiry is kept, so a request that carried
   * the expiry it loaded cannot undo a concurrent renewal, whatever order they commit in. Except when
   * the change starts a new lifetime (it carries `absoluteExpiresAt` or `idleTimeout`: a login, or a
   * regenerate with its own lifetimes): then the given expiry is stored, even an earlier one.
   */
  expiresAt: number;
  /** New absolute deadline (set by a login); omitted → unchanged. */
  absoluteExpiresAt?: number;
  /** The session's own idle timeout (ms): a number sets it, null clears it (back to the manager's), omitted → unchanged. */
  idleTimeout?: number | null;
  /**
   * What the caller loaded of the session (its absolute deadline and user), when it did: a driver
   * may take it instead of reading them again before a binding or rotation. The write still checks
   * it atomically against the store; when it no longer holds, the driver reads and tries again.
   */
  loaded?: { absoluteExpiresAt: number; userId: string | null };
  /** Bind to a user (`UserBinding`), unbind (`null`) or leave as is (omitted). */
  user?: UserBinding | null;
  /**
   * End every other session of the user the session is bound to after the write, atomically with it
   * (`regenerate({ endOtherSessions: true })`); the ids ended are in `WriteResult.endedOthers`. Sent only
   * to a driver whose `endsOtherSessions` is true; others get `endUserSessions` calls instead.
   */
  endOtherSessions?: boolean;
  /** The manager's declared indexes; memberships are recomputed from the stored fields. Absent or empty: none. */
  indexes?: readonly IndexSpec[];
  /**
   * Bounds on the session's user fields, judged atomically against what the store holds: a write
   * that would leave more than `maxFields` fields, or more than `maxBytes` UTF-8 bytes of field names
   * plus values, is refused with a `SessionError` `PAYLOAD_TOO_LARGE`, writing nothing, unless it
   * does not grow that count or size. Absent: no bound.
   */
  limits?: FieldLimits;
}

/** See `SessionChange.limits`. */
export interface FieldLimits {
  maxFields: number;
  maxBytes: number;
}

/** A new session for insert-only creation. */
export interface NewSession extends At {
  fields: StoredFields;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
  /** The session's own idle timeout (ms), or null/omitted to follow the manager's. */
  idleTimeout?: number | null;
  user: UserBinding | null;
  userAgent: string | null;
  ip: string | null;
  /** The manager's declared indexes (see `SessionChange.indexes`). */
  indexes?: readonly IndexSpec[];
}

/** A rotation: the session moves to a new id; the old id is dead the moment this resolves. */
export interface SessionRotation extends SessionChange {
  /** false → the new id starts with no fields (metadata and user binding are kept unless `user` says otherwise). */
  keepData: boolean;
}

/** The value of every incremented field after a write. */
export type Counters = Record<string, number>;

/**
 * What the store kept after a successful `create`, `update` or `rotate`: the times as stored (a write
 * never moves the expiry or last renewal earlier, so they can be later than the ones sent), the
 * counters, and the sessions the write ended to honour `maxSessions`. The manager builds the record
 * and the cookie from it.
 */
export interface WriteResult {
  expiresAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  idleTimeout: number | null;
  counters: Counters;
  /** Ids of the user's other sessions this write ended because of `UserBinding.maxSessions` (oldest first). */
  ended: string[];
  /** Ids of the user's other sessions this write ended because of `SessionChange.endOtherSessions` (absent: none). */
  endedOthers?: string[];
}

export interface SessionDriver {
  /** A short name for messages: "memory", "ioredis", "node-redis". */
  readonly name: string;

  /**
   * Optional: true when `update` and `rotate` honour `SessionChange.endOtherSessions`, ending the
   * user's other sessions atomically with the write. Absent or false: the manager ends them with
   * `endUserSessions` before the write and again after it.
   */
  readonly endsOtherSessions?: boolean;

  /**
   * The session stored under `id`, or null when there is none (never stored, expired, ended, or
   * unreadable). The manager never changes a record it is given: a driver may answer repeated loads
   * of one stored state with the same frozen record (fields frozen too), and the manager then parses
   * each of its values once.
   */
  load(id: string, at?: At): Promise<SessionRecord | null>;

  /**
   * Insert-only creation. Resolves null, writing nothing, when anything already exists under `id`.
   * With `session.user`, the session is bound to that user (and `maxSessions` enforced).
   */
  create(id: string, session: NewSession): Promise<WriteResult | null>;

  /**
   * Update-only per-field write. Resolves null, writing nothing, when no live session exists under
   * `id` (destroyed, rotated away, expired): a late write never brings a session back.
   */
  update(id: string, change: SessionChange): Promise<WriteResult | null>;

  /**
   * Atomic rotation: the session under `fromId` moves to `toId` (which must share its tag) with
   * `change` applied; `fromId` stops existing in the same step. Resolves null, writing nothing, when
   * `fromId` holds no live session or `toId` is taken.
   */
  rotate(fromId: string, toId: string, rotation: SessionRotation): Promise<WriteResult | null>;

  /**
   * Deletes the session. Resolves true when one existed. With `userId`, atomically only when the
   * session is bound to that user (ending one of a user's sessions by id); false otherwise.
   */
  destroy(id: string, options?: { userId?: string } & At): Promise<boolean>;

  /** The user's live sessions (expired and ended ones are pruned from the user sessions on the way), oldest first. */
  listUserSessions(userId: string, at?: At): Promise<SessionMeta[]>;

  /** Ends all of the user's sessions, or all but `exceptId`. Resolves how many live sessions were ended. */
  endUserSessions(userId: string, options?: { exceptId?: string } & At): Promise<number>;

  /**
   * How many live sessions the index entry (`name`, `value`) lists: a live session is listed iff its
   * stored fields say so after its last write. Expired and ended sessions are never counted.
   */
  countIndex(name: string, value: string, at?: At): Promise<number>;

  /**
   * One page of the live sessions the index entry (`name`, `value`) lists, by expiry (soonest
   * first) then id. `next` is the offset to ask for the following page, or null.
   */
  findIndex(name: string, value: string, page: { offset: number; limit: number } & At): Promise<IndexPage>;

  /**
   * Optional: resolves when the store answers a no-op (Redis PING), rejects when it cannot. Used by
   * `manager.health()`; a driver without it is checked by loading a session id that cannot exist.
   */
  ping?(): Promise<void>;

  /** Releases what the driver opened itself. A client passed in by the application is left open. */
  close(): Promise<void>;
}

/** Options of a store driver's `ready()` (the Redis drivers): wait for the client's connection. */
export interface ReadyOptions {
  /** How long to wait for the client to be ready, in milliseconds. Default 10,000. */
  timeout?: number;
}

/** Options of a Redis driver's `verify()`, the start-up check. */
export interface VerifyOptions {
  /** Where warnings go. Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** What a Redis driver's `verify()` found. */
export interface VerifyReport {
  /** Whether the ACL command check ran (false on Redis < 7.0, which lacks `redis.acl_check_cmd`). */
  commandsChecked: boolean;
  /** `appendonly`, `appendfsync`, `maxmemory`, `maxmemory-policy`, when the user may read them (absent: not allowed or unknown). */
  settings: { appendonly?: string; appendfsync?: string; maxmemory?: string; "maxmemory-policy"?: string };
  /** This check's warnings (each is passed to `onWarning` only the first time this driver finds it). */
  warnings: string[];
}

/** A Redis driver (`@sess/ioredis`, `@sess/node-redis`): the contract, plus `ready()` (wait for the client's connection) and `verify()`: the start-up check (ACL commands, persistence and eviction settings). */
export interface CheckedDriver extends SessionDriver {
  /**
   * Checks that the connected user may run every command the driver uses on the prefix (rejects with
   * `SessionError("CONFIG_INVALID")` naming the missing ones) and warns once when Redis would lose
   * sessions on a restart (no AOF) or evict them. Call it once at start-up, after connecting.
   */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
  /**
   * Resolves once the client is connected and ready to send commands; rejects with
   * `SessionError("STORE_UNAVAILABLE")` after `timeout` ms (default 10,000), the client's last
   * connection error as `cause` and in the message. Requests meanwhile get 503.
   */
  ready(options?: ReadyOptions): Promise<void>;
  /** The near cache's state (option `nearCache`); null when it is off. */
  nearCacheStats(): NearCacheStats | null;
}

/** What every Redis driver takes besides its client. */
export interface RedisDriverOptions {
  /** Key prefix. Default `"sess"`. Must not contain `{` or `}`. */
  prefix?: string;
  /**
   * Opt-in replica acknowledgement (README "Failure behaviour"): creation, login, logout, rotation,
   * destroy and ending a user's sessions wait for `WAIT replicas timeout`; a shortfall fails with
   * `STORE_UNAVAILABLE` or, with `shortfall: "accept"`, is only reported to `onShortfall`.
   */
  replicaAck?: ReplicaAckOptions;
  /**
   * Opt-in near cache (README "Near cache"): loads served from this process's memory while Redis's
   * invalidation channel (`CLIENT TRACKING` in broadcast mode, on one extra connection) is live.
   * Standalone and Sentinel only: refused on a Cluster.
   */
  nearCache?: NearCacheOptions;
}

/** What `nearCacheStats()` reports. */
export interface NearCacheStats {
  /** Sessions held now (at most `maxEntries`). */
  entries: number;
  /** Whether loads may be served from the cache now (the invalidation channel and the client are connected). */
  live: boolean;
}

/** The Redis drivers' `nearCache` option. */
export interface NearCacheOptions {
  /** Sessions held at most (least recently used dropped first). A positive integer. */
  maxEntries: number;
  /** The longest an entry is served after it was read from Redis, in ms. A positive integer. */
  maxAge: number;
}

/** A write that fewer replicas than asked acknowledged within the timeout. */
export interface ReplicaShortfall {
  /** "create", "login", "logout", "rotate", "destroy" or "endUserSessions". */
  operation: string;
  /** Replicas that acknowledged. */
  acknowledged: number;
  /** Replicas asked for. */
  replicas: number;
  /** The WAIT timeout, in ms. */
  timeout: number;
}

/** The Redis drivers' `replicaAck` option: writes a failover must not lose wait for replicas (WAIT). */
export interface ReplicaAckOptions {
  /** Replicas that must hold the write. A positive integer. */
  replicas: number;
  /** How long to wait for them, in ms. A positive integer (WAIT 0 would wait forever). */
  timeout: number;
  /**
   * What a shortfall does: `"fail"` (default) rejects with `SessionError("STORE_UNAVAILABLE")` (the
   * request answers 503; the write is on the primary all the same), `"accept"` resolves as usual.
   * Either way it is passed to `onShortfall`.
   */
  shortfall?: "fail" | "accept";
  /** Called on every shortfall (a metric, a log line). Never receives a token, id or session value. */
  onShortfall?: (shortfall: ReplicaShortfall) => void;
}

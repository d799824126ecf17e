/**
 * The session object: one request's view of its session (reads, per-field writes, counters, map
 * fields, regenerate, login, destroy) and its public types. What it records for the commit is in
 * session-state.ts; the guard against `session.x = y` in assignment-guard.ts; value checks and
 * coding in values.ts.
 */
import { guardAssignments } from "./assignment-guard.js";
import type { SessionLifetime } from "./expiration.js";
import { SessionError } from "./errors.js";
import { checkFieldName, checkWellFormed, fieldSize, limitError, parseFieldValue, serializeValue } from "./values.js";
import { newToken, sessionIdOf, tagOf } from "./token.js";
import type { MapName, MapSession, MapValue } from "./map.js";
import { SessionMap } from "./map.js";
import { changesOf, fieldCountOf, fieldNamesOf, textEntriesOf, textOf, writableTexts, type SessionState } from "./session-state.js";

/** Options of `session.regenerate()`. */
export interface RegenerateOptions extends SessionLifetime {
  /** Keep the session's data on the new token. Default true. */
  keepData?: boolean;
  /** End every other session of the session's user at commit (password change). Default false. */
  endOtherSessions?: boolean;
}

/** Options of `session.login()`. */
export interface LoginOptions extends SessionLifetime {
  /** Keep the session's data (e.g. an anonymous cart). Default true; always false when the session is bound to another user. */
  keepData?: boolean;
}

/** Session data: any object type whose values are JSON values. */
export type SessionData = object;

/** The data type of a manager created without a type argument: any field, any JSON value. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped use stays as permissive as plain objects
export type UntypedData = Record<string, any>;

export type DeepReadonly<V> = V extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : V extends object
    ? { readonly [K in keyof V]: DeepReadonly<V[K]> }
    : V;

type FieldName<T> = keyof T & string;
type CounterName<T> = { [K in keyof T]-?: NonNullable<T[K]> extends number ? K : never }[keyof T] & string;

/**
 * One request's view of a session. Reads see what was loaded plus this request's own changes;
 * only changed fields are written at commit. Values read are frozen snapshots: build a new value
 * and `set` it to change a field.
 */
export class Session<T extends SessionData = UntypedData> {
  readonly #state: SessionState;

  constructor(state: SessionState) {
    this.#state = state;
  }

  /**
   * Public session id (safe to show and to pass to `endSession`); null until the session is stored.
   * After `regenerate()` or `login()` it is already the id the commit moves the session to.
   */
  get id(): string | null {
    return this.#state.next?.id ?? this.#state.record?.id ?? null;
  }

  /** True until the session is first stored (at the end of the request that writes to it). */
  get isNew(): boolean {
    return this.#state.record === null;
  }

  get createdAt(): number | null {
    return this.#state.record?.createdAt ?? null;
  }

  get lastSeenAt(): number | null {
    return this.#state.record?.lastSeenAt ?? null;
  }

  get expiresAt(): number | null {
    return this.#state.record?.expiresAt ?? null;
  }

  /** The user bound to the session (including one bound by `login` in this request), or null. */
  get userId(): string | null {
    if (this.#state.destroyed) return null;
    return this.#state.login ?? this.#state.record?.userId ?? null;
  }

  get isDestroyed(): boolean {
    return this.#state.destroyed;
  }

  get<K extends FieldName<T>>(field: K): DeepReadonly<T[K]> | undefined {
    const state = this.#state;
    const known = state.parsed?.get(field);
    if (known !== undefined) return known as DeepReadonly<T[K]>;
    const text = textOf(state, field);
    if (text === undefined) return undefined;
    const value = parseFieldValue(state.loaded, field, text);
    if (value === undefined) {
      state.onCorruptField(field);
      return undefined;
    }
    // The loaded fields of a shared frozen record keep their parsed values themselves (parseFieldValue).
    if (state.texts !== null || !Object.isFrozen(state.loaded)) (state.parsed ??= new Map()).set(field, value);
    return value as DeepReadonly<T[K]>;
  }

  has(field: FieldName<T>): boolean {
    return this.get(field) !== undefined;
  }

  /** Every field with a readable value. */
  all(): DeepReadonly<Partial<T>> {
    const out: Record<string, unknown> = {};
    for (const field of fieldNamesOf(this.#state)) {
      const value = this.get(field as FieldName<T>);
      if (value !== undefined) out[field] = value;
    }
    return out as DeepReadonly<Partial<T>>;
  }

  /** Writes a JSON value; `undefined` removes the field, as `unset(field)` does. */
  set<K extends FieldName<T>>(field: K, value: T[K] | undefined): void {
    if (value === undefined) {
      this.unset(field);
      return;
    }
    this.#writable();
    this.#guard(() => checkFieldName(field));
    const text = this.#guard(() => serializeValue(field, value));
    const state = this.#state;
    this.#guard(() => this.#checkLimits(field, text));
    writableTexts(state).set(field, text);
    state.parsed?.delete(field);
    const changes = changesOf(state);
    changes.set.set(field, text);
    changes.remove.delete(field);
    changes.increment.delete(field);
  }

  unset(field: FieldName<T>): void {
    this.#writable();
    this.#guard(() => checkFieldName(field));
    const state = this.#state;
    writableTexts(state).delete(field);
    state.parsed?.delete(field);
    const changes = changesOf(state);
    changes.set.delete(field);
    changes.increment.delete(field);
    changes.remove.add(field);
  }

  /**
   * A map field: the entries of a collection kept one session field each (`<name>:<key>`), so
   * concurrent requests that change different entries keep each other's changes. Declare it in the
   * session type as `` [k: `cart:${string}`]: number `` and use `session.map("cart").increment(sku)`.
   */
  map<P extends MapName<T>>(name: P): SessionMap<MapValue<T, P>> {
    const fields: MapSession = {
      get: (field) => this.get(field as FieldName<T>),
      set: (field, value) => this.set(field as FieldName<T>, value as T[FieldName<T>]),
      unset: (field) => this.unset(field as FieldName<T>),
      increment: (field, by) => this.increment(field as CounterName<T>, by),
      fieldNames: () => fieldNamesOf(this.#state),
    };
    return new SessionMap(fields, name);
  }

  /**
   * Adds `by` (a whole number, default 1) to an integer field atomically in the store: concurrent
   * increments from other requests are never lost. Returns the value this request expects; the
   * stored value after commit also counts the other requests' increments.
   */
  increment<K extends CounterName<T>>(field: K, by = 1): number {
    this.#writable();
    this.#guard(() => checkFieldName(field));
    if (!Number.isSafeInteger(by)) {
      throw this.#refuse(new SessionError("VALUE_INVALID", `increment of "${field}" needs a whole number, got ${String(by)}`));
    }
    const state = this.#state;
    const text = textOf(state, field);
    const current = text === undefined ? 0 : parseFieldValue(state.loaded, field, text);
    if (!Number.isSafeInteger(current)) {
      throw this.#refuse(new SessionError("VALUE_INVALID", `cannot increment "${field}": its value is not a whole number`));
    }
    const next = (current as number) + by;
    const nextText = String(next);
    this.#guard(() => this.#checkLimits(field, nextText));
    writableTexts(state).set(field, nextText);
    state.parsed?.delete(field);
    const changes = changesOf(state);
    if (changes.set.has(field) || changes.remove.has(field)) {
      // The field was replaced in this request: the replacement is what gets written.
      changes.set.set(field, nextText);
      changes.remove.delete(field);
    } else {
      changes.increment.set(field, (changes.increment.get(field) ?? 0) + by);
    }
    return next;
  }

  /**
   * Issues a new token at commit; the old one is dead from then on. Data is kept unless
   * `keepData: false`. Use after any privilege change. With `endOtherSessions: true` (invalidate on
   * password change), the commit also ends every other session of the session's user, so only the
   * new token stays valid. The session keeps its lifetimes unless `idleTimeout` or `absoluteTimeout`
   * (ms) are given: then they become the session's own, the absolute lifetime counted from now.
   */
  regenerate(options: RegenerateOptions = {}): void {
    this.#writable();
    const state = this.#state;
    this.#takeLifetime("regenerate", options);
    const keepData = options.keepData ?? true;
    state.rotate = { keepData: (state.rotate?.keepData ?? true) && keepData };
    if (state.next === null) {
      const token = state.record ? newToken(tagOf(state.record.id)) : newToken();
      state.next = { token, id: sessionIdOf(token) };
    }
    if (options.endOtherSessions === true) state.endOthers = true;
    if (!keepData) {
      const texts = writableTexts(state);
      const changes = changesOf(state);
      for (const field of texts.keys()) changes.remove.add(field);
      texts.clear();
      state.parsed = null;
      changes.set.clear();
      changes.increment.clear();
    }
  }

  /**
   * Logs `userId` in: a new token, the session bound to the user, and the absolute lifetime counted
   * from now. Data is kept (an anonymous cart survives the login) unless `keepData: false`, and never
   * when the session is bound to another user: then the new user starts with empty data.
   * `idleTimeout` and `absoluteTimeout` (ms) give this session its own lifetimes ("remember me"),
   * stored with it, used by every renewal, the cookie and the store expiry, and kept across
   * rotation; left out, the session follows the manager's options (a login without them ends an
   * earlier remember-me lifetime).
   */
  login(userId: string, options: LoginOptions = {}): void {
    if (typeof userId !== "string" || userId.length === 0 || userId.length > 256) {
      throw new SessionError("VALUE_INVALID", "login needs a user id of 1 to 256 characters");
    }
    checkWellFormed("the user id", userId);
    const lifetime = this.#state.checkLifetime("login", options);
    const current = this.userId;
    const keepData = current !== null && current !== userId ? false : options.keepData;
    this.regenerate(keepData === undefined ? {} : { keepData });
    // A login starts a new lifetime: the one given, else the manager's (an earlier "remember me" ends).
    this.#state.lifetime = lifetime;
    this.#state.login = userId;
  }

  /** Records the lifetimes given to `call`, checked before anything else changes. */
  #takeLifetime(call: string, options: SessionLifetime): void {
    const lifetime = this.#state.checkLifetime(call, options);
    if (lifetime.idleTimeout === undefined && lifetime.absoluteTimeout === undefined) return;
    this.#state.lifetime = { ...this.#state.lifetime, ...lifetime };
  }

  /** Ends the session: deleted from the store at commit, and the cookie cleared. */
  destroy(): void {
    this.#uncommitted();
    this.#state.destroyed = true;
  }

  /** Records a refused write (an error response then commits nothing) and returns the error to throw. */
  #refuse(error: SessionError): SessionError {
    this.#state.refused ??= error;
    return error;
  }

  /** Runs a check; a SessionError it throws is a refused write. */
  #guard<V>(check: () => V): V {
    try {
      return check();
    } catch (error) {
      if (error instanceof SessionError) throw this.#refuse(error);
      throw error;
    }
  }

  #uncommitted(): void {
    const listener = this.#state.beforeChange;
    if (listener !== null) {
      this.#state.beforeChange = null;
      listener();
    }
    if (this.#state.committed) {
      throw new SessionError(
        "CONFLICT",
        "the session was already committed (its response is being sent); this change would be lost: make it before sending the response",
      );
    }
  }

  #writable(): void {
    this.#uncommitted();
    if (this.#state.destroyed) {
      throw new SessionError("CONFLICT", "the session was destroyed in this request; it cannot be written");
    }
  }

  #checkLimits(field: string, text: string): void {
    const state = this.#state;
    let size = fieldSize(field, text);
    for (const [name, value] of textEntriesOf(state)) {
      if (name !== field) size += fieldSize(name, value);
    }
    const added = textOf(state, field) === undefined;
    const error = limitError(state.limits, { count: fieldCountOf(state) + (added ? 1 : 0), grown: added }, { size, grown: true });
    if (error) throw error;
  }
}

guardAssignments(Session.prototype);

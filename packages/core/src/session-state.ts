/**
 * What a request did to its session, recorded by the session object and read by the manager at
 * commit: the fields changed, removed and incremented (only those are written), rotation, login,
 * lifetimes, destroy, and whether the commit has started.
 */
import type { SessionRecord } from "./driver.js";
import type { SessionLifetime } from "./expiration.js";
import { createExpirationPolicy } from "./expiration.js";
import type { SessionError } from "./errors.js";
import { sharedValuesOf, type Limits } from "./values.js";

/** The fields a request wrote: replaced (`set`), removed, and incremented by a delta. */
export interface FieldChanges {
  set: Map<string, string>;
  remove: Set<string>;
  increment: Map<string, number>;
}

/**
 * What the request did to its session; read by the manager at commit.
 *
 * A class, like every per-request object of the core that points into its request (the commit
 * context, the object `open` answers, a store call's deadline entry): after a burst of requests V8
 * may decide to allocate an object literal's objects straight in the old generation (allocation-site
 * pretenuring), and such an object, dead or not, keeps what it points to alive through every minor
 * GC, so whole requests get promoted (bench/PROFILE-NOTES.md §13). Objects made by `new` are never
 * pretenured.
 */
export class SessionState {
  /** The stored session, or null while the session is new (never stored, or its token was unknown). */
  record: SessionRecord | null;
  /** The stored fields as the request found them (empty for a new session): the current texts until the first change. */
  loaded: Readonly<Record<string, string>>;
  /**
   * Current field texts once the request changed a field: the loaded fields with this request's
   * changes applied; null before (a request that only reads copies nothing). Read through `textOf`,
   * `fieldNamesOf`, `textEntriesOf`; written through `writableTexts`.
   */
  texts: Map<string, string> | null = null;
  /**
   * Parsed (frozen) values, filled on first read; null until needed. While the request has changed
   * nothing and its loaded fields are a shared frozen record (a near-cache hit), this is the
   * record's own map of parsed values (`sharedValuesOf`), shared with every request that loaded it;
   * the first change (`writableTexts`) drops it, so a request's changes never reach it.
   */
  parsed: Map<string, unknown> | null;
  /** The field changes to write at commit; null until the first (`changesOf`). */
  changes: FieldChanges | null = null;
  /** A new token was asked for (regenerate or login). */
  rotate: { keepData: boolean } | null = null;
  /** The token (and its session id) the commit will issue, chosen by the first regenerate or login. */
  next: { token: string; id: string } | null = null;
  /** login(): bind to this user and restart the absolute lifetime. */
  login: string | null = null;
  /**
   * The session's own lifetimes given to login() or regenerate() ("remember me"); null when neither
   * gave any. A login always starts a new lifetime: without options, the manager's.
   */
  lifetime: SessionLifetime | null = null;
  /** Checks the lifetimes given to login() or regenerate() against the manager's options (throws VALUE_INVALID). */
  readonly checkLifetime: (call: string, lifetime: unknown) => SessionLifetime;
  /** regenerate({ endOtherSessions: true }): end the user's other sessions after the write. */
  endOthers = false;
  destroyed = false;
  /** The commit started (the response is on its way): later changes would be lost, so they throw. */
  committed = false;
  /**
   * The first refused write of this request (bad value, limit exceeded). The refused call itself
   * changed nothing; the request's other writes are committed unless its response is an error
   * (status 400 or more), so an error response never hides half a change.
   */
  refused: SessionError | null = null;
  /** A session converted from a legacy store: created with its absolute deadline no later than this (ms), or null. */
  expiresBy: number | null = null;
  readonly limits: Limits;
  readonly onCorruptField: (field: string) => void;
  /** Runs once, before the first change to the session (set, unset, increment, regenerate, login, destroy). */
  beforeChange: (() => void) | null = null;

  constructor(
    record: SessionRecord | null,
    limits: Limits,
    onCorruptField: (field: string) => void,
    checkLifetime: (call: string, lifetime: unknown) => SessionLifetime,
  ) {
    this.record = record;
    this.loaded = record === null ? NO_FIELDS : record.fields;
    this.parsed = record !== null && Object.isFrozen(record.fields) ? sharedValuesOf(record.fields) : null;
    this.checkLifetime = checkLifetime;
    this.limits = limits;
    this.onCorruptField = onCorruptField;
  }
}

const defaultPolicy = createExpirationPolicy();
const checkDefaultLifetime = (call: string, lifetime: unknown) => defaultPolicy.checkLifetime(call, lifetime, null);

export function createSessionState(
  record: SessionRecord | null,
  limits: Limits,
  onCorruptField: (field: string) => void,
  checkLifetime: (call: string, lifetime: unknown) => SessionLifetime = checkDefaultLifetime,
): SessionState {
  return new SessionState(record, limits, onCorruptField, checkLifetime);
}

const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

/** The current text of `field`, or undefined when the session has none. */
export function textOf(state: SessionState, field: string): string | undefined {
  if (state.texts !== null) return state.texts.get(field);
  return Object.hasOwn(state.loaded, field) ? state.loaded[field] : undefined;
}

/** The names of the session's current fields. */
export function fieldNamesOf(state: SessionState): IterableIterator<string> {
  return state.texts !== null ? state.texts.keys() : Object.keys(state.loaded).values();
}

/** The session's current fields as [name, text] pairs. */
export function textEntriesOf(state: SessionState): Iterable<readonly [string, string]> {
  return state.texts !== null ? state.texts : Object.entries(state.loaded);
}

/** How many fields the session has now. */
export function fieldCountOf(state: SessionState): number {
  return state.texts !== null ? state.texts.size : Object.keys(state.loaded).length;
}

/** The session's current fields as an object (the loaded one itself while nothing changed: never mutated). */
export function fieldsObjectOf(state: SessionState): Readonly<Record<string, string>> {
  return state.texts !== null ? Object.fromEntries(state.texts) : state.loaded;
}

/** The current texts, copied from the loaded fields at the request's first change. */
export function writableTexts(state: SessionState): Map<string, string> {
  if (state.texts === null) {
    const texts = new Map<string, string>();
    const fields = state.loaded;
    const names = Object.keys(fields);
    for (let i = 0; i < names.length; i++) texts.set(names[i]!, fields[names[i]!]!);
    state.texts = texts;
    if (Object.isFrozen(fields)) state.parsed = null; // the shared map of a frozen record: never written by a request
  }
  return state.texts;
}

/** The field changes to write, made at the request's first change. */
export function changesOf(state: SessionState): FieldChanges {
  state.changes ??= { set: new Map(), remove: new Set(), increment: new Map() };
  return state.changes;
}

export function hasFieldChanges(state: SessionState): boolean {
  const changes = state.changes;
  return changes !== null && (changes.set.size > 0 || changes.remove.size > 0 || changes.increment.size > 0);
}

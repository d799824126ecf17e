/**
 * What a request did to its session, recorded by the session object and read by the manager at
 * commit: the fields changed, removed and incremented (only those are written), rotation, login,
 * lifetimes, destroy, and whether the commit has started.
 */
import type { SessionRecord } from "./driver.js";
import type { SessionLifetime } from "./expiration.js";
import { createExpirationPolicy } from "./expiration.js";
import type { SessionError } from "./errors.js";
import type { Limits } from "./values.js";

/** What the request did to its session; read by the manager at commit. */
export interface SessionState {
  /** The stored session, or null while the session is new (never stored, or its token was unknown). */
  record: SessionRecord | null;
  /** Current field text: stored fields with this request's changes applied. */
  texts: Map<string, string>;
  /** Parsed (frozen) values, filled on first read. */
  parsed: Map<string, unknown>;
  set: Map<string, string>;
  remove: Set<string>;
  increment: Map<string, number>;
  /** A new token was asked for (regenerate or login). */
  rotate: { keepData: boolean } | null;
  /** The token (and its session id) the commit will issue, chosen by the first regenerate or login. */
  next: { token: string; id: string } | null;
  /** login(): bind to this user and restart the absolute lifetime. */
  login: string | null;
  /**
   * The session's own lifetimes given to login() or regenerate() ("remember me"); null when neither
   * gave any. A login always starts a new lifetime: without options, the manager's.
   */
  lifetime: SessionLifetime | null;
  /** Checks the lifetimes given to login() or regenerate() against the manager's options (throws VALUE_INVALID). */
  checkLifetime: (call: string, lifetime: unknown) => SessionLifetime;
  /** regenerate({ endOtherSessions: true }): end the user's other sessions after the write. */
  endOthers: boolean;
  destroyed: boolean;
  /** The commit started (the response is on its way): later changes would be lost, so they throw. */
  committed: boolean;
  /**
   * The first refused write of this request (bad value, limit exceeded). The refused call itself
   * changed nothing; the request's other writes are committed unless its response is an error
   * (status 400 or more), so an error response never hides half a change.
   */
  refused: SessionError | null;
  /** A session converted from a legacy store: created with its absolute deadline no later than this (ms), or null. */
  expiresBy: number | null;
  limits: Limits;
  onCorruptField: (field: string) => void;
  /** Runs once, before the first change to the session (set, unset, increment, regenerate, login, destroy). */
  beforeChange: (() => void) | null;
}

const defaultPolicy = createExpirationPolicy();
const checkDefaultLifetime = (call: string, lifetime: unknown) => defaultPolicy.checkLifetime(call, lifetime, null);

export function createSessionState(
  record: SessionRecord | null,
  limits: Limits,
  onCorruptField: (field: string) => void,
  checkLifetime: (call: string, lifetime: unknown) => SessionLifetime = checkDefaultLifetime,
): SessionState {
  return {
    record,
    texts: textsOf(record),
    parsed: new Map(),
    set: new Map(),
    remove: new Set(),
    increment: new Map(),
    rotate: null,
    next: null,
    login: null,
    lifetime: null,
    checkLifetime,
    endOthers: false,
    destroyed: false,
    committed: false,
    refused: null,
    expiresBy: null,
    limits,
    onCorruptField,
    beforeChange: null,
  };
}

/** The stored fields as a Map, filled without the `[name, value]` pair arrays `Object.entries` allocates. */
function textsOf(record: SessionRecord | null): Map<string, string> {
  const texts = new Map<string, string>();
  if (record === null) return texts;
  const fields = record.fields;
  const names = Object.keys(fields);
  for (let i = 0; i < names.length; i++) texts.set(names[i]!, fields[names[i]!]!);
  return texts;
}

export function hasFieldChanges(state: SessionState): boolean {
  return state.set.size > 0 || state.remove.size > 0 || state.increment.size > 0;
}

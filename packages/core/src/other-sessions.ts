/**
 * A commit's steps on sessions other than the one it writes, found through the user sessions of
 * the session's user: the others a password change ends (`regenerate({ endOtherSessions: true })`),
 * and the session a parallel request rotated the request's session to (ended by a logout that raced
 * the rotation; told apart from a revocation when a write finds its session gone).
 */
import type { StoreCalls } from "./deadline.js";
import type { SessionMeta, SessionRecord } from "./driver.js";
import { SessionError } from "./errors.js";
import type { SessionEvents } from "./events.js";
import type { SessionErrorWithHeaders } from "./manager.js";
import type { ManagerConfig } from "./manager-options.js";
import type { SessionState } from "./session-state.js";
import { tagOf } from "./token.js";
import type { ResponseHeaders } from "./transport.js";

/** The steps of one manager, built once. */
export interface OtherSessions {
  endRotated(record: SessionRecord): Promise<void>;
  rotatedTo(record: SessionRecord): Promise<SessionMeta | null>;
  endOthers(state: SessionState, keepId: string | null): Promise<void>;
  endOthersAfter(state: SessionState, id: string, headers: ResponseHeaders): Promise<void>;
}

export function createOtherSessions({ driver, clock }: ManagerConfig, call: StoreCalls["call"], events: SessionEvents): OtherSessions {
  /**
   * A destroy that found nothing: a parallel request may have rotated the session away. A bound
   * session is found again in its user's sessions by what rotation keeps (slot tag, creation time)
   * and ended, so a logout that raced a rotation still ends the session. (An anonymous session
   * cannot be found again; its rotation lives on.)
   */
  async function endRotated(record: SessionRecord): Promise<void> {
    const moved = await rotatedTo(record);
    if (moved !== null && (await call("destroy", () => driver.destroy(moved.id, { now: clock() }), moved.id))) events.ended("logout", "destroy", moved.id);
  }

  /** The live session a bound session was rotated to (same slot tag and creation time), or null. */
  async function rotatedTo(record: SessionRecord): Promise<SessionMeta | null> {
    const userId = record.userId;
    if (userId === null) return null;
    const sessions = await call("listUserSessions", () => driver.listUserSessions(userId, { now: clock() }));
    return sessions.find((meta) => tagOf(meta.id) === tagOf(record.id) && meta.createdAt === record.createdAt) ?? null;
  }

  /**
   * regenerate({ endOtherSessions: true }): the user's sessions other than `keepId` end. Run before
   * the write (a failure then leaves the request's session as it was, not logged out) and again
   * after it (`endOthersAfter`), for sessions started in between.
   */
  async function endOthers(state: SessionState, keepId: string | null): Promise<void> {
    const userId = state.login ?? state.record?.userId ?? null;
    if (!state.endOthers || userId === null) return;
    const now = clock();
    events.userEnded(await call("endUserSessions", () => driver.endUserSessions(userId, keepId === null ? { now } : { exceptId: keepId, now })), keepId);
  }

  /** The second `endOthers`, after the write: a failure carries the new token's headers, so the client keeps its session. */
  async function endOthersAfter(state: SessionState, id: string, headers: ResponseHeaders): Promise<void> {
    try {
      await endOthers(state, id);
    } catch (error) {
      if (error instanceof SessionError) (error as SessionErrorWithHeaders).headers = Object.fromEntries(headers);
      throw error;
    }
  }

  return { endRotated, rotatedTo, endOthers, endOthersAfter };
}

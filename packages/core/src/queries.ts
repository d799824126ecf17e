/**
 * The manager's questions across sessions, none of them about the request's own: a user's sessions
 * (listing and ending them), ending one session by id, and the sessions a declared index lists
 * (`count`, `find`, with the checks of the index name, the value queried by and the page).
 */
import type { StoreCalls } from "./deadline.js";
import { describe } from "./describe.js";
import type { IndexSpec } from "./driver.js";
import { SessionError } from "./errors.js";
import type { SessionEvents } from "./events.js";
import { DEFAULT_PAGE, MAX_PAGE } from "./indexes.js";
import type { SessionManager } from "./manager.js";
import type { ManagerConfig } from "./manager-options.js";
import type { SessionData } from "./session.js";
import { isSessionId } from "./token.js";
import { checkWellFormed } from "./values.js";

/** A value an index is queried by: a `field` index matches the field's value, a `fieldPrefix` index the field name's suffix. */
export type IndexValue = string | number | boolean;

/** The page `find` asks for. */
export interface FindPage {
  offset?: number;
  limit?: number;
}

export type Queries = Pick<SessionManager<SessionData>, "count" | "find" | "listUserSessions" | "endUserSessions" | "endSession">;

export function createQueries({ driver, clock, indexes }: ManagerConfig, call: StoreCalls["call"], events: SessionEvents): Queries {
  const indexByName = new Map(indexes.map((spec) => [spec.name, spec]));
  return {
    async count(index, value) {
      const spec = indexSpecOf(indexByName, index);
      const text = indexValueOf(spec, value);
      return call("countIndex", () => driver.countIndex(spec.name, text, { now: clock() }));
    },
    async find(index, value, page = {}) {
      const spec = indexSpecOf(indexByName, index);
      const text = indexValueOf(spec, value);
      const { offset, limit } = checkPage(page);
      return call("findIndex", () => driver.findIndex(spec.name, text, { offset, limit, now: clock() }));
    },
    async listUserSessions(userId) {
      checkWellFormed("the user id", userId);
      return call("listUserSessions", () => driver.listUserSessions(userId, { now: clock() }));
    },
    async endUserSessions(userId, endOptions = {}) {
      checkWellFormed("the user id", userId);
      const exceptId = endOptions.exceptId ?? undefined;
      const now = clock();
      const count = await call("endUserSessions", () => driver.endUserSessions(userId, exceptId === undefined ? { now } : { exceptId, now }));
      events.userEnded(count, exceptId ?? null);
      return count;
    },
    async endSession(id, endOptions = {}) {
      if (!isSessionId(id)) return false;
      // With a user id: one atomic driver call that ends the session only when it is bound to that user.
      const userId = endOptions.userId;
      if (userId !== undefined) checkWellFormed("the user id", userId);
      const now = clock();
      const ended = await call("endSession", () => driver.destroy(id, userId === undefined ? { now } : { userId, now }), id);
      if (ended) events.ended("end", "endSession", id);
      return ended;
    },
  };
}

/** The declared index named `index`; an unknown name is VALUE_INVALID, listing the declared ones. */
function indexSpecOf(indexByName: ReadonlyMap<string, IndexSpec>, index: string): IndexSpec {
  const spec = typeof index === "string" ? indexByName.get(index) : undefined;
  if (spec === undefined) {
    const known = [...indexByName.keys()].map((name) => JSON.stringify(name)).join(", ") || "none";
    throw new SessionError("VALUE_INVALID", `no index named ${describe(index)} was declared (declared: ${known})`);
  }
  return spec;
}

/** The stored form of a queried value: JSON text for a field index, the raw suffix for a prefix index. */
function indexValueOf(spec: IndexSpec, value: IndexValue): string {
  if ("field" in spec) {
    if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
      return JSON.stringify(value);
    }
    throw new SessionError("VALUE_INVALID", `index "${spec.name}" is queried by a string, number or boolean, got ${describe(value)}`);
  }
  if (typeof value !== "string") {
    throw new SessionError("VALUE_INVALID", `index "${spec.name}" lists field-name suffixes: query it by a string, got ${describe(value)}`);
  }
  checkWellFormed(`the value index "${spec.name}" is queried by`, value);
  return value;
}

/** The checked page of `find`: `offset` from 0, `limit` from 1 to MAX_PAGE (default DEFAULT_PAGE). */
function checkPage(page: FindPage): { offset: number; limit: number } {
  const offset = page.offset ?? 0;
  const limit = page.limit ?? DEFAULT_PAGE;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new SessionError("VALUE_INVALID", `find needs offset to be a whole number of at least 0, got ${describe(offset)}`);
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new SessionError("VALUE_INVALID", `find needs limit to be a whole number from 1 to ${MAX_PAGE}, got ${describe(limit)}`);
  }
  return { offset, limit };
}

/** The checks of `count` and `find` on a declared index: the index name, the value queried by, the page. */
import { describe } from "./describe.js";
import type { IndexSpec } from "./driver.js";
import { SessionError } from "./errors.js";
import { DEFAULT_PAGE, MAX_PAGE } from "./indexes.js";
import { checkWellFormed } from "./values.js";

/** A value an index is queried by: a `field` index matches the field's value, a `fieldPrefix` index the field name's suffix. */
export type IndexValue = string | number | boolean;

/** The page `find` asks for. */
export interface FindPage {
  offset?: number;
  limit?: number;
}

/** The declared index named `index`; an unknown name is VALUE_INVALID, listing the declared ones. */
export function indexSpecOf(indexByName: ReadonlyMap<string, IndexSpec>, index: string): IndexSpec {
  const spec = typeof index === "string" ? indexByName.get(index) : undefined;
  if (spec === undefined) {
    const known = [...indexByName.keys()].map((name) => JSON.stringify(name)).join(", ") || "none";
    throw new SessionError("VALUE_INVALID", `no index named ${describe(index)} was declared (declared: ${known})`);
  }
  return spec;
}

/** The stored form of a queried value: JSON text for a field index, the raw suffix for a prefix index. */
export function indexValueOf(spec: IndexSpec, value: IndexValue): string {
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
export function checkPage(page: FindPage): { offset: number; limit: number } {
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

/**
 * Declared secondary indexes: validation of the manager's `indexes` option and the membership rule
 * every driver applies (the Redis drivers apply the same rule in Lua, in lua/include/indexes.lua).
 */
import type { IndexSpec } from "./driver.js";
import { configError } from "./errors.js";
import { describe } from "./describe.js";
import { checkFieldName } from "./values.js";

/** How an index derives its values from a session's fields. */
export type IndexDefinition = { field: string } | { fieldPrefix: string };

export const INDEX_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Most sessions one `find` page returns. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/** Validates the manager's `indexes` option into the list passed with every write. */
export function createIndexSpecs(indexes: Record<string, IndexDefinition> | undefined): IndexSpec[] {
  if (indexes === undefined) return [];
  if (indexes === null || typeof indexes !== "object" || Array.isArray(indexes)) {
    throw configError("indexes", `expected an object of { name: { field } or { fieldPrefix } }, got ${describe(indexes)}`);
  }
  const specs: IndexSpec[] = [];
  for (const [name, definition] of Object.entries(indexes)) {
    const option = `indexes.${name}`;
    if (!INDEX_NAME.test(name)) throw configError(option, "index names are 1 to 64 characters of A-Z a-z 0-9 _ . -");
    if (definition === null || typeof definition !== "object") {
      throw configError(option, `expected { field: "<name>" } or { fieldPrefix: "<prefix>" }, got ${describe(definition)}`);
    }
    const hasField = Object.hasOwn(definition, "field");
    const hasPrefix = Object.hasOwn(definition, "fieldPrefix");
    if (hasField === hasPrefix) throw configError(option, "give exactly one of field and fieldPrefix");
    const target = hasField ? (definition as { field: unknown }).field : (definition as { fieldPrefix: unknown }).fieldPrefix;
    try {
      checkFieldName(target);
    } catch {
      throw configError(
        `${option}.${hasField ? "field" : "fieldPrefix"}`,
        `expected a session field name (1 to 128 characters, not starting with "$"), got ${describe(target)}`,
      );
    }
    specs.push(hasField ? { name, field: target } : { name, fieldPrefix: target });
  }
  return specs;
}

/** Whether stored JSON text holds a string, number or boolean: the values a `field` index lists. */
export function isScalarText(text: string): boolean {
  return /^["tf0-9-]/.test(text);
}

/** One index entry of a session: `<index name>\0<value>`. */
export function membershipOf(name: string, value: string): string {
  return `${name}\0${value}`;
}

/** The index entries a session with these stored fields belongs to. */
export function membershipsOf(fields: ReadonlyMap<string, string>, specs: readonly IndexSpec[]): Set<string> {
  const memberships = new Set<string>();
  for (const spec of specs) {
    if ("field" in spec) {
      const text = fields.get(spec.field);
      if (text !== undefined && isScalarText(text)) memberships.add(membershipOf(spec.name, text));
    } else {
      for (const field of fields.keys()) {
        if (field.startsWith(spec.fieldPrefix)) memberships.add(membershipOf(spec.name, field.slice(spec.fieldPrefix.length)));
      }
    }
  }
  return memberships;
}

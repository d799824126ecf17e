import { SessionError, configError } from "./errors.js";

/** Bounds on what one session may hold. */
export interface LimitOptions {
  /** Maximum size of a session's data: field names plus their JSON text, in UTF-8 bytes. Default 65,536. */
  maxBytes?: number;
  /** Maximum number of fields in a session. Default 128. */
  maxFields?: number;
}

export interface Limits {
  maxBytes: number;
  maxFields: number;
}

export const DEFAULT_MAX_BYTES = 65_536;
export const DEFAULT_MAX_FIELDS = 128;
export const MAX_FIELD_NAME_LENGTH = 128;
const MAX_DEPTH = 64;

export function createLimits(options: LimitOptions = {}): Limits {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxFields = options.maxFields ?? DEFAULT_MAX_FIELDS;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw configError("limits.maxBytes", `expected a positive whole number, got ${String(maxBytes)}`);
  }
  if (!Number.isSafeInteger(maxFields) || maxFields < 1) {
    throw configError("limits.maxFields", `expected a positive whole number, got ${String(maxFields)}`);
  }
  return { maxBytes, maxFields };
}

/** What a field counts towards `limits.maxBytes`: its name and JSON text, in UTF-8 bytes. */
export function fieldSize(name: string, text: string): number {
  return Buffer.byteLength(name) + Buffer.byteLength(text);
}

/**
 * The PAYLOAD_TOO_LARGE error of a session that would hold `count` fields or `size` bytes, or null
 * when both are within `limits`. `grown`: whether the write grows that measure (a write that does
 * not grow a session already over a lowered limit is let through).
 */
export function limitError(
  limits: Limits,
  fields: { count: number; grown: boolean },
  bytes: { size: number; grown: boolean },
): SessionError | null {
  if (fields.grown && fields.count > limits.maxFields) {
    return new SessionError("PAYLOAD_TOO_LARGE", `a session holds at most ${limits.maxFields} fields (limits.maxFields)`);
  }
  if (bytes.grown && bytes.size > limits.maxBytes) {
    return new SessionError(
      "PAYLOAD_TOO_LARGE",
      `the session would hold ${bytes.size} bytes of data, more than limits.maxBytes (${limits.maxBytes})`,
    );
  }
  return null;
}

const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Throws VALUE_INVALID when `text` is not well-formed UTF-16 (holds a lone surrogate): a UTF-8 store
 * turns every lone surrogate into U+FFFD, so two different user ids (or field names) would meet.
 */
export function checkWellFormed(what: string, text: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw new SessionError("VALUE_INVALID", `${what} is not well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF)`);
  }
}

/** Throws VALUE_INVALID unless `name` may be a session field name. */
export function checkFieldName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_FIELD_NAME_LENGTH) {
    throw new SessionError("VALUE_INVALID", `a session field name must be a string of 1 to ${MAX_FIELD_NAME_LENGTH} characters`);
  }
  checkWellFormed("a session field name", name);
  if (name.charCodeAt(0) === 36 /* $ */) {
    throw new SessionError("VALUE_INVALID", `session field names starting with "$" are reserved: ${JSON.stringify(name)}`);
  }
  if (FORBIDDEN_NAMES.has(name)) {
    throw new SessionError("VALUE_INVALID", `session field name ${JSON.stringify(name)} is not allowed`);
  }
}

/**
 * JSON text of a session value. Only JSON values are accepted: null, booleans, finite numbers,
 * strings, arrays and plain objects, without "__proto__" keys, nested at most 64 deep.
 */
export function serializeValue(field: string, value: unknown): string {
  checkJson(field, value, 0);
  return JSON.stringify(value);
}

function checkJson(path: string, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw invalid(path, `is nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw invalid(path, `is ${value}, which JSON cannot hold`);
      return;
    case "object": {
      if (value === null) return;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkJson(`${path}[${i}]`, value[i], depth + 1);
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw invalid(path, "is not a plain object (class instances, Dates, Maps… are not JSON values)");
      }
      for (const key of Object.keys(value)) {
        if (key === "__proto__") throw invalid(path, `has a "__proto__" key`);
        checkJson(`${path}.${key}`, (value as Record<string, unknown>)[key], depth + 1);
      }
      return;
    }
    default:
      throw invalid(path, `is a ${typeof value}, which is not a JSON value`);
  }
}

function invalid(path: string, problem: string): SessionError {
  return new SessionError("VALUE_INVALID", `session value ${path} ${problem}`);
}

/** A JSON string with nothing escaped in it: no `"`, `\` or control character between its quotes. */
// eslint-disable-next-line no-control-regex -- the raw control characters a JSON string may not hold
const PLAIN_STRING = /^"[^"\\\u0000-\u001f]*"$/;
/**
 * Up to this length a plain string is read by `PLAIN_STRING` faster than by JSON.parse (3 to 4
 * times for the short values most sessions hold); beyond it the parser's own scan is as fast or faster.
 */
const PLAIN_STRING_MAX = 256;

/** Parses stored JSON text; "__proto__" keys are dropped so nothing read can pollute a prototype. Undefined when not JSON. */
export function parseValue(text: string): unknown {
  // Most stored values are short strings (names, roles, ids): their characters between the quotes,
  // which is what JSON.parse answers, without the parser.
  if (text.length <= PLAIN_STRING_MAX && PLAIN_STRING.test(text)) return text.slice(1, -1);
  try {
    // A reviver makes JSON.parse several times slower: use it only when a "__proto__" key can be
    // there, spelled out or with escapes (JSON.stringify escapes only control characters and lone surrogates).
    const value: unknown = text.includes("__proto__") || text.includes("\\u")
      ? JSON.parse(text, (key, item: unknown) => (key === "__proto__" ? undefined : item))
      : JSON.parse(text);
    return deepFreeze(value);
  } catch {
    return undefined;
  }
}

/**
 * The values parsed from a frozen `fields` object, by field name. A driver may hand out the same
 * frozen record for repeated loads of one stored state (the near cache does): each of its values
 * is then parsed once, not on every request. Parsed values are deep-frozen, so sharing them is safe.
 */
const sharedValues = new WeakMap<Readonly<Record<string, string>>, Map<string, unknown>>();

/** The values parsed so far from the frozen `fields` (made on first use): shared by every request that loaded that very object. */
export function sharedValuesOf(fields: Readonly<Record<string, string>>): Map<string, unknown> {
  let values = sharedValues.get(fields);
  if (values === undefined) {
    values = new Map();
    sharedValues.set(fields, values);
  }
  return values;
}

/** `parseValue(text)` of the field `name`, reusing the value parsed earlier when `fields` is frozen and holds that very text. */
export function parseFieldValue(fields: Readonly<Record<string, string>> | undefined, name: string, text: string): unknown {
  if (fields === undefined || !Object.isFrozen(fields) || fields[name] !== text) return parseValue(text);
  const values = sharedValuesOf(fields);
  let value = values.get(name); // never undefined when present: undefined is not kept
  if (value !== undefined) return value;
  value = parseValue(text);
  if (value !== undefined) values.set(name, value);
  return value;
}

function deepFreeze<V>(value: V): V {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

import { describe, expect, it } from "vitest";
import { SessionError } from "../src/index.js";
import { checkFieldName, createLimits, parseFieldValue, parseValue, serializeValue } from "../src/values.js";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof SessionError ? error.code : "not a SessionError";
  }
  return undefined;
}

describe("checkFieldName", () => {
  it.each(["__proto__", "constructor", "prototype", "", "$c", "x".repeat(129)])("rejects %j", (name) => {
    expect(codeOf(() => checkFieldName(name))).toBe("VALUE_INVALID");
  });

  it("accepts ordinary names", () => {
    expect(codeOf(() => checkFieldName("cart:sku-1"))).toBeUndefined();
  });
});

describe("serializeValue", () => {
  it.each([
    ["undefined", undefined],
    ["a function", () => 1],
    ["a symbol", Symbol("x")],
    ["a bigint", 1n],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a Date", new Date()],
    ["a Map", new Map()],
    ["a nested undefined", { a: [1, undefined] }],
    ["a __proto__ key", JSON.parse('{"a":{"__proto__":{"polluted":true}}}') as unknown],
  ])("rejects %s with VALUE_INVALID", (_label, value) => {
    expect(codeOf(() => serializeValue("field", value))).toBe("VALUE_INVALID");
  });

  it("rejects values nested deeper than 64 levels", () => {
    let value: unknown = 1;
    for (let i = 0; i < 70; i++) value = [value];
    expect(codeOf(() => serializeValue("field", value))).toBe("VALUE_INVALID");
  });

  it("serializes JSON values to their JSON text", () => {
    const value = { a: [1, "two", null, true], b: { c: 1.5 }, d: Object.create(null) as object };
    expect(serializeValue("field", value)).toBe(JSON.stringify(value));
  });
});

describe("parseValue", () => {
  it("drops __proto__ keys so a stored value cannot pollute prototypes", () => {
    const value = parseValue('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const merged = Object.assign({}, value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((merged as Record<string, unknown>).polluted).toBeUndefined();
    expect(value.a).toBe(1);
  });

  it("drops a __proto__ key spelled with escapes", () => {
    const value = parseValue('{"a":{"\\u005f_proto__":{"polluted":true}},"\\u005f\\u005fproto\\u005f\\u005f":{"x":1}}') as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(value.a)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["a"]);
    expect(Object.assign({}, value.a).polluted).toBeUndefined();
  });

  it("returns undefined for text that is not JSON", () => {
    expect(parseValue('{"a":')).toBeUndefined();
  });

  it("reads a stored string exactly as JSON.parse does, escapes, quotes, control characters and lone surrogates included", () => {
    const reference = (text: string): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    };
    // Every text of 0 to 3 characters from pieces that change how a JSON string reads, between
    // quotes or not, and with a quote or a space around it.
    const pieces = ['"', "\\", "a", "\u0000", "\u001f", " ", "\t", "\n", "u", "0", "é", "\ud800", "\udc00", "😀", "\\u0041", "\\n"];
    const texts: string[] = [];
    const grow = (inner: string, depth: number): void => {
      texts.push(inner, `"${inner}"`, `"${inner}`, `${inner}"`, ` "${inner}"`, `"${inner}" `);
      if (depth === 3) return;
      for (const piece of pieces) grow(inner + piece, depth + 1);
    };
    grow("", 0);
    expect(texts.length).toBeGreaterThan(20_000);
    let strings = 0;
    for (const text of texts) {
      const expected = reference(text);
      expect(parseValue(text), JSON.stringify(text)).toEqual(expected);
      if (typeof expected === "string") strings++;
    }
    expect(strings).toBeGreaterThan(1_000);
    // Short and long: a long text goes to the parser, whose own scan is faster there.
    const long = ["x".repeat(254), "x".repeat(255), "x".repeat(300), `${"y".repeat(300)}"`, `${"z".repeat(300)}\u0001`];
    for (const value of ["user000001", "", "a\"b", "back\\slash", "line\nbreak", "\u0000", "caf\u00e9 😀", "\ud800", ...long]) {
      expect(parseValue(JSON.stringify(value))).toBe(value);
    }
  });

  it("returns deeply frozen values", () => {
    const value = parseValue('{"a":{"b":[1]}}') as { a: { b: number[] } };
    expect(Object.isFrozen(value.a.b)).toBe(true);
  });
});

describe("parseFieldValue", () => {
  it("parses a value of a frozen fields object once", () => {
    const fields = Object.freeze({ prefs: '{"theme":"dark"}' });
    const value = parseFieldValue(fields, "prefs", fields.prefs);
    expect(value).toEqual({ theme: "dark" });
    expect(parseFieldValue(fields, "prefs", fields.prefs)).toBe(value);
  });

  it("parses anew when the fields object is not frozen, or holds another text", () => {
    const open = { prefs: '{"theme":"dark"}' };
    expect(parseFieldValue(open, "prefs", open.prefs)).not.toBe(parseFieldValue(open, "prefs", open.prefs));
    const fields = Object.freeze({ prefs: '{"theme":"dark"}' });
    const stored = parseFieldValue(fields, "prefs", fields.prefs);
    expect(parseFieldValue(fields, "prefs", '{"theme":"light"}')).toEqual({ theme: "light" });
    expect(parseFieldValue(fields, "prefs", fields.prefs)).toBe(stored);
    expect(parseFieldValue(fields, "constructor", "1")).toBe(1);
    expect(parseFieldValue(undefined, "prefs", "2")).toBe(2);
  });

  it("answers undefined for text that is not JSON, every time", () => {
    const fields = Object.freeze({ note: "{not json" });
    expect(parseFieldValue(fields, "note", fields.note)).toBeUndefined();
    expect(parseFieldValue(fields, "note", fields.note)).toBeUndefined();
  });
});

describe("createLimits", () => {
  it("defaults to 65,536 characters and 128 fields", () => {
    expect(createLimits()).toEqual({ maxBytes: 65_536, maxFields: 128 });
  });

  it.each([
    ["limits.maxBytes", { maxBytes: 0 }],
    ["limits.maxFields", { maxFields: -1 }],
    ["limits.maxFields", { maxFields: 1.5 }],
  ])("throws CONFIG_INVALID naming %s", (option, options) => {
    expect(() => createLimits(options)).toThrow(`"${option}"`);
  });
});

import { describe, expect, it } from "vitest";
import { type SuiteContext, newChange, stored } from "./context.js";

/** A JSON string value of exactly `bytes` UTF-8 bytes, with varied content. */
function bigJsonString(bytes: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_";
  let body = "";
  for (let index = 0; body.length < bytes - 2; index += 1) body += alphabet[(index * 7 + (index >> 5)) % alphabet.length];
  return `"${body}"`;
}

export function limitTests(context: SuiteContext): void {
  const { harness } = context;

  describe("load", () => {
    it("returns a 256 KiB field value exactly", async () => {
      const driver = context.driver();
      const big = bigJsonString(256 * 1024);
      expect(Buffer.byteLength(big)).toBe(256 * 1024);
      const id = await stored(context, { fields: { big, small: "1" } });
      expect((await driver.load(id))?.fields).toEqual({ big, small: "1" });
      const bigger = bigJsonString(256 * 1024 - 1);
      await driver.update(id, newChange(harness, { set: { big: bigger } }));
      expect((await driver.load(id))?.fields["big"]).toBe(bigger);
    });

    it("returns 1,000 fields exactly", async () => {
      const driver = context.driver();
      const fields: Record<string, string> = {};
      for (let index = 0; index < 1000; index += 1) fields[`field_${index}`] = JSON.stringify({ index });
      const id = await stored(context, { fields });
      expect((await driver.load(id))?.fields).toEqual(fields);
    });

    it("returns unicode and emoji field names and values exactly", async () => {
      const driver = context.driver();
      const fields = {
        "名前": '"山田太郎"',
        "emoji😀": '"🎉🚀 ñ ü ß"',
        "ключ": '"значение"',
        "flag🇫🇷family👨‍👩‍👧": '["👍🏽", "\\u00e9", "é"]',
        "a b\tc": '"tab\\tand newline\\n"',
      };
      const id = await stored(context, { fields });
      await driver.update(id, newChange(harness, { set: { "ヽ(•‿•)ノ": '"≠ ∞ ∑"' } }));
      expect((await driver.load(id))?.fields).toEqual({ ...fields, "ヽ(•‿•)ノ": '"≠ ∞ ∑"' });
    });

    it("returns JSON text byte for byte, never re-serialised", async () => {
      const driver = context.driver();
      const fields = {
        spaced: '{ "b" : 1 ,\n  "a" : [ 1, 2 ] }',
        ordered: '{"z":1,"a":2}',
        number: "1.50",
        exponent: "1e3",
        escaped: '"\\u00e9\\/"',
        padded: " 42 ",
        nothing: "null",
        empty: '""',
      };
      const id = await stored(context, { fields });
      const loaded = await driver.load(id);
      expect(loaded?.fields).toEqual(fields);
      for (const [name, text] of Object.entries(fields)) {
        expect(Buffer.from(loaded?.fields[name] ?? "").equals(Buffer.from(text))).toBe(true);
      }
    });
  });
}

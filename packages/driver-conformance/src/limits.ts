import { describe, expect, it } from "vitest";
import { type SuiteContext, expectSessionError, newChange, newRotation, rotationTargetOf, stored } from "./context.js";

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

  describe("update with limits", () => {
    /** `count` fields named `<prefix><n>` holding `text`. */
    const fieldsOf = (prefix: string, count: number, text = "1"): Record<string, string> =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, text]));

    it("refuses a write beyond maxFields with PAYLOAD_TOO_LARGE and writes nothing", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: fieldsOf("a", 3) });
      const limits = { maxFields: 4, maxBytes: 65_536 };
      await expectSessionError(driver.update(id, newChange(harness, { set: fieldsOf("b", 2), limits })), "PAYLOAD_TOO_LARGE");
      await expectSessionError(driver.update(id, newChange(harness, { increment: { c: 1, d: 1 }, limits })), "PAYLOAD_TOO_LARGE");
      expect((await driver.load(id))?.fields).toEqual(fieldsOf("a", 3));
      expect((await driver.update(id, newChange(harness, { set: { a0: "2", b0: "1" }, limits })))?.counters).toEqual({});
      expect(Object.keys((await driver.load(id))?.fields ?? {})).toHaveLength(4);
    });

    it("refuses a write beyond maxBytes, counting field names and values in UTF-8 bytes", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { name: '"ab"' } }); // 4 + 4 bytes
      const limits = { maxFields: 128, maxBytes: 16 };
      // "é" is 2 bytes: 4 + 4 + 2 + 6 = 16 fits, one more byte does not.
      expect((await driver.update(id, newChange(harness, { set: { "é": '"éé"' }, limits })))?.counters).toEqual({});
      await expectSessionError(driver.update(id, newChange(harness, { set: { n: "1" }, limits })), "PAYLOAD_TOO_LARGE");
      await expectSessionError(driver.update(id, newChange(harness, { set: { name: '"abc"' }, limits })), "PAYLOAD_TOO_LARGE");
      expect((await driver.load(id))?.fields).toEqual({ name: '"ab"', "é": '"éé"' });
      // An increment that adds a digit counts too.
      const counter = await stored(context, { fields: { n: "9" } });
      await expectSessionError(driver.update(counter, newChange(harness, { increment: { n: 1 }, limits: { maxFields: 128, maxBytes: 2 } })), "PAYLOAD_TOO_LARGE");
      expect((await driver.load(counter))?.fields).toEqual({ n: "9" });
    });

    it("lets a write that does not grow a session over its limits go through", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { ...fieldsOf("a", 5), big: '"0123456789"' } });
      const limits = { maxFields: 2, maxBytes: 10 };
      expect((await driver.update(id, newChange(harness, { remove: ["a0", "a1"], set: { big: '"0"' }, limits })))?.counters).toEqual({});
      expect((await driver.load(id))?.fields).toEqual({ ...fieldsOf("a", 5), big: '"0"', a0: undefined, a1: undefined });
    });

    it("never leaves more than maxFields or maxBytes after 16 parallel writes that each add fields", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { username: '"ada"' } });
      const maxFields = 32;
      const settled = await Promise.allSettled(
        Array.from({ length: 16 }, (_, writer) =>
          driver.update(id, newChange(harness, { set: fieldsOf(`w${writer}_`, 10), limits: { maxFields, maxBytes: 65_536 } })),
        ),
      );
      const fields = (await driver.load(id))?.fields ?? {};
      expect(Object.keys(fields)).toHaveLength(31); // 1 + 3 writers of 10
      expect(settled.filter((result) => result.status === "fulfilled")).toHaveLength(3);
      for (const result of settled) {
        if (result.status === "rejected") expect(result.reason).toMatchObject({ name: "SessionError", code: "PAYLOAD_TOO_LARGE" });
      }

      const sized = await stored(context, { fields: {} });
      const maxBytes = 1000;
      const value = `"${"x".repeat(98)}"`; // field "f<writer>" (2 or 3 bytes) + 100 bytes
      const bytes = await Promise.allSettled(
        Array.from({ length: 16 }, (_, writer) =>
          driver.update(sized, newChange(harness, { set: { [`f${writer}`]: value }, limits: { maxFields: 128, maxBytes } })),
        ),
      );
      const stored_ = (await driver.load(sized))?.fields ?? {};
      const total = Object.entries(stored_).reduce((sum, [name, text]) => sum + Buffer.byteLength(name) + Buffer.byteLength(text), 0);
      expect(total).toBeLessThanOrEqual(maxBytes);
      expect(bytes.filter((result) => result.status === "fulfilled")).toHaveLength(Object.keys(stored_).length);
      expect(Object.keys(stored_).length).toBeGreaterThanOrEqual(9);
    });
  });

  describe("rotate with limits", () => {
    it("refuses a rotation beyond maxFields with PAYLOAD_TOO_LARGE and keeps the session where it was", async () => {
      const driver = context.driver();
      const fromId = await stored(context, { fields: { a: "1", b: "2" } });
      const toId = rotationTargetOf(fromId);
      const limits = { maxFields: 2, maxBytes: 65_536 };
      await expectSessionError(driver.rotate(fromId, toId, newRotation(harness, { set: { c: "3" }, limits })), "PAYLOAD_TOO_LARGE");
      expect((await driver.load(fromId))?.fields).toEqual({ a: "1", b: "2" });
      expect(await driver.load(toId)).toBeNull();
      // Without the data, the new session starts empty: within the limit.
      expect((await driver.rotate(fromId, toId, newRotation(harness, { keepData: false, set: { c: "3" }, limits })))?.counters).toEqual({});
      expect((await driver.load(toId))?.fields).toEqual({ c: "3" });
    });
  });
}

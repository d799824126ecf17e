import { describe, expect, it } from "vitest";
import { type SuiteContext, expectSessionError, newChange, stored } from "./context.js";

export function incrementTests(context: SuiteContext): void {
  const { harness } = context;

  describe("update", () => {
    describe("when the change increments fields", () => {
      it("counts a missing field as 0 and resolves the new values", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { views: "41" } });
        const counters = (await driver.update(id, newChange(harness, { increment: { views: 1, fresh: 5 } })))?.counters;
        expect(counters).toEqual({ views: 42, fresh: 5 });
        expect((await driver.load(id))?.fields).toEqual({ views: "42", fresh: "5" });
      });

      it("applies negative deltas", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { credits: "3" } });
        expect((await driver.update(id, newChange(harness, { increment: { credits: -5, debt: -2 } })))?.counters).toEqual({
          credits: -2,
          debt: -2,
        });
        expect((await driver.load(id))?.fields).toEqual({ credits: "-2", debt: "-2" });
      });

      it("counts down to the safe integer bound, at or below -10^15 as well", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { low: "-1000000000000000", lower: "-9007199254740990" } });
        expect((await driver.update(id, newChange(harness, { increment: { low: -1, lower: -1 } })))?.counters).toEqual({
          low: -1000000000000001,
          lower: -9007199254740991,
        });
        expect((await driver.update(id, newChange(harness, { increment: { low: 1 } })))?.counters).toEqual({ low: -1000000000000000 });
        await expectSessionError(driver.update(id, newChange(harness, { increment: { lower: -1 } })), "VALUE_INVALID");
        expect((await driver.load(id))?.fields).toEqual({ low: "-1000000000000000", lower: "-9007199254740991" });
      });

      it("applies the other parts of the same change", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { n: "1", gone: "true" } });
        expect((await driver.update(id, newChange(harness, { set: { label: '"x"' }, remove: ["gone"], increment: { n: 2 } })))?.counters).toEqual({ n: 3 });
        expect((await driver.load(id))?.fields).toEqual({ n: "3", label: '"x"' });
      });
    });

    describe("when 1,000 increments of one field run at once", () => {
      it("ends at exactly 1000 and hands out every value once", async () => {
        const driver = context.driver();
        const id = await stored(context);
        const results = await Promise.all(
          Array.from({ length: 1000 }, () => driver.update(id, newChange(harness, { increment: { hits: 1 } }))),
        );
        const seen = results.map((result) => result?.counters["hits"]).sort((left, right) => (left ?? 0) - (right ?? 0));
        expect(seen).toEqual(Array.from({ length: 1000 }, (_, index) => index + 1));
        expect((await driver.load(id))?.fields["hits"]).toBe("1000");
      });
    });

    describe("when the incremented field does not hold an integer", () => {
      for (const [label, text] of [
        ["a JSON string", '"seven"'],
        ["a fraction", "1.5"],
        ["an object", '{"n":1}'],
        ["text that is not JSON", "seven"],
      ] as const) {
        it(`rejects with VALUE_INVALID and applies none of the change (${label})`, async () => {
          const driver = context.driver();
          const now = harness.now();
          const id = await stored(context, { fields: { odd: text, ok: "1", doomed: "true" }, lastSeenAt: now });
          const before = await driver.load(id);
          await expectSessionError(
            driver.update(
              id,
              newChange(harness, {
                set: { written: '"no"' },
                remove: ["doomed"],
                increment: { ok: 1, odd: 1 },
                lastSeenAt: now + 1_000,
              }),
            ),
            "VALUE_INVALID",
          );
          expect(await driver.load(id)).toEqual(before);
        });
      }
    });
  });
}

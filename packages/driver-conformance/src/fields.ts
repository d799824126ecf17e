import { describe, expect, it } from "vitest";
import { MINUTE, type SuiteContext, newChange, newSessionId, stored } from "./context.js";

export function fieldTests(context: SuiteContext): void {
  const { harness } = context;

  describe("update", () => {
    it("sets and removes only the named fields and leaves the others untouched", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { keep: '"k"', replace: '"old"', drop: '"d"' } });
      const counters = (await driver.update(id, newChange(harness, { set: { replace: '"new"', add: "[1]" }, remove: ["drop"] })))?.counters;
      expect(counters).toEqual({});
      expect((await driver.load(id))?.fields).toEqual({ keep: '"k"', replace: '"new"', add: "[1]" });
    });

    it("writes the new lastSeenAt and expiresAt and keeps createdAt and absoluteExpiresAt", async () => {
      const driver = context.driver();
      const now = harness.now();
      const id = await stored(context, { createdAt: now - 10, lastSeenAt: now - 10, absoluteExpiresAt: now + 5 * MINUTE });
      await driver.update(id, newChange(harness, { lastSeenAt: now + 7, expiresAt: now + 3 * MINUTE }));
      expect(await driver.load(id)).toMatchObject({
        createdAt: now - 10,
        lastSeenAt: now + 7,
        expiresAt: now + 3 * MINUTE,
        absoluteExpiresAt: now + 5 * MINUTE,
      });
    });

    it("replaces absoluteExpiresAt when the change carries one", async () => {
      const driver = context.driver();
      const now = harness.now();
      const id = await stored(context, { absoluteExpiresAt: now + 5 * MINUTE });
      await driver.update(id, newChange(harness, { absoluteExpiresAt: now + 9 * MINUTE }));
      expect((await driver.load(id))?.absoluteExpiresAt).toBe(now + 9 * MINUTE);
    });

    it("ignores the removal of a field that does not exist", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { a: "1" } });
      expect((await driver.update(id, newChange(harness, { remove: ["missing"] })))?.counters).toEqual({});
      expect((await driver.load(id))?.fields).toEqual({ a: "1" });
    });

    describe("when 100 writers each set a distinct field at once", () => {
      it("keeps all 100 fields", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { base: "0" } });
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            driver.update(id, newChange(harness, { set: { [`writer${index}`]: String(index) } })),
          ),
        );
        expect(results.every((result) => result !== null)).toBe(true);
        const expected: Record<string, string> = { base: "0" };
        for (let index = 0; index < 100; index += 1) expected[`writer${index}`] = String(index);
        expect((await driver.load(id))?.fields).toEqual(expected);
      });
    });

    describe("when no session exists under the id", () => {
      it("resolves null and creates nothing", async () => {
        const driver = context.driver();
        const id = newSessionId();
        expect(await driver.update(id, newChange(harness, { set: { a: "1" }, increment: { n: 1 } }))).toBeNull();
        expect(await driver.load(id)).toBeNull();
      });
    });

    describe("when the session was destroyed", () => {
      it("resolves null and does not bring it back", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { a: "1" } });
        await driver.destroy(id);
        expect(await driver.update(id, newChange(harness, { set: { b: "2" } }))).toBeNull();
        expect(await driver.load(id)).toBeNull();
      });
    });
  });
}

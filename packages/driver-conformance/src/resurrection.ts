import { describe, expect, it } from "vitest";
import { type SuiteContext, inBatches, newChange, newRotation, rotationTargetOf, stored } from "./context.js";

const RACES = 1000;
const RACES_AT_ONCE = 50;

export function resurrectionTests(context: SuiteContext): void {
  const { harness } = context;

  describe("update", () => {
    describe("when it races destroy", () => {
      it(`revives none of ${RACES} sessions`, async () => {
        const driver = context.driver();
        let revived = 0;
        let destroyed = 0;
        await inBatches(RACES, RACES_AT_ONCE, async (index) => {
          const id = await stored(context, { fields: { race: String(index) } });
          const write = (): Promise<unknown> => driver.update(id, newChange(harness, { set: { late: '"write"' }, increment: { n: 1 } }));
          const end = async (): Promise<unknown> => {
            if (await driver.destroy(id)) destroyed += 1;
            return undefined;
          };
          // Started together, in random order.
          const racers = Math.random() < 0.5 ? [write, end] : [end, write];
          await Promise.all(racers.map((start) => start()));
          if ((await driver.load(id)) !== null) revived += 1;
        });
        expect(revived).toBe(0);
        expect(destroyed).toBe(RACES);
      });
    });

    describe("when the session was rotated away", () => {
      it("resolves null on the old id, which never loads again", async () => {
        const driver = context.driver();
        const fromId = await stored(context, { fields: { a: "1" } });
        const toId = rotationTargetOf(fromId);
        expect(await driver.rotate(fromId, toId, newRotation(harness))).not.toBeNull();
        expect(await driver.update(fromId, newChange(harness, { set: { b: "2" }, increment: { n: 1 } }))).toBeNull();
        expect(await driver.load(fromId)).toBeNull();
        expect(await driver.update(fromId, newChange(harness, { set: { c: "3" } }))).toBeNull();
        expect(await driver.load(fromId)).toBeNull();
        expect((await driver.load(toId))?.fields).toEqual({ a: "1" });
      });
    });
  });
}

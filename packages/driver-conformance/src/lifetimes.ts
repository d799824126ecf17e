import { describe, expect, it } from "vitest";
import { HOUR, MINUTE, type SuiteContext, newChange, newRotation, newUserId, rotationTargetOf, stored } from "./context.js";

const DAY = 24 * HOUR;
/** How far a store's TTL may be from the expected one (the read happens a little later than `now()`). */
const TTL_TOLERANCE = 250;

/** Per-session lifetimes ("remember me"): the session's own idle timeout is stored, returned and kept. */
export function lifetimeTests(context: SuiteContext): void {
  const { harness } = context;

  describe("create", () => {
    it("stores the session's own idle timeout; load and the user listing return it", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const id = await stored(context, {
        expiresAt: now + 7 * DAY,
        absoluteExpiresAt: now + 30 * DAY,
        idleTimeout: 7 * DAY,
        user: { userId },
      });
      expect(await driver.load(id)).toMatchObject({ idleTimeout: 7 * DAY, expiresAt: now + 7 * DAY, absoluteExpiresAt: now + 30 * DAY });
      expect((await driver.listUserSessions(userId)).map((meta) => meta.idleTimeout)).toEqual([7 * DAY]);
    });

    it("gives the store the session's long expiry as its TTL", async () => {
      if (harness.remainingTtl === undefined) return;
      const now = harness.now();
      const id = await stored(context, { expiresAt: now + 7 * DAY, absoluteExpiresAt: now + 30 * DAY, idleTimeout: 7 * DAY });
      const ttl = await harness.remainingTtl(context.driver(), id);
      expect(ttl).toBeGreaterThan(7 * DAY - TTL_TOLERANCE);
      expect(ttl).toBeLessThanOrEqual(7 * DAY);
    });

    it("stores none when the session follows the manager's idle timeout", async () => {
      const id = await stored(context, { idleTimeout: null });
      expect((await context.driver().load(id))?.idleTimeout).toBeNull();
    });
  });

  describe("update", () => {
    it("sets the idle timeout, keeps it when the change leaves it out, and clears it with null", async () => {
      const driver = context.driver();
      const id = await stored(context);
      await driver.update(id, newChange(harness, { idleTimeout: 14 * DAY }));
      expect((await driver.load(id))?.idleTimeout).toBe(14 * DAY);
      await driver.update(id, newChange(harness, { set: { a: "1" } }));
      expect((await driver.load(id))?.idleTimeout).toBe(14 * DAY);
      await driver.update(id, newChange(harness, { idleTimeout: null }));
      expect((await driver.load(id))?.idleTimeout).toBeNull();
    });
  });

  describe("rotate", () => {
    it("keeps the idle timeout with the data and without it", async () => {
      const driver = context.driver();
      for (const keepData of [true, false]) {
        const fromId = await stored(context, { idleTimeout: 3 * DAY, fields: { a: "1" } });
        const toId = rotationTargetOf(fromId);
        expect(await driver.rotate(fromId, toId, newRotation(harness, { keepData }))).toMatchObject({ idleTimeout: 3 * DAY });
        expect((await driver.load(toId))?.idleTimeout).toBe(3 * DAY);
      }
    });

    it("sets a new idle timeout and absolute deadline (a login with remember-me)", async () => {
      const driver = context.driver();
      const now = harness.now();
      const fromId = await stored(context, { fields: { cart: "1" } });
      const toId = rotationTargetOf(fromId);
      const rotation = newRotation(harness, {
        expiresAt: now + 30 * DAY,
        absoluteExpiresAt: now + 90 * DAY,
        idleTimeout: 30 * DAY,
        user: { userId: newUserId() },
      });
      await driver.rotate(fromId, toId, rotation);
      expect(await driver.load(toId)).toMatchObject({
        fields: { cart: "1" },
        expiresAt: now + 30 * DAY,
        absoluteExpiresAt: now + 90 * DAY,
        idleTimeout: 30 * DAY,
      });
    });

    it("replaces a longer expiry when the change carries a new lifetime (a login without remember-me)", async () => {
      const driver = context.driver();
      const now = harness.now();
      const fromId = await stored(context, { expiresAt: now + 30 * DAY, absoluteExpiresAt: now + 90 * DAY, idleTimeout: 30 * DAY });
      const toId = rotationTargetOf(fromId);
      const result = await driver.rotate(
        fromId,
        toId,
        newRotation(harness, { idleTimeout: null, expiresAt: now + 30 * MINUTE, absoluteExpiresAt: now + 12 * HOUR }),
      );
      expect(result).toMatchObject({ expiresAt: now + 30 * MINUTE, absoluteExpiresAt: now + 12 * HOUR, idleTimeout: null });
      expect(await driver.load(toId)).toMatchObject({ idleTimeout: null, absoluteExpiresAt: now + 12 * HOUR, expiresAt: now + 30 * MINUTE });
      if (harness.remainingTtl) expect(await harness.remainingTtl(driver, toId)).toBeLessThanOrEqual(30 * MINUTE);
    });

    it("without a new lifetime, still never moves the expiry earlier", async () => {
      const driver = context.driver();
      const now = harness.now();
      const fromId = await stored(context, { expiresAt: now + 7 * DAY, absoluteExpiresAt: now + 30 * DAY, idleTimeout: 7 * DAY });
      const toId = rotationTargetOf(fromId);
      expect(await driver.rotate(fromId, toId, newRotation(harness, { expiresAt: now + MINUTE }))).toMatchObject({ expiresAt: now + 7 * DAY });
    });
  });
}

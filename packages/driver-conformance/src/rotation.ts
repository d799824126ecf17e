import { describe, expect, it } from "vitest";
import { HOUR, MINUTE, type SuiteContext, newRotation, newSessionId, newUserId, rotationTargetOf, stored } from "./context.js";

export function rotationTests(context: SuiteContext): void {
  const { harness } = context;

  describe("rotate", () => {
    it("moves the data to the new id with the change applied, and resolves the counters", async () => {
      const driver = context.driver();
      const now = harness.now();
      const fromId = await stored(context, {
        fields: { name: '"Ada"', n: "1", gone: "true" },
        createdAt: now - 5_000,
        lastSeenAt: now - 5_000,
        absoluteExpiresAt: now + 8 * HOUR,
        userAgent: "agent",
        ip: "198.51.100.4",
      });
      const toId = rotationTargetOf(fromId);
      const counters = (await driver.rotate(
        fromId,
        toId,
        newRotation(harness, {
          set: { role: '"admin"' },
          remove: ["gone"],
          increment: { n: 2, logins: 1 },
          lastSeenAt: now,
          expiresAt: now + 20 * MINUTE,
        }),
      ))?.counters;
      expect(counters).toEqual({ n: 3, logins: 1 });
      expect(await driver.load(toId)).toEqual({
        id: toId,
        fields: { name: '"Ada"', n: "3", role: '"admin"', logins: "1" },
        createdAt: now - 5_000,
        lastSeenAt: now,
        expiresAt: now + 20 * MINUTE,
        absoluteExpiresAt: now + 8 * HOUR,
        idleTimeout: null,
        userId: null,
        userAgent: "agent",
        ip: "198.51.100.4",
      });
    });

    it("ends the old id in the same step", async () => {
      const driver = context.driver();
      const fromId = await stored(context, { fields: { a: "1" } });
      const toId = rotationTargetOf(fromId);
      expect((await driver.rotate(fromId, toId, newRotation(harness)))?.counters).toEqual({});
      expect(await driver.load(fromId)).toBeNull();
      expect(await driver.destroy(fromId)).toBe(false);
      expect((await driver.load(toId))?.fields).toEqual({ a: "1" });
    });

    it("replaces absoluteExpiresAt when the rotation carries one", async () => {
      const driver = context.driver();
      const now = harness.now();
      const fromId = await stored(context, { absoluteExpiresAt: now + HOUR });
      const toId = rotationTargetOf(fromId);
      await driver.rotate(fromId, toId, newRotation(harness, { absoluteExpiresAt: now + 2 * HOUR }));
      expect((await driver.load(toId))?.absoluteExpiresAt).toBe(now + 2 * HOUR);
    });

    describe("when keepData is false", () => {
      it("starts the new id with only the rotation's fields and keeps the metadata and user", async () => {
        const driver = context.driver();
        const now = harness.now();
        const userId = newUserId();
        const fromId = await stored(context, {
          fields: { secret: '"s"', n: "5" },
          createdAt: now - 1_000,
          absoluteExpiresAt: now + 3 * HOUR,
          user: { userId },
          userAgent: "agent",
          ip: "198.51.100.5",
        });
        const toId = rotationTargetOf(fromId);
        const counters = (await driver.rotate(
          fromId,
          toId,
          newRotation(harness, { keepData: false, set: { fresh: "true" }, increment: { n: 1 } }),
        ))?.counters;
        expect(counters).toEqual({ n: 1 });
        expect(await driver.load(toId)).toMatchObject({
          fields: { fresh: "true", n: "1" },
          createdAt: now - 1_000,
          absoluteExpiresAt: now + 3 * HOUR,
          userId,
          userAgent: "agent",
          ip: "198.51.100.5",
        });
        expect((await driver.load(toId))?.fields).toEqual({ fresh: "true", n: "1" });
        expect(await driver.load(fromId)).toBeNull();
      });
    });

    describe("when the new id is taken", () => {
      it("resolves null and changes neither session", async () => {
        const driver = context.driver();
        const fromId = await stored(context, { fields: { from: "1" } });
        const toId = await stored(context, { fields: { to: "1" } }, rotationTargetOf(fromId));
        const [fromBefore, toBefore] = [await driver.load(fromId), await driver.load(toId)];
        expect(await driver.rotate(fromId, toId, newRotation(harness, { set: { x: "1" }, increment: { n: 1 } }))).toBeNull();
        expect(await driver.load(fromId)).toEqual(fromBefore);
        expect(await driver.load(toId)).toEqual(toBefore);
      });
    });

    describe("when the old id holds no session", () => {
      it("resolves null and creates nothing", async () => {
        const driver = context.driver();
        const fromId = newSessionId();
        const toId = rotationTargetOf(fromId);
        expect(await driver.rotate(fromId, toId, newRotation(harness, { set: { x: "1" } }))).toBeNull();
        expect(await driver.load(toId)).toBeNull();
        expect(await driver.load(fromId)).toBeNull();
      });
    });

    describe("when the old id was destroyed", () => {
      it("resolves null and creates nothing", async () => {
        const driver = context.driver();
        const fromId = await stored(context, { fields: { a: "1" } });
        await driver.destroy(fromId);
        const toId = rotationTargetOf(fromId);
        expect(await driver.rotate(fromId, toId, newRotation(harness))).toBeNull();
        expect(await driver.load(toId)).toBeNull();
      });
    });

    describe("when the session is bound to a user", () => {
      it("moves the binding: the listing shows the new id, not the old", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const fromId = await stored(context, { user: { userId } });
        const toId = rotationTargetOf(fromId);
        await driver.rotate(fromId, toId, newRotation(harness));
        expect((await driver.listUserSessions(userId)).map((meta) => meta.id)).toEqual([toId]);
        expect((await driver.load(toId))?.userId).toBe(userId);
      });

      it("unbinds when the rotation says user: null", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const fromId = await stored(context, { user: { userId } });
        const toId = rotationTargetOf(fromId);
        await driver.rotate(fromId, toId, newRotation(harness, { user: null }));
        expect(await driver.listUserSessions(userId)).toEqual([]);
        expect((await driver.load(toId))?.userId).toBeNull();
      });
    });

    describe("when the rotation binds a user (a login)", () => {
      it("binds the new id and lists it", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const fromId = await stored(context, { fields: { cart: "[]" } });
        const toId = rotationTargetOf(fromId);
        await driver.rotate(fromId, toId, newRotation(harness, { user: { userId } }));
        expect((await driver.listUserSessions(userId)).map((meta) => meta.id)).toEqual([toId]);
        expect(await driver.load(toId)).toMatchObject({ userId, fields: { cart: "[]" } });
      });
    });
  });
}

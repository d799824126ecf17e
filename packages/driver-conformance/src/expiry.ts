import { describe, expect, it } from "vitest";
import {
  MINUTE,
  type SuiteContext,
  newChange,
  newRotation,
  newSession,
  newSessionId,
  newUserId,
  rotationTargetOf,
  stored,
} from "./context.js";

/** Short enough to keep each test well under 1.5 s against a real store. */
const SHORT = 300;
const PAST_SHORT = 400;
/** How far a store's TTL may be from the expected one (the read happens a little later than `now()`). */
const TTL_TOLERANCE = 250;

export function expiryTests(context: SuiteContext): void {
  const { harness } = context;
  const noTtl = harness.remainingTtl === undefined;

  async function ttlOf(id: string): Promise<number | null> {
    const probe = harness.remainingTtl;
    if (probe === undefined) throw new Error("the harness has no remainingTtl");
    return probe.call(harness, context.driver(), id);
  }

  describe("load", () => {
    describe("when expiresAt has passed", () => {
      it("resolves null", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { a: "1" }, expiresAt: harness.now() + SHORT });
        expect(await driver.load(id)).not.toBeNull();
        await harness.sleep(PAST_SHORT);
        expect(await driver.load(id)).toBeNull();
      });
    });
  });

  describe("create", () => {
    it.skipIf(noTtl)("gives the session a store TTL of expiresAt - now", async () => {
      const expiresAt = harness.now() + 10 * MINUTE;
      const id = await stored(context, { expiresAt });
      const ttl = await ttlOf(id);
      expect(ttl).not.toBeNull();
      expect(Math.abs((ttl ?? 0) - (expiresAt - harness.now()))).toBeLessThanOrEqual(TTL_TOLERANCE);
    });

    describe("when expiresAt is not in the future", () => {
      it("stores nothing", async () => {
        const driver = context.driver();
        const id = newSessionId();
        // Whatever create resolves, nothing may be loadable afterwards.
        await driver.create(id, newSession(harness, { fields: { a: "1" }, expiresAt: harness.now() - 1 }));
        expect(await driver.load(id)).toBeNull();
      });
    });
  });

  describe("update", () => {
    describe("when the session has expired", () => {
      it("resolves null and does not bring it back", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { a: "1" }, expiresAt: harness.now() + SHORT });
        await harness.sleep(PAST_SHORT);
        expect(await driver.update(id, newChange(harness, { set: { b: "2" }, increment: { n: 1 } }))).toBeNull();
        expect(await driver.load(id)).toBeNull();
      });
    });

    describe("when expiresAt is not in the future", () => {
      it("deletes the session", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const id = await stored(context, { fields: { a: "1" }, user: { userId } });
        const now = harness.now();
        await driver.update(id, newChange(harness, { set: { b: "2" }, expiresAt: now - 1 }));
        expect(await driver.load(id)).toBeNull();
        expect(await driver.listUserSessions(userId)).toEqual([]);
        expect(await driver.update(id, newChange(harness, { set: { c: "3" } }))).toBeNull();
        expect(await driver.load(id)).toBeNull();
      });
    });

    describe("when expiresAt moves", () => {
      it("keeps the session alive past its old expiry", async () => {
        const driver = context.driver();
        const id = await stored(context, { expiresAt: harness.now() + SHORT });
        expect(await driver.update(id, newChange(harness, { expiresAt: harness.now() + MINUTE }))).not.toBeNull();
        await harness.sleep(PAST_SHORT);
        expect(await driver.load(id)).not.toBeNull();
      });

      it("keeps the later expiry and last renewal when a write carries earlier ones", async () => {
        const driver = context.driver();
        const created = harness.now();
        const id = await stored(context, { lastSeenAt: created, expiresAt: created + MINUTE });
        const renewal = { expiresAt: harness.now() + 5 * MINUTE, lastSeenAt: harness.now() + 10 };
        expect(await driver.update(id, newChange(harness, renewal))).not.toBeNull();
        // A slower request that loaded the session before the renewal commits the old times.
        const late = { set: { late: "1" }, expiresAt: created + MINUTE, lastSeenAt: created };
        expect(await driver.update(id, newChange(harness, late))).not.toBeNull();
        const record = await driver.load(id);
        expect(record?.fields.late).toBe("1");
        expect(record?.expiresAt).toBe(renewal.expiresAt);
        expect(record?.lastSeenAt).toBe(renewal.lastSeenAt);
        if (harness.remainingTtl) {
          const ttl = await harness.remainingTtl(driver, id);
          expect(Math.abs((ttl ?? 0) - (renewal.expiresAt - harness.now()))).toBeLessThanOrEqual(TTL_TOLERANCE);
        }
      });

      it("keeps the later expiry through a rotation", async () => {
        const driver = context.driver();
        const id = await stored(context, { expiresAt: harness.now() + 5 * MINUTE });
        const to = rotationTargetOf(id);
        const rotation = { ...newChange(harness, { expiresAt: harness.now() + MINUTE }), keepData: true };
        expect(await driver.rotate(id, to, rotation)).not.toBeNull();
        expect((await driver.load(to))?.expiresAt).toBeGreaterThan(harness.now() + 4 * MINUTE);
      });

      it.skipIf(noTtl)("sets the store TTL to the new expiresAt - now", async () => {
        const id = await stored(context, { expiresAt: harness.now() + MINUTE });
        const expiresAt = harness.now() + 5 * MINUTE;
        await context.driver().update(id, newChange(harness, { expiresAt }));
        const ttl = await ttlOf(id);
        expect(ttl).not.toBeNull();
        expect(Math.abs((ttl ?? 0) - (expiresAt - harness.now()))).toBeLessThanOrEqual(TTL_TOLERANCE);
      });
    });
  });

  describe("rotate", () => {
    describe("when the session has expired", () => {
      it("resolves null and creates nothing under the new id", async () => {
        const driver = context.driver();
        const fromId = await stored(context, { fields: { a: "1" }, expiresAt: harness.now() + SHORT });
        const toId = rotationTargetOf(fromId);
        await harness.sleep(PAST_SHORT);
        expect(await driver.rotate(fromId, toId, newRotation(harness))).toBeNull();
        expect(await driver.load(toId)).toBeNull();
        expect(await driver.load(fromId)).toBeNull();
      });
    });

    it.skipIf(noTtl)("gives the new id a store TTL of the rotation's expiresAt - now, and the old id none", async () => {
      const fromId = await stored(context);
      const toId = rotationTargetOf(fromId);
      const expiresAt = harness.now() + 7 * MINUTE;
      expect(await context.driver().rotate(fromId, toId, newRotation(harness, { expiresAt }))).not.toBeNull();
      const ttl = await ttlOf(toId);
      expect(ttl).not.toBeNull();
      expect(Math.abs((ttl ?? 0) - (expiresAt - harness.now()))).toBeLessThanOrEqual(TTL_TOLERANCE);
      expect(await ttlOf(fromId)).toBeNull();
    });
  });

  describe("destroy", () => {
    it.skipIf(noTtl)("leaves no key behind", async () => {
      const id = await stored(context);
      expect(await ttlOf(id)).not.toBeNull();
      await context.driver().destroy(id);
      expect(await ttlOf(id)).toBeNull();
    });
  });

  describe("listUserSessions", () => {
    describe("when a session has expired", () => {
      it("leaves it out", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const short = await stored(context, { user: { userId }, expiresAt: harness.now() + SHORT });
        const long = await stored(context, { user: { userId } });
        expect((await driver.listUserSessions(userId)).map((meta) => meta.id).sort()).toEqual([short, long].sort());
        await harness.sleep(PAST_SHORT);
        expect((await driver.listUserSessions(userId)).map((meta) => meta.id)).toEqual([long]);
      });
    });
  });

  describe("endUserSessions", () => {
    describe("when a session has expired", () => {
      it("does not count it", async () => {
        const driver = context.driver();
        const userId = newUserId();
        await stored(context, { user: { userId }, expiresAt: harness.now() + SHORT });
        const long = await stored(context, { user: { userId } });
        await harness.sleep(PAST_SHORT);
        expect(await driver.endUserSessions(userId)).toBe(1);
        expect(await driver.load(long)).toBeNull();
      });
    });
  });
}

import { describe, expect, it } from "vitest";
import { HOUR, MINUTE, type SuiteContext, liveIds, newChange, newRotation, newSession, newSessionId, newUserId, rotationTargetOf, stored } from "./context.js";

/** Writes resolve what the store kept; every call is judged by the `now` it carries; destroy by user. */
export function resultTests(context: SuiteContext): void {
  const { harness } = context;

  describe("create", () => {
    it("resolves the times it stored, no counters and no ended sessions", async () => {
      const now = harness.now();
      const session = newSession(harness, { lastSeenAt: now - 5, expiresAt: now + 10 * MINUTE, absoluteExpiresAt: now + 8 * HOUR, idleTimeout: 10 * MINUTE });
      expect(await context.driver().create(newSessionId(), session)).toEqual({
        expiresAt: now + 10 * MINUTE,
        lastSeenAt: now - 5,
        absoluteExpiresAt: now + 8 * HOUR,
        idleTimeout: 10 * MINUTE,
        counters: {},
        ended: [],
      });
    });

    it("resolves the ids of the user's oldest sessions it ended for maxSessions", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const oldest = await stored(context, { absoluteExpiresAt: now + HOUR, user: { userId } });
      const older = await stored(context, { absoluteExpiresAt: now + HOUR + 1, user: { userId } });
      const kept = await stored(context, { absoluteExpiresAt: now + HOUR + 2, user: { userId } });
      const id = newSessionId();
      const result = await driver.create(id, newSession(harness, { absoluteExpiresAt: now + HOUR + 3, user: { userId, maxSessions: 2 } }));
      expect(result?.ended).toEqual([oldest, older]);
      expect(await liveIds(driver, [oldest, older, kept, id])).toEqual([kept, id]);
    });
  });

  describe("update", () => {
    it("resolves the times the store kept: the later expiry and last renewal when the change carries earlier ones", async () => {
      const driver = context.driver();
      const now = harness.now();
      const id = await stored(context, { lastSeenAt: now, expiresAt: now + 20 * MINUTE, absoluteExpiresAt: now + HOUR });
      const result = await driver.update(id, newChange(harness, { lastSeenAt: now - 1_000, expiresAt: now + MINUTE, increment: { n: 2 } }));
      expect(result).toEqual({
        expiresAt: now + 20 * MINUTE,
        lastSeenAt: now,
        absoluteExpiresAt: now + HOUR,
        idleTimeout: null,
        counters: { n: 2 },
        ended: [],
      });
    });

    it("resolves the ids its binding ended for maxSessions", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const other = await stored(context, { absoluteExpiresAt: now + HOUR, user: { userId } });
      const id = await stored(context);
      const result = await driver.update(id, newChange(harness, { absoluteExpiresAt: now + 2 * HOUR, user: { userId, maxSessions: 1 } }));
      expect(result?.ended).toEqual([other]);
      expect(await driver.load(other)).toBeNull();
    });
  });

  describe("rotate", () => {
    it("resolves the times, counters and ended sessions of the new id", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const other = await stored(context, { absoluteExpiresAt: now + HOUR, user: { userId } });
      const fromId = await stored(context, { fields: { n: "1" }, lastSeenAt: now - 1_000, expiresAt: now + 5 * MINUTE });
      const toId = rotationTargetOf(fromId);
      const rotation = newRotation(harness, {
        lastSeenAt: now,
        expiresAt: now + 30 * MINUTE,
        absoluteExpiresAt: now + 2 * HOUR,
        increment: { n: 1 },
        user: { userId, maxSessions: 1 },
      });
      expect(await driver.rotate(fromId, toId, rotation)).toEqual({
        expiresAt: now + 30 * MINUTE,
        lastSeenAt: now,
        absoluteExpiresAt: now + 2 * HOUR,
        idleTimeout: null,
        counters: { n: 2 },
        ended: [other],
      });
    });
  });

  describe("when the change carries a stale loaded binding", () => {
    it("still binds the session to the new user, listed there and no longer under the old one", async () => {
      const driver = context.driver();
      const now = harness.now();
      const [alice, bob] = [newUserId(), newUserId()];
      const fromId = await stored(context, { absoluteExpiresAt: now + HOUR, user: { userId: alice } });
      const toId = rotationTargetOf(fromId);
      const login = newRotation(harness, {
        absoluteExpiresAt: now + 2 * HOUR,
        user: { userId: bob },
        loaded: { absoluteExpiresAt: now + HOUR - 1, userId: null }, // what an older request had loaded
      });
      expect(await driver.rotate(fromId, toId, login)).toMatchObject({ absoluteExpiresAt: now + 2 * HOUR });
      expect((await driver.listUserSessions(bob)).map((meta) => meta.id)).toEqual([toId]);
      expect(await driver.listUserSessions(alice)).toEqual([]);
    });

    it("resolves null for a session that is gone, whatever the caller loaded", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const id = newSessionId();
      const toId = rotationTargetOf(id);
      const login = newRotation(harness, { user: { userId }, loaded: { absoluteExpiresAt: now + HOUR, userId: null } });
      expect(await driver.rotate(id, toId, login)).toBeNull();
      expect(await driver.load(toId)).toBeNull();
      expect(await driver.listUserSessions(userId)).toEqual([]);
    });
  });

  describe("destroy with a user id", () => {
    it("deletes the session only when it is bound to that user", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const id = await stored(context, { user: { userId } });
      const anonymous = await stored(context);
      expect(await driver.destroy(id, { userId: newUserId() })).toBe(false);
      expect(await driver.destroy(anonymous, { userId })).toBe(false);
      expect(await liveIds(driver, [id, anonymous])).toEqual([id, anonymous]);
      expect(await driver.destroy(id, { userId })).toBe(true);
      expect(await driver.load(id)).toBeNull();
      expect(await driver.listUserSessions(userId)).toEqual([]);
    });
  });

  describe("when a call carries now", () => {
    it("judges expiry by it: a session past its expiry by that clock does not load, list or take writes", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const id = await stored(context, { fields: { a: "1" }, expiresAt: now + 10 * MINUTE, user: { userId } });
      const later = now + 10 * MINUTE + 1;
      expect(await driver.load(id, { now: later })).toBeNull();
      expect(await driver.listUserSessions(userId, { now: later })).toEqual([]);
      expect(await driver.update(id, newChange(harness, { now: later, set: { a: "2" }, expiresAt: later + HOUR }))).toBeNull();
      expect(await driver.rotate(id, rotationTargetOf(id), newRotation(harness, { now: later, expiresAt: later + HOUR }))).toBeNull();
    });

    it("writes by it: a change whose expiry is not after that now deletes the session", async () => {
      const driver = context.driver();
      const now = harness.now();
      const id = await stored(context, { expiresAt: now + 10 * MINUTE });
      expect(await driver.update(id, newChange(harness, { now: now + 5 * MINUTE, expiresAt: now + 4 * MINUTE }))).not.toBeNull();
      expect(await driver.load(id)).toBeNull();
    });
  });
}

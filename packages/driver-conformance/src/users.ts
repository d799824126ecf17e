import { describe, expect, it } from "vitest";
import { isSessionId, newToken, sessionIdOf } from "@sess/core";
import {
  HOUR,
  MINUTE,
  type SuiteContext,
  liveIds,
  metaOf,
  newChange,
  newRotation,
  newUserId,
  rotationTargetOf,
  stored,
} from "./context.js";

export function userTests(context: SuiteContext): void {
  const { harness } = context;

  async function listedIds(userId: string): Promise<string[]> {
    return (await context.driver().listUserSessions(userId)).map((meta) => meta.id);
  }

  describe("create", () => {
    describe("when the session is bound to a user", () => {
      it("lists the session with its metadata", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const now = harness.now();
        const id = await stored(context, {
          fields: { a: "1" },
          createdAt: now - 100,
          lastSeenAt: now - 50,
          expiresAt: now + MINUTE,
          absoluteExpiresAt: now + 2 * HOUR,
          user: { userId },
          userAgent: "agent/1.0",
          ip: "2001:db8::1",
        });
        const listing = await driver.listUserSessions(userId);
        expect(listing.map(metaOf)).toEqual([
          {
            id,
            createdAt: now - 100,
            lastSeenAt: now - 50,
            expiresAt: now + MINUTE,
            absoluteExpiresAt: now + 2 * HOUR,
            idleTimeout: null,
            userId,
            userAgent: "agent/1.0",
            ip: "2001:db8::1",
          },
        ]);
      });

      it("does not list it for another user", async () => {
        await stored(context, { user: { userId: newUserId() } });
        expect(await listedIds(newUserId())).toEqual([]);
      });
    });
  });

  describe("listUserSessions", () => {
    it("lists oldest first, by absolute deadline then by creation", async () => {
      const now = harness.now();
      const userId = newUserId();
      const newest = await stored(context, { user: { userId }, absoluteExpiresAt: now + 3 * HOUR, createdAt: now - 3 });
      const oldest = await stored(context, { user: { userId }, absoluteExpiresAt: now + HOUR, createdAt: now - 1 });
      const middleLater = await stored(context, { user: { userId }, absoluteExpiresAt: now + 2 * HOUR, createdAt: now - 1 });
      const middleEarlier = await stored(context, { user: { userId }, absoluteExpiresAt: now + 2 * HOUR, createdAt: now - 2 });
      expect(await listedIds(userId)).toEqual([oldest, middleEarlier, middleLater, newest]);
    });

    it("lists only session ids of the user's sessions", async () => {
      const userId = newUserId();
      const ids = [];
      for (let index = 0; index < 5; index += 1) ids.push(await stored(context, { user: { userId } }));
      await stored(context, { user: { userId: newUserId() } });
      await stored(context);
      const listed = await listedIds(userId);
      expect(listed).toHaveLength(5);
      for (const id of listed) {
        expect(isSessionId(id)).toBe(true);
        expect(ids).toContain(id);
      }
    });

    it("leaves out destroyed sessions", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const doomed = await stored(context, { user: { userId } });
      const kept = await stored(context, { user: { userId } });
      await driver.destroy(doomed);
      expect(await listedIds(userId)).toEqual([kept]);
    });

    it("resolves an empty list for an unknown user", async () => {
      expect(await context.driver().listUserSessions(newUserId())).toEqual([]);
    });
  });

  describe("update", () => {
    describe("when the change binds a user", () => {
      it("lists the session and loads it with the user", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const id = await stored(context);
        expect(await listedIds(userId)).toEqual([]);
        await driver.update(id, newChange(harness, { user: { userId } }));
        expect(await listedIds(userId)).toEqual([id]);
        expect((await driver.load(id))?.userId).toBe(userId);
      });
    });

    describe("when the change unbinds (user: null)", () => {
      it("removes the session from the listing and keeps the session", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const id = await stored(context, { fields: { a: "1" }, user: { userId } });
        await driver.update(id, newChange(harness, { user: null }));
        expect(await listedIds(userId)).toEqual([]);
        expect(await driver.load(id)).toMatchObject({ userId: null, fields: { a: "1" } });
        expect(await driver.endUserSessions(userId)).toBe(0);
        expect(await driver.load(id)).not.toBeNull();
      });
    });

    describe("when the change binds another user", () => {
      it("moves the session to that user's listing", async () => {
        const driver = context.driver();
        const first = newUserId();
        const second = newUserId();
        const id = await stored(context, { user: { userId: first } });
        await driver.update(id, newChange(harness, { user: { userId: second } }));
        expect(await listedIds(first)).toEqual([]);
        expect(await listedIds(second)).toEqual([id]);
        expect((await driver.load(id))?.userId).toBe(second);
        expect(await driver.endUserSessions(first)).toBe(0);
        expect(await driver.load(id)).not.toBeNull();
      });
    });

    describe("when the change leaves the user out", () => {
      it("keeps the binding", async () => {
        const driver = context.driver();
        const userId = newUserId();
        const id = await stored(context, { user: { userId } });
        await driver.update(id, newChange(harness, { set: { a: "1" } }));
        expect(await listedIds(userId)).toEqual([id]);
        expect((await driver.load(id))?.userId).toBe(userId);
      });
    });
  });

  describe("endUserSessions", () => {
    it("ends all of the user's sessions and resolves how many", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const ids = [];
      for (let index = 0; index < 4; index += 1) ids.push(await stored(context, { user: { userId } }));
      const bystander = await stored(context, { user: { userId: newUserId() } });
      expect(await driver.endUserSessions(userId)).toBe(4);
      expect(await liveIds(driver, ids)).toEqual([]);
      expect(await listedIds(userId)).toEqual([]);
      expect(await driver.load(bystander)).not.toBeNull();
      expect(await driver.endUserSessions(userId)).toBe(0);
    });

    it("ends all but exceptId", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const ids = [];
      for (let index = 0; index < 4; index += 1) ids.push(await stored(context, { user: { userId } }));
      const kept = ids[2] ?? "";
      expect(await driver.endUserSessions(userId, { exceptId: kept })).toBe(3);
      expect(await liveIds(driver, ids)).toEqual([kept]);
      expect(await listedIds(userId)).toEqual([kept]);
    });

    it("does not count destroyed sessions", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const doomed = await stored(context, { user: { userId } });
      await stored(context, { user: { userId } });
      await driver.destroy(doomed);
      expect(await driver.endUserSessions(userId)).toBe(1);
    });

    it("resolves 0 for an unknown user", async () => {
      expect(await context.driver().endUserSessions(newUserId())).toBe(0);
    });
  });

  describe("rotate with endOtherSessions (drivers with endsOtherSessions)", () => {
    it("ends every other session of the user in the write and answers their ids", async (test) => {
      const driver = context.driver();
      if (driver.endsOtherSessions !== true) test.skip();
      const userId = newUserId();
      const others = [];
      for (let index = 0; index < 3; index += 1) others.push(await stored(context, { user: { userId } }));
      const id = await stored(context, { user: { userId } });
      const bystander = await stored(context, { user: { userId: newUserId() } });
      const next = rotationTargetOf(id);
      const result = await driver.rotate(id, next, newRotation(harness, { endOtherSessions: true, loaded: { absoluteExpiresAt: (await driver.load(id))!.absoluteExpiresAt, userId } }));
      expect([...(result?.endedOthers ?? [])].sort()).toEqual([...others].sort());
      expect(result?.ended).toEqual([]);
      expect(await liveIds(driver, [...others, id, next, bystander])).toEqual([next, bystander]);
      expect(await listedIds(userId)).toEqual([next]);
      // A plain rotation ends nobody.
      const after = await stored(context, { user: { userId } });
      expect((await driver.rotate(next, rotationTargetOf(next), newRotation(harness)))?.endedOthers ?? []).toEqual([]);
      expect(await driver.load(after)).not.toBeNull();
    });
  });

  describe("when bindings carry maxSessions", () => {
    it("never leaves more than maxSessions live when 50 bindings race", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const tokens = Array.from({ length: 50 }, () => newToken());
      const ids = tokens.map((token) => sessionIdOf(token));
      const created = await Promise.all(
        ids.map((id, index) =>
          driver.create(id, {
            fields: { index: String(index) },
            createdAt: harness.now(),
            lastSeenAt: harness.now(),
            expiresAt: harness.now() + MINUTE,
            absoluteExpiresAt: harness.now() + HOUR + index,
            user: { userId, maxSessions: 3 },
            userAgent: null,
            ip: null,
          }),
        ),
      );
      expect(created.every((result) => result !== null)).toBe(true);
      const live = await liveIds(driver, ids);
      expect(live.length).toBeGreaterThan(0);
      expect(live.length).toBeLessThanOrEqual(3);
      const listed = await listedIds(userId);
      expect(listed.sort()).toEqual([...live].sort());
      // A listing shows public ids only: never a token.
      for (const id of listed) expect(tokens).not.toContain(id);
    });

    it("ends the oldest other sessions first when bindings come one by one", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const now = harness.now();
      const bound = (hours: number) => ({ user: { userId, maxSessions: 3 }, absoluteExpiresAt: now + hours * HOUR });
      const first = await stored(context, bound(1));
      const second = await stored(context, bound(2));
      const third = await stored(context, bound(3));
      expect(await listedIds(userId)).toEqual([first, second, third]);
      const fourth = await stored(context, bound(4));
      expect(await listedIds(userId)).toEqual([second, third, fourth]);
      expect(await driver.load(first)).toBeNull();
      // An existing session bound later, older than the others: it stays, the oldest others go.
      const late = await stored(context, { absoluteExpiresAt: now + HOUR / 2 });
      await driver.update(late, newChange(harness, { user: { userId, maxSessions: 2 } }));
      expect(await listedIds(userId)).toEqual([late, fourth]);
      expect(await liveIds(driver, [first, second, third, fourth, late])).toEqual([fourth, late]);
    });

    it("ends nobody and lists nothing new when a binding rotation fails", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const bound = await stored(context, { user: { userId, maxSessions: 1 } });
      const anonymous = await stored(context);
      const taken = await stored(context, {}, rotationTargetOf(anonymous));
      const login = newRotation(harness, { user: { userId, maxSessions: 1 }, absoluteExpiresAt: harness.now() + 2 * HOUR });
      expect(await driver.rotate(anonymous, taken, login)).toBeNull();
      expect(await liveIds(driver, [bound, anonymous, taken])).toEqual([bound, anonymous, taken]);
      expect(await listedIds(userId)).toEqual([bound]);
      expect((await driver.load(taken))?.userId).toBeNull();
      // The failed rotation left nothing behind that a later login would count or end.
      const next = rotationTargetOf(anonymous);
      expect((await driver.rotate(anonymous, next, login))?.counters).toEqual({});
      expect(await listedIds(userId)).toEqual([next]);
      expect(await liveIds(driver, [bound, taken, next])).toEqual([taken, next]);
    });

    it("does not count or end other users' sessions", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const other = newUserId();
      const others = [];
      for (let index = 0; index < 3; index += 1) others.push(await stored(context, { user: { userId: other } }));
      const mine = [];
      for (let index = 0; index < 3; index += 1) mine.push(await stored(context, { user: { userId, maxSessions: 2 } }));
      expect(await liveIds(driver, others)).toEqual(others);
      expect(await liveIds(driver, mine)).toHaveLength(2);
    });
  });
}

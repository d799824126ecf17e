import { describe, expect, it } from "vitest";
import { HOUR, MINUTE, type SuiteContext, newSession, newSessionId, newUserId, stored } from "./context.js";

export function crudTests(context: SuiteContext): void {
  const { harness } = context;

  describe("create", () => {
    it("stores a session that load returns exactly", async () => {
      const driver = context.driver();
      const id = newSessionId();
      const now = harness.now();
      const userId = newUserId();
      const session = newSession(harness, {
        fields: { name: '"Ada"', cart: '{"items":[1,2,3]}', visits: "3" },
        createdAt: now - 5_000,
        lastSeenAt: now - 1_000,
        expiresAt: now + 10 * MINUTE,
        absoluteExpiresAt: now + 8 * HOUR,
        user: { userId },
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) conformance",
        ip: "203.0.113.7",
      });
      expect(await driver.create(id, session)).not.toBeNull();
      expect(await driver.load(id)).toEqual({
        id,
        fields: { name: '"Ada"', cart: '{"items":[1,2,3]}', visits: "3" },
        createdAt: now - 5_000,
        lastSeenAt: now - 1_000,
        expiresAt: now + 10 * MINUTE,
        absoluteExpiresAt: now + 8 * HOUR,
        idleTimeout: null,
        userId,
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) conformance",
        ip: "203.0.113.7",
      });
    });

    it("stores a session with no fields, no user and no device metadata", async () => {
      const driver = context.driver();
      const session = newSession(harness);
      const id = await stored(context, session);
      expect(await driver.load(id)).toEqual({
        id,
        fields: {},
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
        absoluteExpiresAt: session.absoluteExpiresAt,
        idleTimeout: null,
        userId: null,
        userAgent: null,
        ip: null,
      });
    });

    describe("when the id is taken", () => {
      it("resolves false and changes nothing", async () => {
        const driver = context.driver();
        const id = await stored(context, { fields: { first: '"yes"' }, userAgent: "first", ip: "192.0.2.1" });
        const before = await driver.load(id);
        const later = harness.now() + 1;
        const second = newSession(harness, {
          fields: { second: '"yes"' },
          createdAt: later,
          lastSeenAt: later,
          expiresAt: later + 2 * MINUTE,
          userAgent: "second",
          ip: "192.0.2.2",
        });
        expect(await driver.create(id, second)).toBeNull();
        expect(await driver.load(id)).toEqual(before);
      });
    });
  });

  describe("load", () => {
    it("resolves null for an id never stored", async () => {
      expect(await context.driver().load(newSessionId())).toBeNull();
    });
  });

  describe("destroy", () => {
    it("resolves true, after which load resolves null", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { a: "1" } });
      expect(await driver.destroy(id)).toBe(true);
      expect(await driver.load(id)).toBeNull();
    });

    it("resolves false the second time", async () => {
      const driver = context.driver();
      const id = await stored(context);
      expect(await driver.destroy(id)).toBe(true);
      expect(await driver.destroy(id)).toBe(false);
    });

    it("resolves false for an id never stored", async () => {
      expect(await context.driver().destroy(newSessionId())).toBe(false);
    });

    it("leaves other sessions alone", async () => {
      const driver = context.driver();
      const doomed = await stored(context);
      const other = await stored(context, { fields: { keep: "true" } });
      expect(await driver.destroy(doomed)).toBe(true);
      expect((await driver.load(other))?.fields).toEqual({ keep: "true" });
    });
  });
}

import { describe, expect, it } from "vitest";
import { isSessionId } from "@sess/core";
import type { IndexSpec, SessionMeta } from "@sess/core";
import {
  MINUTE,
  type SuiteContext,
  inBatches,
  metaOf,
  newChange,
  newRotation,
  newUserId,
  rotationTargetOf,
  stored,
} from "./context.js";

/** The indexes every write of this group carries, as a manager declaring them would pass them. */
const INDEXES: readonly IndexSpec[] = [
  { name: "tenant", field: "tenant" },
  { name: "plan", field: "plan" },
  { name: "cart", fieldPrefix: "cart:" },
];
const indexes = INDEXES;

/** JSON text of a value, as a `field` index lists it. */
const json = (value: unknown): string => JSON.stringify(value);

export function queryTests(context: SuiteContext): void {
  const { harness } = context;

  async function counts(pairs: Array<[string, string]>): Promise<number[]> {
    return Promise.all(pairs.map(([name, value]) => context.driver().countIndex(name, value)));
  }

  /** Every id listed under the entry, all pages of `limit`. */
  async function listed(name: string, value: string, limit = 1000): Promise<string[]> {
    const ids: string[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page: { sessions: SessionMeta[]; next: number | null } = await context.driver().findIndex(name, value, { offset, limit });
      ids.push(...page.sessions.map((meta) => meta.id));
      offset = page.next;
    }
    return ids;
  }

  describe("create", () => {
    it("lists a session under the JSON text of a field holding a string, number or boolean", async () => {
      const text = await stored(context, { fields: { tenant: json("acme") }, indexes });
      const number = await stored(context, { fields: { tenant: json(42) }, indexes });
      const boolean = await stored(context, { fields: { tenant: json(true) }, indexes });
      expect(await listed("tenant", json("acme"))).toEqual([text]);
      expect(await listed("tenant", "42")).toEqual([number]);
      expect(await listed("tenant", "true")).toEqual([boolean]);
      expect(await counts([["tenant", json("acme")], ["tenant", "42"], ["tenant", "true"], ["tenant", "acme"]])).toEqual([1, 1, 1, 0]);
    });

    it("does not list a field holding null, an array or an object, nor an absent field", async () => {
      await stored(context, { fields: { tenant: "null" }, indexes });
      await stored(context, { fields: { tenant: '["acme"]' }, indexes });
      await stored(context, { fields: { tenant: '{"name":"acme"}' }, indexes });
      await stored(context, { fields: { other: json("acme") }, indexes });
      expect(await counts([["tenant", "null"], ["tenant", '["acme"]'], ["tenant", '{"name":"acme"}'], ["tenant", json("acme")]])).toEqual([
        0, 0, 0, 0,
      ]);
    });

    it("lists a session under the suffix of every field with the prefix", async () => {
      const id = await stored(context, { fields: { "cart:mug": "1", "cart:tea": "3", cartel: "1", tenant: json("acme") }, indexes });
      expect(await listed("cart", "mug")).toEqual([id]);
      expect(await listed("cart", "tea")).toEqual([id]);
      expect(await counts([["cart", "el"], ["cart", "cartel"], ["cart", "1"]])).toEqual([0, 0, 0]);
    });

    it("keeps index names apart: one value under two names is two entries", async () => {
      const tenant = await stored(context, { fields: { tenant: json("gold") }, indexes });
      const plan = await stored(context, { fields: { plan: json("gold") }, indexes });
      expect(await listed("tenant", json("gold"))).toEqual([tenant]);
      expect(await listed("plan", json("gold"))).toEqual([plan]);
    });

    it("lists nothing when the write carries no indexes", async () => {
      await stored(context, { fields: { tenant: json("acme") } });
      expect(await counts([["tenant", json("acme")]])).toEqual([0]);
    });

    it("answers 0 and an empty last page for an entry nobody is listed under", async () => {
      expect(await context.driver().countIndex("tenant", json("nobody"))).toBe(0);
      expect(await context.driver().findIndex("tenant", json("nobody"), { offset: 0, limit: 10 })).toEqual({ sessions: [], next: null });
    });
  });

  describe("update", () => {
    it("moves the session to the entry of a field's new value", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { tenant: json("acme") }, indexes });
      await driver.update(id, newChange(harness, { set: { tenant: json("globex") }, indexes }));
      expect(await counts([["tenant", json("acme")], ["tenant", json("globex")]])).toEqual([0, 1]);
      expect(await listed("tenant", json("globex"))).toEqual([id]);
    });

    it("removes the session from the entry when the field is unset or stops holding a listed value", async () => {
      const driver = context.driver();
      const unset = await stored(context, { fields: { tenant: json("acme") }, indexes });
      const nulled = await stored(context, { fields: { tenant: json("acme") }, indexes });
      await driver.update(unset, newChange(harness, { remove: ["tenant"], indexes }));
      await driver.update(nulled, newChange(harness, { set: { tenant: "null" }, indexes }));
      expect(await counts([["tenant", json("acme")]])).toEqual([0]);
      expect(await listed("tenant", json("acme"))).toEqual([]);
    });

    it("adds and removes prefix entries as fields come and go, increments included", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { "cart:mug": "1" }, indexes });
      await driver.update(id, newChange(harness, { increment: { "cart:tea": 2 }, remove: ["cart:mug"], indexes }));
      expect(await counts([["cart", "mug"], ["cart", "tea"]])).toEqual([0, 1]);
      await driver.update(id, newChange(harness, { set: { "cart:cup": "1" }, indexes }));
      expect(await listed("cart", "tea")).toEqual([id]);
      expect(await listed("cart", "cup")).toEqual([id]);
    });

    it("keeps the entries when a write changes unindexed fields or carries no indexes", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, indexes });
      await driver.update(id, newChange(harness, { set: { note: json("x") }, indexes }));
      await driver.update(id, newChange(harness, { set: { other: json("y") } }));
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([1, 1]);
    });

    it("lists a session stored without indexes at its first write that carries them", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { tenant: json("acme") } });
      await driver.update(id, newChange(harness, { set: { note: json("x") }, indexes }));
      expect(await listed("tenant", json("acme"))).toEqual([id]);
    });

    it("removes the entries when the write's expiry has passed and the session is deleted", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { tenant: json("acme") }, indexes });
      await driver.update(id, newChange(harness, { expiresAt: harness.now() - 1, indexes }));
      expect(await counts([["tenant", json("acme")]])).toEqual([0]);
      expect(await listed("tenant", json("acme"))).toEqual([]);
    });

    it("lists every sku when 100 concurrent writers each add another cart field to one session", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { tenant: json("acme") }, indexes });
      const skus = Array.from({ length: 100 }, (_, index) => `sku-${index}`);
      const results = await Promise.all(
        skus.map((sku) => driver.update(id, newChange(harness, { increment: { [`cart:${sku}`]: 1 }, indexes }))),
      );
      expect(results.every((result) => result !== null)).toBe(true);
      expect(await counts(skus.map((sku) => ["cart", sku]))).toEqual(skus.map(() => 1));
      const pages = await Promise.all(skus.map((sku) => listed("cart", sku)));
      expect(pages).toEqual(skus.map(() => [id]));
      expect(await listed("tenant", json("acme"))).toEqual([id]);
    });
  });

  describe("rotate", () => {
    it("moves the entries to the new id", async () => {
      const driver = context.driver();
      const fromId = await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, indexes });
      const toId = rotationTargetOf(fromId);
      expect(await driver.rotate(fromId, toId, newRotation(harness, { indexes }))).not.toBeNull();
      expect(await listed("tenant", json("acme"))).toEqual([toId]);
      expect(await listed("cart", "mug")).toEqual([toId]);
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([1, 1]);
    });

    it("drops the entries of fields a rotation without data leaves behind", async () => {
      const driver = context.driver();
      const fromId = await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, indexes });
      const toId = rotationTargetOf(fromId);
      await driver.rotate(fromId, toId, newRotation(harness, { keepData: false, set: { tenant: json("globex") }, indexes }));
      expect(await counts([["tenant", json("acme")], ["tenant", json("globex")], ["cart", "mug"]])).toEqual([0, 1, 0]);
      expect(await listed("tenant", json("globex"))).toEqual([toId]);
    });
  });

  describe("destroy", () => {
    it("removes the session from every entry", async () => {
      const driver = context.driver();
      const doomed = await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, indexes });
      const kept = await stored(context, { fields: { tenant: json("acme") }, indexes });
      expect(await driver.destroy(doomed)).toBe(true);
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([1, 0]);
      expect(await listed("tenant", json("acme"))).toEqual([kept]);
    });
  });

  describe("endUserSessions", () => {
    it("removes the ended sessions from every entry", async () => {
      const driver = context.driver();
      const userId = newUserId();
      const ended: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        ended.push(await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, user: { userId }, indexes }));
      }
      const bystander = await stored(context, { fields: { tenant: json("acme") }, user: { userId: newUserId() }, indexes });
      expect(await driver.endUserSessions(userId)).toBe(3);
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([1, 0]);
      expect(await listed("tenant", json("acme"))).toEqual([bystander]);
    });
  });

  describe("when maxSessions evicts a user's oldest session", () => {
    it("removes the evicted session from every entry", async () => {
      const userId = newUserId();
      const now = harness.now();
      const first = await stored(context, {
        fields: { tenant: json("acme") },
        user: { userId, maxSessions: 1 },
        absoluteExpiresAt: now + MINUTE * 30,
        indexes,
      });
      const second = await stored(context, {
        fields: { tenant: json("acme") },
        user: { userId, maxSessions: 1 },
        absoluteExpiresAt: now + MINUTE * 40,
        indexes,
      });
      expect(await context.driver().load(first)).toBeNull();
      expect(await counts([["tenant", json("acme")]])).toEqual([1]);
      expect(await listed("tenant", json("acme"))).toEqual([second]);
    });
  });

  describe("when sessions expire", () => {
    it("neither counts nor lists them, without any sweep", async () => {
      const now = harness.now();
      await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, expiresAt: now + 300, indexes });
      const kept = await stored(context, { fields: { tenant: json("acme") }, expiresAt: now + MINUTE, indexes });
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([2, 1]);
      await harness.sleep(450);
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([1, 0]);
      expect(await listed("tenant", json("acme"))).toEqual([kept]);
      expect(await listed("cart", "mug")).toEqual([]);
    });

    it("keeps counting a listed session whose expiry a later write moved forward", async () => {
      const driver = context.driver();
      const id = await stored(context, { fields: { tenant: json("acme"), "cart:mug": "1" }, expiresAt: harness.now() + 300, indexes });
      const renewedUntil = harness.now() + MINUTE;
      await driver.update(id, newChange(harness, { expiresAt: renewedUntil, indexes }));
      await harness.sleep(450);
      expect(await counts([["tenant", json("acme")], ["cart", "mug"]])).toEqual([1, 1]);
      const page = await driver.findIndex("tenant", json("acme"), { offset: 0, limit: 10 });
      expect(page.sessions.map((meta) => [meta.id, meta.expiresAt])).toEqual([[id, renewedUntil]]);
    });
  });

  describe("findIndex", () => {
    it("pages through the entry soonest expiry first, with the next offset until the last page", async () => {
      const now = harness.now();
      const ids: string[] = [];
      for (let index = 0; index < 7; index += 1) {
        ids.push(await stored(context, { fields: { tenant: json("acme") }, expiresAt: now + MINUTE + (7 - index) * 1000, indexes }));
      }
      const byExpiry = [...ids].reverse();
      const driver = context.driver();
      const first = await driver.findIndex("tenant", json("acme"), { offset: 0, limit: 3 });
      const second = await driver.findIndex("tenant", json("acme"), { offset: 3, limit: 3 });
      const third = await driver.findIndex("tenant", json("acme"), { offset: 6, limit: 3 });
      expect([first.next, second.next, third.next]).toEqual([3, 6, null]);
      expect([...first.sessions, ...second.sessions, ...third.sessions].map((meta) => meta.id)).toEqual(byExpiry);
      expect((await driver.findIndex("tenant", json("acme"), { offset: 0, limit: 7 })).next).toBeNull();
    });

    it("returns session metadata only: the public id, times, user and device, never data", async () => {
      const now = harness.now();
      const userId = newUserId();
      const id = await stored(context, {
        fields: { tenant: json("acme"), secret: json("do not list") },
        createdAt: now - 100,
        lastSeenAt: now - 50,
        expiresAt: now + MINUTE,
        absoluteExpiresAt: now + 2 * MINUTE,
        user: { userId },
        userAgent: "agent/1.0",
        ip: "192.0.2.1",
        indexes,
      });
      const page = await context.driver().findIndex("tenant", json("acme"), { offset: 0, limit: 10 });
      expect(page.sessions).toHaveLength(1);
      const [meta] = page.sessions;
      expect(meta).toEqual(metaOf(meta!));
      expect(meta).toEqual({
        id,
        createdAt: now - 100,
        lastSeenAt: now - 50,
        expiresAt: now + MINUTE,
        absoluteExpiresAt: now + 2 * MINUTE,
        idleTimeout: null,
        userId,
        userAgent: "agent/1.0",
        ip: "192.0.2.1",
      });
      expect(isSessionId(meta!.id)).toBe(true);
      expect(JSON.stringify(page)).not.toContain("do not list");
    });

    it("pages one at a time through the sessions left after others were destroyed", async () => {
      const driver = context.driver();
      const ids: string[] = [];
      for (let index = 0; index < 4; index += 1) ids.push(await stored(context, { fields: { tenant: json("acme") }, indexes }));
      await inBatches(2, 2, async (index) => {
        await driver.destroy(ids[index]!);
      });
      expect((await listed("tenant", json("acme"), 1)).sort()).toEqual(ids.slice(2).sort());
    });
  });
}

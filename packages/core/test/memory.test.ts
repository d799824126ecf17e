import { describe, expect, it } from "vitest";
import { describeDriverConformance } from "@sess/driver-conformance";
import { createMemoryDriver, type MemoryDriver } from "../src/memory.js";
import type { NewSession, SessionChange, SessionDriver } from "../src/driver.js";
import { isSessionError } from "../src/errors.js";
import { newToken, sessionIdOf, tagOf } from "../src/token.js";

/** A fake clock shared by the conformance harness: sleep advances it at once. */
let fakeNow = Date.parse("2030-01-01T00:00:00Z");

describeDriverConformance({
  name: "memory",
  createDriver: () => createMemoryDriver({ clock: () => fakeNow }),
  now: () => fakeNow,
  sleep: async (ms) => {
    fakeNow += ms;
  },
  remainingTtl: async (driver, id) => (driver as MemoryDriver).remainingTtl(id),
});

function clockAt(start: number): { now: () => number; advance: (ms: number) => void } {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

function sessionAt(now: number, overrides: Partial<NewSession> = {}): NewSession {
  return {
    fields: {},
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 60_000,
    absoluteExpiresAt: now + 3_600_000,
    user: null,
    userAgent: null,
    ip: null,
    ...overrides,
  };
}

function changeAt(now: number, overrides: Partial<SessionChange> = {}): SessionChange {
  return { set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000, ...overrides };
}

const newId = (): string => sessionIdOf(newToken());

describe("createMemoryDriver", () => {
  it("names itself memory", async () => {
    const driver = createMemoryDriver();
    expect(driver.name).toBe("memory");
    await driver.close();
  });

  describe("when an option is invalid", () => {
    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("throws CONFIG_INVALID for sweepInterval %s", (value) => {
      expect(() => createMemoryDriver({ sweepInterval: value })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("sweepInterval") }),
      );
    });

    it("throws CONFIG_INVALID for a clock that is not a function", () => {
      expect(() => createMemoryDriver({ clock: 5 as unknown as () => number })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID" }),
      );
    });
  });
});

const indexes = [
  { name: "tenant", field: "tenant" },
  { name: "cart", fieldPrefix: "cart:" },
];

describe("sweep", () => {
  it("removes 10,000 expired sessions and their index entries once time has passed", async () => {
    const clock = clockAt(1_000_000);
    const driver = createMemoryDriver({ clock: clock.now, sweepInterval: 10_000 });
    for (let index = 0; index < 10_000; index += 1) {
      const user = index % 10 === 0 ? { userId: `user-${index % 7}` } : null;
      const fields = { tenant: JSON.stringify(`t${index % 10}`), [`cart:sku-${index % 50}`]: "1" };
      await driver.create(newId(), sessionAt(clock.now(), { expiresAt: clock.now() + 5_000, user, fields, indexes }));
    }
    expect(driver.size()).toBe(10_000);
    expect(driver.indexSize()).toBe(1_000);
    expect(driver.membershipCount()).toBe(20_000);
    clock.advance(6_000);
    // Expired but not yet due for a sweep: invisible, still held.
    expect(driver.size()).toBe(10_000);
    clock.advance(5_000);
    const survivor = newId();
    await driver.create(survivor, sessionAt(clock.now()));
    expect(driver.size()).toBe(1);
    expect(driver.indexSize()).toBe(0);
    expect(driver.membershipCount()).toBe(0);
    expect(await driver.load(survivor)).not.toBeNull();
    await driver.close();
  });

  it("sweeps from a timer when nothing is called", async () => {
    const clock = clockAt(1_000_000);
    const driver = createMemoryDriver({ clock: clock.now, sweepInterval: 20 });
    for (let index = 0; index < 100; index += 1) {
      await driver.create(newId(), sessionAt(clock.now(), { expiresAt: clock.now() + 1_000 }));
    }
    clock.advance(2_000);
    // Wait for the timer (a few intervals, longer under load), calling nothing on the driver.
    for (let waited = 0; driver.size() > 0 && waited < 2_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(driver.size()).toBe(0);
    await driver.close();
  });

  it("removes only expired sessions and reports how many", async () => {
    const clock = clockAt(1_000_000);
    const driver = createMemoryDriver({ clock: clock.now });
    await driver.create(newId(), sessionAt(clock.now(), { expiresAt: clock.now() + 1_000 }));
    const kept = newId();
    await driver.create(kept, sessionAt(clock.now(), { expiresAt: clock.now() + 10_000 }));
    clock.advance(1_000);
    expect(driver.sweep()).toBe(1);
    expect(driver.size()).toBe(1);
    expect(await driver.load(kept)).not.toBeNull();
    await driver.close();
  });
});

describe("copies", () => {
  it("does not share what create was given", async () => {
    const driver = createMemoryDriver();
    const id = newId();
    const session = sessionAt(Date.now(), { fields: { a: "1" }, user: { userId: "u" } });
    await driver.create(id, session);
    session.fields["a"] = "2";
    session.fields["b"] = "3";
    if (session.user) session.user.userId = "other";
    expect(await driver.load(id)).toMatchObject({ fields: { a: "1" }, userId: "u" });
    await driver.close();
  });

  it("does not share what load returned", async () => {
    const driver = createMemoryDriver();
    const id = newId();
    await driver.create(id, sessionAt(Date.now(), { fields: { a: "1" } }));
    const first = await driver.load(id);
    if (first === null) throw new Error("not stored");
    first.fields["a"] = "2";
    first.fields["b"] = "3";
    first.expiresAt = 0;
    expect(await driver.load(id)).toMatchObject({ fields: { a: "1" } });
    expect((await driver.load(id))?.expiresAt).toBeGreaterThan(Date.now());
    await driver.close();
  });

  it("does not share what update and rotate were given, nor the listings", async () => {
    const driver = createMemoryDriver();
    const now = Date.now();
    const id = newId();
    await driver.create(id, sessionAt(now, { user: { userId: "u" } }));
    const change = changeAt(now, { set: { a: "1" } });
    await driver.update(id, change);
    change.set["a"] = "changed";
    const toId = sessionIdOf(newToken(tagOf(id)));
    const rotation = { ...changeAt(now, { set: { b: "2" } }), keepData: true };
    await driver.rotate(id, toId, rotation);
    rotation.set["b"] = "changed";
    const [listed] = await driver.listUserSessions("u");
    if (listed === undefined) throw new Error("not listed");
    listed.userId = "someone else";
    expect(await driver.load(toId)).toMatchObject({ fields: { a: "1", b: "2" }, userId: "u" });
    await driver.close();
  });
});

describe("rotate", () => {
  describe("when the new id has another slot tag", () => {
    it("rejects with VALUE_INVALID and leaves the session where it was", async () => {
      const driver = createMemoryDriver();
      const id = newId();
      await driver.create(id, sessionAt(Date.now(), { fields: { a: "1" } }));
      const elsewhere = sessionIdOf(newToken(tagOf(id) === "AAAAAAAA" ? "BBBBBBBB" : "AAAAAAAA"));
      await expect(driver.rotate(id, elsewhere, { ...changeAt(Date.now()), keepData: true })).rejects.toMatchObject({
        code: "VALUE_INVALID",
      });
      expect((await driver.load(id))?.fields).toEqual({ a: "1" });
      await driver.close();
    });
  });
});

describe("maxSessions", () => {
  it("ends the first created of sessions created in the same millisecond, whatever their ids", async () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    const driver = createMemoryDriver({ clock: () => now });
    // Created in descending id order, so an order by id would pick the second one.
    const [first, second, third] = [newId(), newId(), newId()].sort().reverse() as [string, string, string];
    const user = { userId: "ada", maxSessions: 2 };
    await driver.create(first, sessionAt(now, { user }));
    await driver.create(second, sessionAt(now, { user }));
    const result = await driver.create(third, sessionAt(now, { user }));
    expect(result?.ended).toEqual([first]);
    expect(await driver.load(first)).toBeNull();
    expect(await driver.load(second)).not.toBeNull();
    await driver.close();
  });
});

describe("update", () => {
  describe("when the change sets, removes and increments the same field", () => {
    it("applies set, then remove, then increment", async () => {
      const driver = createMemoryDriver();
      const id = newId();
      await driver.create(id, sessionAt(Date.now(), { fields: { n: "10", m: "10" } }));
      const counters = (await driver.update(id, changeAt(Date.now(), { set: { n: "5" }, remove: ["m"], increment: { n: 1, m: 1 } })))?.counters;
      expect(counters).toEqual({ n: 6, m: 1 });
      expect((await driver.load(id))?.fields).toEqual({ n: "6", m: "1" });
      await driver.close();
    });
  });

  describe("when an increment leaves the safe integer range", () => {
    it("rejects with VALUE_INVALID and changes nothing", async () => {
      const driver = createMemoryDriver();
      const id = newId();
      await driver.create(id, sessionAt(Date.now(), { fields: { n: String(Number.MAX_SAFE_INTEGER) } }));
      await expect(driver.update(id, changeAt(Date.now(), { set: { x: "1" }, increment: { n: 1 } }))).rejects.toSatisfy(
        (error: unknown) => isSessionError(error, "VALUE_INVALID"),
      );
      expect((await driver.load(id))?.fields).toEqual({ n: String(Number.MAX_SAFE_INTEGER) });
      await driver.close();
    });
  });
});

describe("close", () => {
  it("makes every later call reject with CLOSED", async () => {
    const driver: SessionDriver = createMemoryDriver();
    const id = newId();
    await driver.create(id, sessionAt(Date.now()));
    await driver.close();
    const now = Date.now();
    const calls: Array<Promise<unknown>> = [
      driver.load(id),
      driver.create(newId(), sessionAt(now)),
      driver.update(id, changeAt(now)),
      driver.rotate(id, sessionIdOf(newToken(tagOf(id))), { ...changeAt(now), keepData: true }),
      driver.destroy(id),
      driver.listUserSessions("u"),
      driver.endUserSessions("u"),
    ];
    for (const call of calls) {
      await expect(call).rejects.toSatisfy((error: unknown) => isSessionError(error, "CLOSED"));
    }
  });

  it("can be called twice", async () => {
    const driver = createMemoryDriver();
    await driver.close();
    await expect(driver.close()).resolves.toBeUndefined();
  });

  it("releases the stored sessions", async () => {
    const driver = createMemoryDriver();
    await driver.create(newId(), sessionAt(Date.now(), { user: { userId: "u" } }));
    await driver.close();
    expect(driver.size()).toBe(0);
    expect(driver.indexSize()).toBe(0);
  });
});

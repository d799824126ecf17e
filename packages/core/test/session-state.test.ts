import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../src/driver.js";
import { Session } from "../src/session.js";
import { createSessionState, fieldCountOf, fieldNamesOf, hasFieldChanges, textOf, type SessionState } from "../src/session-state.js";

const LIMITS = { maxBytes: 65_536, maxFields: 128 };

type Data = Record<string, unknown>;

/** `increment` on a session whose fields are untyped. */
function increment(session: Session<Data>, field: string, by?: number): number {
  return (session as unknown as Session<Record<string, number>>).increment(field, by);
}

/** A stored session whose fields object is frozen, as a driver that shares records hands it out. */
function storedRecord(fields: Record<string, string>): SessionRecord {
  const now = Date.now();
  return {
    id: "id",
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 60_000,
    absoluteExpiresAt: now + 600_000,
    idleTimeout: null,
    userId: null,
    userAgent: null,
    ip: null,
    fields: Object.freeze({ ...fields }),
  };
}

function open(fields: Record<string, string>): { state: SessionState; session: Session<Data>; corrupt: string[] } {
  const corrupt: string[] = [];
  const state = createSessionState(storedRecord(fields), LIMITS, (field) => corrupt.push(field));
  return { state, session: new Session(state), corrupt };
}

describe("session state: a request that only reads copies nothing", () => {
  it("reads every field from the loaded record without making texts, parsed values of its own or changes", () => {
    const record = storedRecord({ name: '"ada"', prefs: '{"theme":"dark"}', visits: "3", "cart:a1": "2" });
    const state = createSessionState(record, LIMITS, () => undefined);
    const session = new Session<Data>(state);
    expect(session.get("name")).toBe("ada");
    expect(session.get("prefs")).toEqual({ theme: "dark" });
    expect(session.all()).toEqual({ name: "ada", prefs: { theme: "dark" }, visits: 3, "cart:a1": 2 });
    expect(session.map("cart").all()).toEqual({ a1: 2 });
    expect(state.texts).toBeNull();
    expect(state.changes).toBeNull();
    expect(hasFieldChanges(state)).toBe(false);
    // The parsed values are the record's, shared by every request that loaded it: none made per request.
    const other = createSessionState(record, LIMITS, () => undefined);
    expect(other.parsed).toBe(state.parsed);
    expect(new Session<Data>(other).get("prefs")).toBe(session.get("prefs"));
  });

  it("keeps a request's changes out of the values shared with the other requests of the same record", () => {
    const record = storedRecord({ prefs: '{"theme":"dark"}', visits: "3" });
    const first = new Session<Data>(createSessionState(record, LIMITS, () => undefined));
    const second = new Session<Data>(createSessionState(record, LIMITS, () => undefined));
    expect(first.get("prefs")).toEqual({ theme: "dark" });
    first.set("prefs", { theme: "light" });
    expect(increment(first, "visits")).toBe(4);
    first.unset("missing");
    expect(first.get("prefs")).toEqual({ theme: "light" });
    expect(first.get("visits")).toBe(4);
    expect(second.get("prefs")).toEqual({ theme: "dark" });
    expect(second.get("visits")).toBe(3);
    const third = new Session<Data>(createSessionState(record, LIMITS, () => undefined));
    expect(third.all()).toEqual({ prefs: { theme: "dark" }, visits: 3 });
  });

  it("answers the same value object on every read of a frozen record, before and after a change elsewhere", () => {
    const { state, session } = open({ prefs: '{"theme":"dark"}', n: "1" });
    const first = session.get("prefs");
    expect(session.get("prefs")).toBe(first);
    session.set("n", 2);
    expect(state.texts).not.toBeNull();
    expect(session.get("prefs")).toBe(first);
    expect(open({ prefs: '{"theme":"dark"}' }).session.get("prefs")).toEqual(first);
  });

  it("reads no Object.prototype member as a field", () => {
    const { session, corrupt } = open({ name: '"ada"' });
    for (const name of ["toString", "constructor", "hasOwnProperty", "valueOf"]) {
      expect(session.get(name)).toBeUndefined();
      expect(session.has(name)).toBe(false);
    }
    // Allowed as field names: a first increment starts from 0.
    expect(increment(session, "toString")).toBe(1);
    expect(increment(session, "valueOf", 2)).toBe(2);
    expect(corrupt).toEqual([]);
  });
});

describe("session state: the first change copies the loaded fields", () => {
  it("applies set, unset and increment to the copy and records them, leaving the loaded fields as they were", () => {
    const { state, session } = open({ name: '"ada"', visits: "3", old: "true" });
    const loaded = state.loaded;
    session.set("name", "grace");
    session.unset("old");
    expect(increment(session, "visits")).toBe(4);
    expect(loaded).toEqual({ name: '"ada"', visits: "3", old: "true" });
    expect(Object.fromEntries(state.texts!)).toEqual({ name: '"grace"', visits: "4" });
    expect(textOf(state, "old")).toBeUndefined();
    expect([...fieldNamesOf(state)]).toEqual(["name", "visits"]);
    expect(fieldCountOf(state)).toBe(2);
    expect(Object.fromEntries(state.changes!.set)).toEqual({ name: '"grace"' });
    expect([...state.changes!.remove]).toEqual(["old"]);
    expect(Object.fromEntries(state.changes!.increment)).toEqual({ visits: 1 });
    expect(session.all()).toEqual({ name: "grace", visits: 4 });
  });

  it("regenerate without data removes every loaded field", () => {
    const { state, session } = open({ name: '"ada"', visits: "3" });
    expect(session.get("name")).toBe("ada");
    session.regenerate({ keepData: false });
    expect(session.get("name")).toBeUndefined();
    expect(session.all()).toEqual({});
    expect([...state.changes!.remove].sort()).toEqual(["name", "visits"]);
  });

  it("counts the loaded fields towards maxFields before any copy", () => {
    const state = createSessionState(storedRecord({ a: "1", b: "2" }), { maxBytes: 65_536, maxFields: 2 }, () => undefined);
    const session = new Session<Data>(state);
    expect(() => session.set("c", 3)).toThrow(/maxFields/);
    session.set("a", 5);
    expect(session.get("a")).toBe(5);
  });
});

import { describe, expect, it } from "vitest";
import { configValueOf, hashOf, scoredMembersOf, valuesOf } from "../src/index.js";
import { countOutcome, createOutcome, endOutcome, writeOutcome } from "../src/replies.js";
import { isFunctionMissing, isFunctionsRefused, isLibraryLoaded, isNoScript } from "../src/port.js";

/** One HGETALL reply as each client, protocol and reply mapping delivers it. */
const HASH_SHAPES: [string, unknown][] = [
  ["flat array (RESP2, ioredis legacy mapping)", ["$c", "1", "n", "2"]],
  ["array of pairs", [["$c", "1"], ["n", "2"]]],
  ["Map", new Map([["$c", "1"], ["n", "2"]])],
  ["plain object (ioredis resp3 mapping, node-redis 6)", { $c: "1", n: "2" }],
  ["null-prototype object (node-redis 5)", Object.assign(Object.create(null) as object, { $c: "1", n: "2" })],
  ["Buffers", [Buffer.from("$c"), Buffer.from("1"), Buffer.from("n"), Buffer.from("2")]],
];

describe("plain command replies read the same in every shape", () => {
  for (const [shape, reply] of HASH_SHAPES) {
    it(`HGETALL: ${shape}`, () => {
      expect(hashOf(reply)).toEqual({ $c: "1", n: "2" });
    });
  }

  it("HGETALL leaves out __proto__ and reads an empty or missing reply as no fields", () => {
    expect(Object.keys(hashOf(["__proto__", "x", "a", "1"]))).toEqual(["a"]);
    expect(hashOf([])).toEqual({});
    expect(hashOf({})).toEqual({});
    expect(hashOf(null)).toEqual({});
  });

  it("HGETALL: an object of strings is used as it is, without a copy", () => {
    const reply = { $c: "1", n: "2" };
    expect(hashOf(reply)).toBe(reply);
  });

  it("HGETALL: an object with an own __proto__ key (ioredis defines it) or non-text values is read into a new object", () => {
    const planted = Object.defineProperty({ a: "1" } as Record<string, unknown>, "__proto__", { value: "x", enumerable: true, configurable: true, writable: true });
    const read = hashOf(planted);
    expect(Object.keys(read)).toEqual(["a"]);
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(hashOf({ n: 2, b: true, x: Buffer.from("y") })).toEqual({ n: "2", b: "1", x: "y" });
  });

  it("CONFIG GET: flat array, object and Map; absent setting is null", () => {
    expect(configValueOf(["appendonly", "no"], "appendonly")).toBe("no");
    expect(configValueOf({ appendonly: "no" }, "appendonly")).toBe("no");
    expect(configValueOf(new Map([["appendonly", "no"]]), "appendonly")).toBe("no");
    expect(configValueOf([], "appendonly")).toBeNull();
    expect(configValueOf({}, "appendonly")).toBeNull();
  });

  it("ZRANGE WITHSCORES: flat text scores, [member, double] pairs, { value, score } objects", () => {
    const expected = [
      { member: "a", score: 1.5 },
      { member: "b", score: 1700000000000 },
    ];
    expect(scoredMembersOf(["a", "1.5", "b", "1700000000000"])).toEqual(expected);
    expect(scoredMembersOf([["a", 1.5], ["b", 1700000000000]])).toEqual(expected);
    expect(scoredMembersOf([{ value: "a", score: 1.5 }, { value: "b", score: 1700000000000 }])).toEqual(expected);
    expect(scoredMembersOf([])).toEqual([]);
  });

  it("HMGET: nulls kept, numbers, booleans and Buffers as text", () => {
    expect(valuesOf(["1", null, 2, true, Buffer.from("x")])).toEqual(["1", null, "2", "1", "x"]);
  });
});

describe("script replies read the same with integers as numbers or as text (ioredis stringNumbers)", () => {
  it("status codes", () => {
    expect(createOutcome(["1", []]).created).toBe(true);
    expect(createOutcome([0]).created).toBe(false);
    expect(endOutcome(["1", null]).ended).toBe(true);
    expect(countOutcome("3")).toBe(3);
    expect(writeOutcome(["0"], "update")).toEqual({ kind: "missing" });
    // The flat written reply: code, user, $x $s $a $t, expiresAt, five counts, the five lists, counters.
    expect(writeOutcome([1, "ada", "17", "5", "99", "", "17", 1, 2, 1, 1, 2, "a1", "r1", "r2", "c1", "e1", "o1", "o2", "n", "4"], "update")).toEqual({
      kind: "written",
      previousUserId: "ada",
      counters: { n: 4 },
      ended: ["e1"],
      endedOthers: ["o1", "o2"],
      memberships: { added: ["a1"], removed: ["r1", "r2"], current: ["c1"], expiresAt: 17 },
      stored: { expiresAt: 17, lastSeenAt: 5, absoluteExpiresAt: 99, idleTimeout: null },
    });
    expect(writeOutcome([1, "", 17, 5, 99, "600000", "", 0, 0, 0, 0, 0], "update")).toMatchObject({
      stored: { expiresAt: 17, lastSeenAt: 5, absoluteExpiresAt: 99, idleTimeout: 600_000 },
      memberships: { added: [], removed: [], current: [] },
    });
    // A write that deleted the session: no times, no expiresAt.
    const deleted = writeOutcome(["1", "ada", "", "", "", "", "", "0", "1", "0", "0", "0", "r1"], "update");
    expect(deleted).toMatchObject({ stored: null, previousUserId: "ada", ended: [], endedOthers: [], counters: {} });
    expect(deleted.kind === "written" && "expiresAt" in deleted.memberships).toBe(false);
  });

  it("a written reply whose counts do not match its items is STORE_UNAVAILABLE, not a wrong result", () => {
    for (const reply of [
      [1, "", "17", "5", "99", "", "", 0, 3, 0, 0, 0, "r1"], // counts more items than the reply holds
      [1, "", "17", "5", "99", "", "", -1, 0, 0, 0, 0],
      [1, "", "17", "5", "99", "", "", "x", 0, 0, 0, 0],
      [1, "", "17", "5", "99", ""], // the old nested layout's length, or a cut reply
    ]) {
      expect(() => writeOutcome(reply, "update")).toThrow(expect.objectContaining({ code: "STORE_UNAVAILABLE" }));
    }
  });

  it("an unknown reply is STORE_UNAVAILABLE", () => {
    expect(() => countOutcome("x")).toThrow(expect.objectContaining({ code: "STORE_UNAVAILABLE" }));
    expect(() => createOutcome(["7"])).toThrow(expect.objectContaining({ code: "STORE_UNAVAILABLE" }));
  });
});

describe("NOSCRIPT", () => {
  it("is recognised by its prefix only (Redis and Valkey word the rest differently)", () => {
    expect(isNoScript(new Error("NOSCRIPT No matching script. Please use EVAL."))).toBe(true);
    expect(isNoScript(new Error("NOSCRIPT No matching script."))).toBe(true);
    expect(isNoScript(new Error("NOSCRIPT"))).toBe(true);
    expect(isNoScript(new Error("ERR Error running script: NOSCRIPT No matching script"))).toBe(false);
    expect(isNoScript(new Error("ERR unknown command"))).toBe(false);
  });
});

describe("functions", () => {
  it("knows a missing function, an already loaded library and a refusal by their replies", () => {
    expect(isFunctionMissing(new Error("ERR Function not found"))).toBe(true);
    expect(isFunctionMissing(new Error("ERR user_function:3: Script attempted to access nonexistent global variable 'x'"))).toBe(false);
    expect(isLibraryLoaded(new Error("ERR Library 'sess_update_0123456789abcdef' already exists"))).toBe(true);
    expect(isLibraryLoaded(new Error("ERR Error compiling function: user_function:1: ..."))).toBe(false);
    // Redis 6.2 (backquotes) and 7.x (quotes); a renamed-away command answers the same.
    expect(isFunctionsRefused(new Error("ERR unknown command `FCALL`, with args beginning with: `sess_update_x`, `1`, "))).toBe(true);
    expect(isFunctionsRefused(new Error("ERR unknown command 'FUNCTION', with args beginning with: 'LOAD' "))).toBe(true);
    expect(isFunctionsRefused(new Error("NOPERM this user has no permissions to run the 'fcall' command"))).toBe(true);
    expect(isFunctionsRefused(new Error("NOPERM User sess has no permissions to run the 'function|load' command"))).toBe(true);
    // Not a refusal of functions: keys, or a command the function itself runs.
    expect(isFunctionsRefused(new Error("NOPERM this user has no permissions to access one of the keys used as arguments"))).toBe(false);
    expect(isFunctionsRefused(new Error("NOPERM User sess has no permissions to run the 'hmget' command script: sess_update_x, on @user_function:120."))).toBe(false);
    expect(isFunctionsRefused(new Error("ERR unknown command 'HGETALLX'"))).toBe(false);
  });
});

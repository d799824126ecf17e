/**
 * 120,000 fuzzed tokens, derived from the tokens of live sessions, through the cookie and the
 * header transports: none is accepted, none throws, and those that are not a canonical 51-character
 * base64url token (judged here independently of the library's own check) cause no store call.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RequestInfo } from "../src/index.js";
import { createSessionManager } from "../src/index.js";
import { recordingDriver } from "./recording.js";

const ROUNDS = 60_000; // × 2 transports
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Canonical token shape, by decoding: 8 tag characters + 32 bytes in unpadded base64url. */
function wellFormed(value: string): boolean {
  if (value.length !== 51 || !/^[A-Za-z0-9_-]+$/.test(value)) return false;
  const body = value.slice(8);
  return Buffer.from(body, "base64url").toString("base64url") === body;
}

let seed = 42;
function random(n: number): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed % n;
}
const pick = <T>(list: readonly T[]): T => list[random(list.length)]!;

const mutations: Array<(token: string) => string> = [
  (t) => {
    const i = random(t.length);
    return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << random(7))) + t.slice(i + 1);
  }, // bit flip
  (t) => t.slice(0, random(t.length)), // truncation
  (t) => t + Array.from({ length: 1 + random(8) }, () => pick([...ALPHABET, "=", ".", "%"])).join(""), // extension
  (t) => t.slice(0, 50) + pick([..."BCDFGHJKLNOPRSTVWXZabdefhijlmnpqrtuvxyz12356789-_"]), // non-canonical last character
  (t) => encodeURIComponent(t).replace(/[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`), // percent-encoding
  (t) => Buffer.from(t.slice(8), "base64url").toString("base64"), // standard base64 (+ / =)
  (t) => t.slice(0, 8) + Buffer.from(t.slice(8), "base64url").toString("base64url") + "=", // padded
  (t) => t.slice(0, 20) + pick(["é", "\u200b", "Ａ", "𝒜", "\u0301", "İ", "ß"]) + t.slice(21), // utf-8
  (t) => t.slice(0, random(t.length)) + pick(["\0", "\r", "\n", "\t", "\x7f", "\x1b", "\v"]) + t.slice(random(t.length)), // control characters
  (t) => t.repeat(2 + random(2000)), // oversize
  (t) => `${pick(["\u00a0", "\u2028", "\ufeff", "\u3000"])}${t}${pick(["", "\u00a0", "\u2029"])}`, // Unicode white space (not HTTP's OWS)
  (t) => `"${t}"`, // quoted
  (t) => t.toUpperCase(),
  () => randomBytes(38).toString("base64url").slice(0, 51), // random well-formed or not
  () => "",
];

function requestFor(cookie: string | undefined, authorization: string | undefined): RequestInfo {
  const headers: Record<string, string | undefined> = { cookie, authorization };
  return { header: (name) => headers[name], secure: false };
}

describe("manager.open", () => {
  it("accepts none of 120,000 fuzzed cookie and header tokens and makes no store call for the malformed ones", async () => {
    const recording = recordingDriver();
    const manager = createSessionManager<{ n: number }>({ driver: recording.driver, clock: recording.clock, header: { name: "x-session" } });
    const bearer = createSessionManager<{ n: number }>({ driver: recording.driver, clock: recording.clock, header: true, cookie: false });
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) {
      const open = await manager.open(requestFor(undefined, undefined));
      open.session.set("n", i);
      const { headers } = await open.commit();
      tokens.push(/^sess=([^;]+)/.exec(headers.find(([name]) => name === "set-cookie")![1])![1]!);
    }
    // The originals are accepted (the fuzz would prove nothing otherwise).
    expect((await manager.open(requestFor(`sess=${tokens[0]}`, undefined))).session.isNew).toBe(false);

    let accepted = 0;
    let thrown = 0;
    let malformed = 0;
    let callsForMalformed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const fuzzed = pick(mutations)(pick(tokens));
      // SP and HTAB around a value are HTTP's optional white space: the same token, not a fuzzed one.
      if (tokens.includes(fuzzed.replace(/^[ \t]+|[ \t]+$/g, ""))) continue;
      const isMalformed = !wellFormed(fuzzed);
      const attempts: Array<() => Promise<{ session: { isNew: boolean } }>> = [
        () => manager.open(requestFor(round % 2 ? `sess=${fuzzed}` : `other=1; sess=${fuzzed}; x=y`, undefined)),
        round % 2
          ? () => manager.open({ header: (name) => (name === "x-session" ? fuzzed : undefined), secure: false })
          : () => bearer.open(requestFor(undefined, `Bearer ${fuzzed}`)),
      ];
      for (const attempt of attempts) {
        const before = recording.calls.length;
        try {
          const open = await attempt();
          if (!open.session.isNew) accepted += 1;
        } catch {
          thrown += 1;
        }
        if (isMalformed) {
          malformed += 1;
          callsForMalformed += recording.calls.length - before;
        }
      }
    }
    console.log(`core fuzz: ${ROUNDS * 2} tokens, ${malformed} malformed, ${accepted} accepted, ${thrown} thrown, ${callsForMalformed} store calls for malformed`);
    expect(malformed).toBeGreaterThan(ROUNDS);
    expect(accepted).toBe(0);
    expect(thrown).toBe(0);
    expect(callsForMalformed).toBe(0);
  });
});

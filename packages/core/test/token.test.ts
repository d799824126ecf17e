import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TOKEN_LENGTH, isSessionId, isToken, newToken, sessionIdOf, tagOf } from "../src/index.js";

describe("newToken", () => {
  it("returns 51 base64url characters: an 8-character tag and 256 random bits", () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{51}$/);
    expect(Buffer.from(token.slice(8), "base64url")).toHaveLength(32);
    expect(isToken(token)).toBe(true);
  });

  it("keeps a given tag and never repeats the secret part", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const token = newToken("abcdefgh");
      expect(tagOf(token)).toBe("abcdefgh");
      seen.add(token);
    }
    expect(seen.size).toBe(2_000);
  });
});

describe("isToken", () => {
  const valid = newToken();

  it.each([
    ["empty", ""],
    ["short by one", valid.slice(1)],
    ["long by one", `${valid}A`],
    ["standard base64 characters", `${valid.slice(0, 50)}+`],
    ["padding", `${valid.slice(0, 50)}=`],
    ["a space", ` ${valid.slice(1)}`],
    ["a control character", `${valid.slice(0, 20)}\u0000${valid.slice(21)}`],
    ["a non-canonical last character", `${valid.slice(0, 50)}B`],
    ["non-ASCII", `${valid.slice(0, 50)}é`],
  ])("rejects a token with %s", (_label, value) => {
    expect(isToken(value)).toBe(false);
  });

  it("rejects non-strings", () => {
    for (const value of [undefined, null, 42, {}, [valid]]) expect(isToken(value)).toBe(false);
  });

  it("accepts every token newToken makes", () => {
    for (let i = 0; i < 1_000; i++) expect(isToken(newToken())).toBe(true);
  });

  it("has length TOKEN_LENGTH", () => {
    expect(valid).toHaveLength(TOKEN_LENGTH);
  });
});

describe("sessionIdOf", () => {
  it("keeps the tag and replaces the secret with its SHA-256, so the id never contains the token's secret", () => {
    const token = newToken();
    const id = sessionIdOf(token);
    expect(tagOf(id)).toBe(tagOf(token));
    expect(id).not.toContain(token.slice(8));
    expect(isSessionId(id)).toBe(true);
    expect(sessionIdOf(token)).toBe(id);
  });

  it("gives different ids for tokens that differ in one character", () => {
    const token = newToken();
    const other = token.slice(0, 30) + (token[30] === "A" ? "B" : "A") + token.slice(31);
    expect(sessionIdOf(other)).not.toBe(sessionIdOf(token));
  });

  it("is the tag followed by the base64url SHA-256 of the whole token", () => {
    const token = `abcdefgh${"A".repeat(43)}`;
    expect(sessionIdOf(token)).toBe(`abcdefgh${createHash("sha256").update(token).digest("base64url")}`);
  });
});

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newToken, sessionIdOf, tagOf } from "@sess/core";
import { createKeySchema } from "../src/index.js";

/** The cluster hash tag of a key: the text between the first "{" and the next "}". */
function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  return key.slice(open + 1, key.indexOf("}", open + 1));
}

describe("createKeySchema", () => {
  it("uses the prefix sess and a schema version segment by default", () => {
    const id = sessionIdOf(newToken());
    expect(createKeySchema().session(id).startsWith("sess:v2:s:")).toBe(true);
  });

  it("gives a session's old and new ids the same hash tag (the session's tag)", () => {
    const id = sessionIdOf(newToken());
    const rotated = sessionIdOf(newToken(tagOf(id)));
    const keys = createKeySchema("app");
    expect(hashTagOf(keys.session(id))).toBe(tagOf(id));
    expect(hashTagOf(keys.session(rotated))).toBe(hashTagOf(keys.session(id)));
    expect(keys.session(rotated)).not.toBe(keys.session(id));
  });

  it("holds exactly the tag and the SHA-256 of the whole token, never the token's secret part", () => {
    const token = newToken();
    const key = createKeySchema("app").session(sessionIdOf(token));
    const digest = createHash("sha256").update(token).digest("base64url");
    expect(key).toBe(`app:v2:s:{${token.slice(0, 8)}}${digest}`);
    const secret = token.slice(8);
    for (let at = 0; at + 8 <= secret.length; at += 1) expect(key).not.toContain(secret.slice(at, at + 8));
  });

  it("reads a session key back as its id, and nothing else as one", () => {
    const keys = createKeySchema("app");
    const id = sessionIdOf(newToken());
    expect(keys.sessionIdOf(keys.session(id))).toBe(id);
    expect(keys.sessionIdOf(createKeySchema("other").session(id))).toBeNull();
    expect(keys.sessionIdOf(keys.user("ada@example.com"))).toBeNull();
    expect(keys.sessionIdOf(keys.index("tenant", '"acme"'))).toBeNull();
    expect(keys.sessionIdOf(`app:v2:s:${id}`)).toBeNull(); // no tag braces
    expect(keys.sessionIdOf("app:v2:s:{short}rest")).toBeNull();
  });

  it("builds the user index key from a hash of the user id, with its own tag", () => {
    const keys = createKeySchema("app");
    const key = keys.user("ada@example.com");
    expect(key).not.toContain("ada");
    expect(hashTagOf(key)).toHaveLength(43);
    expect(keys.user("ada@example.com")).toBe(key);
    expect(keys.user("bob@example.com")).not.toBe(key);
  });

  it("builds an index entry key from the hex SHA-1 of the membership, as a Lua script can (redis.sha1hex)", () => {
    const digest = createHash("sha1").update("tenant\0\"acme\"").digest("hex");
    expect(createKeySchema("app").index("tenant", '"acme"')).toBe(`app:v2:x:{${digest}}`);
    expect(createKeySchema("app").base).toBe("app:v2");
  });

  it("keeps glob characters of a prefix as plain characters", () => {
    const id = sessionIdOf(newToken());
    expect(createKeySchema("a*b?[c]\\").session(id).startsWith("a*b?[c]\\:v2:s:")).toBe(true);
  });

  it.each(["", "a{b", "a}b"])("rejects the prefix %j with CONFIG_INVALID naming the option", (prefix) => {
    expect(() => createKeySchema(prefix)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining('"prefix"') }));
  });
});

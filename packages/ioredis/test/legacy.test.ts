import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSessionManager } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { fromConnectRedis, fromKoaRedis } from "../src/index.js";

/** A client that must never be called: reading cookies needs no Redis. */
const client = {
  call: () => {
    throw new Error("no Redis call expected");
  },
};

function signed(sid: string, secret: string): string {
  return `connect.sid=${encodeURIComponent(`s:${sid}.${createHmac("sha256", secret).update(sid).digest("base64").replace(/=+$/, "")}`)}`;
}

describe("fromConnectRedis(options)", () => {
  const source = fromConnectRedis({ client, secret: ["current", "previous"] });

  it("finds the key of a cookie signed with any of the secrets", () => {
    expect(source.keyOf(signed("abc", "current"))).toBe("sess:abc");
    expect(source.keyOf(`other=1; ${signed("def", "previous")}`)).toBe("sess:def");
  });

  it("finds none for a bad signature, an unsigned value, a foreign secret or a malformed cookie", () => {
    expect(source.keyOf(signed("abc", "current").replace(/.$/, "x"))).toBeNull();
    expect(source.keyOf(signed("abc", "stranger"))).toBeNull();
    expect(source.keyOf("connect.sid=abc")).toBeNull();
    expect(source.keyOf("connect.sid=%E0%A4%A")).toBeNull();
    expect(source.keyOf(undefined)).toBeNull();
  });

  it("converts every top-level key but cookie, binds passport.user and carries the earlier expiry", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const legacy = { cookie: { expires: "2026-01-01T00:10:00.000Z" }, username: "ada", cart: { mug: 2 }, passport: { user: "u1" } };
    expect(source.convert(legacy, 3_600_000, now)).toEqual({
      fields: { username: "ada", cart: { mug: 2 }, passport: { user: "u1" } },
      userId: "u1",
      expiresBy: now + 600_000,
    });
    expect(source.convert(legacy, 60_000, now)!.expiresBy).toBe(now + 60_000);
    expect(source.convert({ username: "ada" }, -1, now)).toEqual({ fields: { username: "ada" }, userId: null, expiresBy: null });
    expect(source.convert(legacy, 3_600_000, now + 600_000)).toBeNull(); // already expired
  });

  it("uses the fields and userOf hooks", () => {
    const mapped = fromConnectRedis({ client, secret: "s", fields: (legacy) => ({ name: legacy.username }), userOf: (legacy) => String(legacy.username) });
    expect(mapped.convert({ username: "ada", other: 1 }, 1000, 0)).toEqual({ fields: { name: "ada" }, userId: "ada", expiresBy: 1000 });
  });

  it("throws CONFIG_INVALID for a missing client or an empty secret, naming the option and never the secret", () => {
    expect(() => fromConnectRedis({ client: {} as never, secret: "s" })).toThrow(/legacy\.client/);
    expect(() => fromConnectRedis({ client, secret: [] })).toThrow(/legacy\.secret/);
    expect(() => fromConnectRedis({ client, secret: ["ok", ""] })).toThrow(/legacy\.secret/);
    expect(() => fromConnectRedis({ client, secret: "s3cr3t", prefix: 1 as never })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.not.stringMatching(/s3cr3t/) }));
  });
});

describe("fromKoaRedis(options)", () => {
  const source = fromKoaRedis({ client, keys: ["current", "previous"] });
  const sig = (value: string, key: string) => createHmac("sha1", key).update(`koa.sess=${value}`).digest("base64url");

  it("finds the external key of a cookie whose Keygrip signature matches any key", () => {
    expect(source.keyOf(`koa.sess=ext-1; koa.sess.sig=${sig("ext-1", "previous")}`)).toBe("ext-1");
    expect(source.keyOf(`koa.sess=ext-1; koa.sess.sig=${sig("ext-2", "current")}`)).toBeNull();
    expect(source.keyOf("koa.sess=ext-1")).toBeNull();
  });

  it("drops koa-session's own keys and carries _expire", () => {
    expect(source.convert({ _expire: 5000, _maxAge: 5000, name: "ada" }, 15_000, 0)).toEqual({ fields: { name: "ada" }, userId: null, expiresBy: 5000 });
  });
});

describe("createSessionManager({ legacy })", () => {
  it("throws CONFIG_INVALID for something that is not a legacy source", () => {
    expect(() => createSessionManager({ driver: createMemoryDriver(), legacy: {} as never })).toThrow(/fromConnectRedis/);
  });
});

import { describe, expect, it } from "vitest";
import { createCookieConfig, readCookie, serializeClearingCookie, serializeSessionCookie } from "../src/index.js";

describe("serializeSessionCookie", () => {
  it("is HttpOnly, SameSite=Lax, Path=/, with no Secure over plain HTTP by default", () => {
    const cookie = serializeSessionCookie(createCookieConfig(), false, "TOKEN", 61_000, 1_000);
    expect(cookie).toBe(`sess=TOKEN; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Expires=${new Date(61_000).toUTCString()}`);
  });

  it("is Secure and named with the __Host- prefix on a secure request", () => {
    const cookie = serializeSessionCookie(createCookieConfig(), true, "TOKEN", 61_000, 1_000);
    expect(cookie.startsWith("__Host-sess=TOKEN; Path=/; HttpOnly; Secure; SameSite=Lax")).toBe(true);
  });

  it("derives Max-Age from the store expiry, rounding down so the cookie never outlives the session", () => {
    const cookie = serializeSessionCookie(createCookieConfig(), false, "T", 10_999, 1_000);
    expect(cookie).toContain("Max-Age=9;");
  });

  it("has no Max-Age or Expires when the cookie is not persistent", () => {
    const cookie = serializeSessionCookie(createCookieConfig({ persistent: false }), false, "T", 10_000, 0);
    expect(cookie).not.toMatch(/Max-Age|Expires/);
  });

  it("carries the domain and no prefix when a domain is set", () => {
    const config = createCookieConfig({ domain: "example.com", secure: true, sameSite: "strict" });
    expect(serializeSessionCookie(config, true, "T", 10_000, 0)).toMatch(
      /^sess=T; Path=\/; Domain=example\.com; HttpOnly; Secure; SameSite=Strict; Max-Age=10/,
    );
  });
});

describe("serializeClearingCookie", () => {
  it("clears the cookie with the same name and attributes", () => {
    const config = createCookieConfig();
    expect(serializeClearingCookie(config, true)).toBe(
      "__Host-sess=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    );
  });
});

describe("createCookieConfig", () => {
  it.each([
    ["cookie.name", { name: "bad name" }],
    ["cookie.name", { name: "__Host-x" }],
    ["cookie.secure", { secure: "yes" }],
    ["cookie.sameSite", { sameSite: "loose" }],
    ["cookie.sameSite", { sameSite: "none" }],
    ["cookie.path", { path: "nope" }],
    ["cookie.domain", { domain: "a;b" }],
    ["cookie.hostPrefix", { hostPrefix: true, path: "/app" }],
    ["cookie.persistent", { persistent: "yes" }],
  ])("throws CONFIG_INVALID naming %s", (option, options) => {
    expect(() => createCookieConfig(options as never)).toThrow(`"${option}"`);
  });
});

describe("readCookie", () => {
  it("finds every value of the named cookie among others", () => {
    expect(readCookie("a=1; sess=X; b=2;sess=Y", "sess")).toEqual(["X", "Y"]);
  });

  it("does not match a cookie whose name only ends with the name", () => {
    expect(readCookie("xsess=1; sessx=2", "sess")).toEqual([]);
  });

  it("returns nothing for a missing header", () => {
    expect(readCookie(undefined, "sess")).toEqual([]);
  });

  it("strips spaces and tabs around names and values, and nothing else", () => {
    expect(readCookie("sess=X", "sess")).toEqual(["X"]);
    expect(readCookie("a=1;\t sess \t= X\t;b=2; sess=Y ", "sess")).toEqual(["X", "Y"]);
    expect(readCookie("sess= X;sess=Y\t;sess=\tZ", "sess")).toEqual(["X", "Y", "Z"]);
    expect(readCookie("sess=\u00a0X\u00a0; sess=", "sess")).toEqual(["\u00a0X\u00a0", ""]);
  });
});

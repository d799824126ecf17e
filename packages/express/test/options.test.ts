import { describe, expect, it } from "vitest";
import { createSessionManager } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { sessionMiddleware, type SessionMiddlewareOptions } from "../src/index.js";

function messageOf(options: Record<string, unknown>): string {
  try {
    sessionMiddleware(options as unknown as SessionMiddlewareOptions);
  } catch (error) {
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    return (error as Error).message;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("sessionMiddleware(options) with an option sess does not know", () => {
  it("names what to do instead of the express-session and connect-redis options", () => {
    const driver = createMemoryDriver();
    expect(messageOf({ driver, secret: "keyboard cat" })).toMatch(/"secret".*nothing to sign/);
    expect(messageOf({ driver, resave: false })).toMatch(/"resave"/);
    expect(messageOf({ driver, saveUninitialized: false })).toMatch(/"saveUninitialized"/);
    expect(messageOf({ driver, rolling: true })).toMatch(/renewal is automatic/);
    expect(messageOf({ driver, prefix: "app:" })).toMatch(/"prefix".*driver option/);
    expect(messageOf({ driver, ttl: 1800 })).toMatch(/"ttl".*idleTimeout, in milliseconds/);
    expect(messageOf({ driver, cookie: { maxAge: 60_000 } })).toMatch(/"cookie.maxAge".*idleTimeout and absoluteTimeout/);
    expect(messageOf({ driver, cookie: { httpOnly: false } })).toMatch(/"cookie.httpOnly".*always HttpOnly/);
  });

  it("suggests the nearest option for a misspelt one, adapter options included", () => {
    const driver = createMemoryDriver();
    expect(messageOf({ driver, trustproxy: true })).toMatch(/did you mean trustProxy\?/);
    expect(messageOf({ driver, absoluteTimout: 60_000 })).toMatch(/did you mean absoluteTimeout\?/);
  });

  it("refuses manager options next to an existing manager", () => {
    const manager = createSessionManager({ driver: createMemoryDriver() });
    expect(messageOf({ manager, idleTimeout: 60_000 })).toMatch(/"idleTimeout".*createSessionManager/);
    expect(() => sessionMiddleware({ manager, trustProxy: true })).not.toThrow();
  });

  it("warns once when a duration looks like seconds", () => {
    const warnings: string[] = [];
    sessionMiddleware({ driver: createMemoryDriver(), idleTimeout: 1800, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/^idleTimeout is 1800 ms: sess durations are in milliseconds/)]);
  });
});

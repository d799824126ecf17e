import { describe, expect, it } from "vitest";
import { createSessionManager } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { sessionMiddleware, type SessionMiddlewareOptions } from "../src/index.js";

// The checks live in @sess/core (options.ts, used by createAdapterCore); the Express tests cover
// every hint. Here: the Koa middleware runs them too.
describe("sessionMiddleware(options) with an option sess does not know", () => {
  it.each([
    [{ secret: "keyboard cat" }, /"secret".*nothing to sign/],
    [{ cookie: { httpOnly: false } }, /"cookie.httpOnly".*always HttpOnly/],
    [{ trustproxy: true }, /did you mean trustProxy\?/],
  ])("throws CONFIG_INVALID for %o", (extra, message) => {
    const options = { driver: createMemoryDriver(), ...extra } as unknown as SessionMiddlewareOptions;
    expect(() => sessionMiddleware(options)).toThrow(message);
  });

  it("refuses manager options next to an existing manager", () => {
    const manager = createSessionManager({ driver: createMemoryDriver() });
    const options = { manager, idleTimeout: 60_000 } as unknown as SessionMiddlewareOptions;
    expect(() => sessionMiddleware(options)).toThrow(/"idleTimeout".*createSessionManager/);
  });
});

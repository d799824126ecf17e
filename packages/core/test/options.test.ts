import { describe, expect, it } from "vitest";
import { createSessionManager, type SessionManagerOptions } from "../src/index.js";
import { createAdapterCore } from "../src/adapter.js";
import { createMemoryDriver } from "../src/memory.js";

function build(options: Record<string, unknown>, warnings: string[] = []) {
  return createSessionManager({ driver: createMemoryDriver(), onWarning: (m) => warnings.push(m), ...options } as SessionManagerOptions);
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    return (error as Error).message;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("createSessionManager(options) with an option sess does not know", () => {
  it.each([
    ["ttl", 1800, /"ttl".*idleTimeout, in milliseconds.*seconds/],
    ["maxAge", 86_400_000, /"maxAge".*absoluteTimeout/],
    ["rolling", true, /"rolling".*renewal is automatic/],
    ["secret", "keyboard cat", /"secret".*nothing to sign/],
    ["resave", false, /"resave".*only the fields a request changed/],
    ["saveUninitialized", false, /"saveUninitialized".*nothing is stored until/],
    ["prefix", "myapp:", /"prefix".*driver option.*createIoredisDriver\(\{ client, prefix \}\)/],
    ["store", {}, /"store".*driver: createIoredisDriver/],
    ["idleTimout", 1000, /"idleTimout".*did you mean idleTimeout\?/],
    ["operationTimeOut", 1000, /did you mean operationTimeout\?/],
  ])("throws CONFIG_INVALID for %s naming what to use instead", (key, value, message) => {
    expect(messageOf(() => build({ [key]: value }))).toMatch(message);
  });

  it.each([
    [{ maxAge: 3600_000 }, /"cookie.maxAge".*Max-Age follows the session's store expiry/],
    [{ httpOnly: false }, /"cookie.httpOnly".*always HttpOnly/],
    [{ sameSit: "lax" }, /"cookie.sameSit".*did you mean cookie.sameSite\?/],
  ])("throws CONFIG_INVALID for cookie %o", (cookie, message) => {
    expect(messageOf(() => build({ cookie }))).toMatch(message);
  });

  it("checks limits, header, recordDevice and bind keys too", () => {
    expect(messageOf(() => build({ limits: { maxSize: 10 } }))).toMatch(/"limits.maxSize"/);
    expect(messageOf(() => build({ header: { nme: "x-token" } }))).toMatch(/did you mean header.name\?/);
    expect(messageOf(() => build({ recordDevice: { userAgnt: true } }))).toMatch(/recordDevice.userAgent/);
    expect(messageOf(() => build({ bind: { ip: 24 } }))).toMatch(/"bind.ip".*bind.ipPrefix/);
  });
});

describe("createSessionManager(options) with a duration that looks like seconds", () => {
  it("warns that durations are in milliseconds for a lifetime under a minute or a renewal throttle under a second", () => {
    const warnings: string[] = [];
    build({ idleTimeout: 1800, absoluteTimeout: 3_600_000 }, warnings);
    build({ idleTimeout: 120_000, absoluteTimeout: 3_600_000, renewAfter: 60 }, warnings);
    build({ idleTimeout: 120_000, absoluteTimeout: 3_600_000, renewAfter: 1000 }, warnings);
    expect(warnings).toEqual([
      "idleTimeout is 1800 ms: sess durations are in milliseconds (1800 seconds would be idleTimeout: 1_800_000)",
      "renewAfter is 60 ms: sess durations are in milliseconds (60 seconds would be renewAfter: 60_000)",
    ]);
  });
});

describe("createAdapterCore(options)", () => {
  it("throws CONFIG_INVALID for an unknown key, as the manager does", () => {
    expect(messageOf(() => createAdapterCore({ driver: createMemoryDriver(), ...({ secret: "s" } as object) }, "request"))).toMatch(
      /"secret"/,
    );
  });

  it("throws CONFIG_INVALID for a manager option next to an existing manager", () => {
    const manager = build({});
    expect(messageOf(() => createAdapterCore({ manager, ...({ idleTimeout: 60_000 } as object) }, "request"))).toMatch(
      /"idleTimeout".*createSessionManager/,
    );
  });
});

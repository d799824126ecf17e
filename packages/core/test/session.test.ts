import { describe, expect, it } from "vitest";
import { createSessionManager } from "../src/index.js";
import { createMemoryDriver } from "../src/memory.js";

async function openSession() {
  const manager = createSessionManager({ driver: createMemoryDriver() });
  return (await manager.open({ header: () => undefined, secure: false })).session;
}

describe("session property assignment", () => {
  it("throws a TypeError naming set() in strict code", async () => {
    const session = await openSession();
    expect(() => {
      (session as unknown as Record<string, unknown>).role = "admin";
    }).toThrow(/would not be saved.*session\.set\("role", value\)/);
    expect(session.all()).toEqual({});
  });

  it("throws the same TypeError in sloppy-mode code, where a non-extensible object would stay silent", async () => {
    const session = await openSession();
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a Function body is sloppy-mode code
    const assign = new Function("session", "name", "session[name] = 'ada';") as (s: unknown, name: string) => void;
    expect(() => assign(session, "username")).toThrow(/session\.set\("username", value\)/);
    expect(() => assign(session, "userId")).toThrow(/read-only.*session\.login\(userId\)/);
    expect(() => assign(session, "id")).toThrow(/read-only/);
    expect(session.userId).toBeNull();
  });

  it("leaves methods, accessors and Object.prototype members working", async () => {
    const session = await openSession();
    session.set("role", "admin");
    expect(session.get("role")).toBe("admin");
    expect(session.isNew).toBe(true);
    expect(String(session)).toBe("[object Object]");
    expect(Object.prototype.hasOwnProperty.call(session, "role")).toBe(false);
  });
});

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
    // A Function body is sloppy-mode code.
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

describe("set(field, undefined)", () => {
  it("removes the field, as unset does", async () => {
    const session = await openSession();
    session.set("username", "ada");
    session.set("username", undefined);
    expect(session.has("username")).toBe(false);
    expect(session.all()).toEqual({});
  });
});

describe("regenerate() and login()", () => {
  it("make session.id the id the commit moves the session to", async () => {
    const manager = createSessionManager({ driver: createMemoryDriver() });
    const first = await manager.open({ header: () => undefined, secure: false });
    first.session.set("n", 1);
    const cookie = (await first.commit()).headers.find(([name]) => name === "set-cookie")![1].split(";")[0]!;
    const oldId = first.session.id;

    const second = await manager.open({ header: (name) => (name === "cookie" ? cookie : undefined), secure: false });
    expect(second.session.id).toBe(oldId);
    second.session.regenerate();
    const pending = second.session.id;
    expect(pending).not.toBe(oldId);
    expect(pending!.slice(0, 8)).toBe(oldId!.slice(0, 8)); // same slot tag
    second.session.login("ada");
    expect(second.session.id).toBe(pending);
    await second.commit();
    expect(second.session.id).toBe(pending);
    expect(await manager.driver.load(pending!)).not.toBeNull();
    expect(await manager.driver.load(oldId!)).toBeNull();
  });

  it("give a new session its id before the commit", async () => {
    const manager = createSessionManager({ driver: createMemoryDriver() });
    const open = await manager.open({ header: () => undefined, secure: false });
    expect(open.session.id).toBeNull();
    open.session.login("ada");
    const pending = open.session.id;
    expect(pending).not.toBeNull();
    await open.commit();
    expect((await manager.driver.load(pending!))?.userId).toBe("ada");
  });
});

describe("destroy() when the store is down", () => {
  it("rejects the commit with STORE_UNAVAILABLE that carries the clearing cookie", async () => {
    const driver = createMemoryDriver();
    const manager = createSessionManager({ driver });
    const first = await manager.open({ header: () => undefined, secure: false });
    first.session.set("n", 1);
    const cookie = (await first.commit()).headers.find(([name]) => name === "set-cookie")![1].split(";")[0]!;
    const open = await manager.open({ header: (name) => (name === "cookie" ? cookie : undefined), secure: false });
    driver.destroy = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    open.session.destroy();
    const error = await open.commit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", status: 503 });
    expect((error as { headers: Record<string, string> }).headers["set-cookie"]).toMatch(/^sess=; .*Max-Age=0/);
  });
});

import { describe, expect, expectTypeOf, it } from "vitest";
import { createSessionManager, type DeepReadonly, type RequestInfo, type SessionManager } from "../src/index.js";
import { createMemoryDriver } from "../src/memory.js";

interface Shop {
  username: string;
  [k: `cart:${string}`]: number;
  [k: `pref:${string}`]: { value: string };
}

function request(cookie?: string): RequestInfo {
  return { header: (name) => (name === "cookie" ? cookie : undefined), secure: false };
}

async function cookieOf(manager: SessionManager<Shop>, write: (s: Awaited<ReturnType<SessionManager<Shop>["open"]>>["session"]) => void, cookie?: string) {
  const open = await manager.open(request(cookie));
  write(open.session);
  const headers = (await open.commit()).headers;
  return headers.find(([name]) => name === "set-cookie")?.[1].split(";")[0] ?? cookie!;
}

describe("session.map(name)", () => {
  it("keeps one field per entry and reads them back by key", async () => {
    const manager = createSessionManager<Shop>({ driver: createMemoryDriver() });
    const cookie = await cookieOf(manager, (s) => {
      const cart = s.map("cart");
      expect(cart.increment("mug")).toBe(1);
      expect(cart.increment("mug", 2)).toBe(3);
      cart.set("pen", 5);
      s.map("pref").set("theme", { value: "dark" });
    });
    const open = await manager.open(request(cookie));
    const cart = open.session.map("cart");
    expect(cart.all()).toEqual({ mug: 3, pen: 5 });
    expect(open.session.all()).toEqual({ "cart:mug": 3, "cart:pen": 5, "pref:theme": { value: "dark" } });
    expect(cart.get("mug")).toBe(3);
    expect(cart.has("tea")).toBe(false);
    cart.delete("pen");
    expect(cart.all()).toEqual({ mug: 3 });
    cart.clear();
    expect(cart.all()).toEqual({});
    expect(open.session.map("pref").get("theme")).toEqual({ value: "dark" });
  });

  it("loses no entry when concurrent requests each add a different one", async () => {
    const manager = createSessionManager<Shop>({ driver: createMemoryDriver() });
    const cookie = await cookieOf(manager, (s) => s.set("username", "ada"));
    const opened = await Promise.all(Array.from({ length: 10 }, () => manager.open(request(cookie))));
    opened.forEach((open, i) => open.session.map("cart").increment(`sku${i}`));
    await Promise.all(opened.map((open) => open.commit()));
    const after = await manager.open(request(cookie));
    expect(Object.keys(after.session.map("cart").all())).toHaveLength(10);
  });

  it("is typed from the session interface", async () => {
    const manager = createSessionManager<Shop>({ driver: createMemoryDriver() });
    const { session } = await manager.open(request());
    expectTypeOf(session.map("cart").get("mug")).toEqualTypeOf<number | undefined>();
    expectTypeOf(session.map("pref").all()).toEqualTypeOf<Record<string, DeepReadonly<{ value: string }>>>();
    // @ts-expect-error: "username" is not a map
    expect(() => session.map("username")).not.toThrow();
    // @ts-expect-error: cart entries are numbers
    session.map("cart").set("mug", "two");
  });

  it("refuses an empty key and a map name with a colon", async () => {
    const manager = createSessionManager({ driver: createMemoryDriver() });
    const { session } = await manager.open(request());
    expect(() => session.map("cart").set("", 1)).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
    expect(() => session.map("a:b")).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
  });
});

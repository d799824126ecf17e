import { afterEach, describe, expect, it, vi } from "vitest";
import { createStoreCalls } from "../src/deadline.js";
import { SessionError } from "../src/errors.js";
import type { SessionDriver } from "../src/driver.js";

const driver = { name: "test" } as SessionDriver;
const never = () => new Promise<never>(() => undefined);
const after = <V>(ms: number, value: V) => () => new Promise<V>((resolve) => setTimeout(() => resolve(value), ms));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createStoreCalls: the per-operation deadline", () => {
  it("arms one timer for many operations in flight, not one each", async () => {
    const { call } = createStoreCalls(driver, 1_000, { closed: false });
    const timers = vi.spyOn(globalThis, "setTimeout");
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call("load", () => Promise.resolve(i))));
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(timers.mock.calls.filter(([, ms]) => ms === 1_000)).toHaveLength(1);
  });

  it("fails each stuck operation at its own deadline, while the ones that answer in time resolve", async () => {
    const { call } = createStoreCalls(driver, 80, { closed: false });
    const started = performance.now();
    const first = call("load", never).catch((error: unknown) => [error, performance.now() - started] as const);
    await new Promise((resolve) => setTimeout(resolve, 40));
    const second = call("update", never).catch((error: unknown) => [error, performance.now() - started] as const);
    const answered = call("load", after(20, "ok"));
    expect(await answered).toBe("ok");
    const [firstError, firstAt] = await first;
    const [secondError, secondAt] = await second;
    for (const error of [firstError, secondError]) {
      expect(error).toBeInstanceOf(SessionError);
      expect((error as SessionError).code).toBe("STORE_UNAVAILABLE");
    }
    expect((firstError as SessionError).message).toMatch(/did not answer load within 80 ms/);
    expect((secondError as SessionError).message).toMatch(/did not answer update within 80 ms/);
    expect(firstAt).toBeGreaterThanOrEqual(79);
    expect(secondAt).toBeGreaterThanOrEqual(40 + 79);
  });

  it("keeps failing stuck operations on time after a quiet spell", async () => {
    const { call } = createStoreCalls(driver, 30, { closed: false });
    await call("load", () => Promise.resolve(1));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const started = performance.now();
    const error = (await call("load", never).catch((e: unknown) => e)) as SessionError;
    expect(error.code).toBe("STORE_UNAVAILABLE");
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("turns a late failure into nothing (no unhandled rejection) and a driver failure into STORE_UNAVAILABLE with its cause", async () => {
    const { call } = createStoreCalls(driver, 20, { closed: false });
    const late = call("load", () => new Promise((_, reject) => setTimeout(() => reject(new Error("late")), 50)));
    expect(((await late.catch((e: unknown) => e)) as SessionError).message).toMatch(/within 20 ms/);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const cause = new Error("ECONNREFUSED");
    const failed = (await call("load", () => Promise.reject(cause)).catch((e: unknown) => e)) as SessionError;
    expect(failed.code).toBe("STORE_UNAVAILABLE");
    expect(failed.cause).toBe(cause);
  });
});

import { describe, expect, it } from "vitest";
import { createSessionManager } from "../src/index.js";
import { createMemoryDriver } from "../src/memory.js";
import { recordingDriver } from "./recording.js";

describe("manager.health()", () => {
  it("answers ok with the latency of the driver's ping", async () => {
    const recorded = recordingDriver();
    const manager = createSessionManager({ driver: recorded.driver });
    const health = await manager.health();
    expect(health).toMatchObject({ ok: true });
    expect(health.latency).toBeGreaterThanOrEqual(0);
    expect(recorded.methods()).toEqual(["ping"]);
  });

  it("reads a session id that cannot exist when the driver has no ping", async () => {
    const { ping: _ping, ...driver } = createMemoryDriver();
    let loads = 0;
    const manager = createSessionManager({ driver: { ...driver, name: "no-ping", load: (id) => (loads++, driver.load(id)) } });
    expect(await manager.health()).toMatchObject({ ok: true });
    expect(loads).toBe(1);
  });

  it("answers not ok, without rejecting, when the store fails or misses the deadline", async () => {
    const { driver } = recordingDriver();
    const failing = createSessionManager({ driver: { ...driver, ping: () => Promise.reject(new Error("ECONNREFUSED")) } });
    expect(await failing.health()).toMatchObject({ ok: false, error: "STORE_UNAVAILABLE" });
    const frozen = createSessionManager({ driver: { ...driver, ping: () => new Promise(() => undefined) }, operationTimeout: 30 });
    const health = await frozen.health();
    expect(health).toMatchObject({ ok: false, error: "STORE_UNAVAILABLE" });
    expect(health.latency).toBeGreaterThanOrEqual(25);
  });

  it("answers CLOSED once the manager is closed", async () => {
    const manager = createSessionManager({ driver: recordingDriver().driver });
    await manager.close();
    expect(await manager.health()).toMatchObject({ ok: false, error: "CLOSED" });
  });
});

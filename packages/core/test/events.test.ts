import { describe, expect, it } from "vitest";
import { describeSessionEvents } from "@sess/driver-conformance";
import { createSessionManager, newToken, sessionIdOf, type RequestInfo, type SessionDriver, type SessionEvent } from "../src/index.js";
import { createMemoryDriver } from "../src/memory.js";

describeSessionEvents({ name: "memory", createDriver: () => createMemoryDriver() });

const request = (token: string): RequestInfo => ({ header: (name) => (name === "cookie" ? `sess=${token}` : undefined), secure: false });

describe("onEvent", () => {
  describe("when the store fails or does not answer", () => {
    it("reports the operation, the public session id and the store's own error code, never the error message", async () => {
      const memory = createMemoryDriver();
      const token = newToken();
      const refused = Object.assign(new Error(`connect ECONNREFUSED while reading ${token}`), { code: "ECONNREFUSED" });
      const failing: SessionDriver = { ...memory, load: () => Promise.reject(refused) };
      const frozen: SessionDriver = { ...memory, endUserSessions: () => new Promise(() => undefined) };
      const events: SessionEvent[] = [];
      const onEvent = (event: SessionEvent) => events.push(event);
      await expect(createSessionManager({ driver: failing, onEvent }).open(request(token))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      await expect(createSessionManager({ driver: frozen, onEvent, operationTimeout: 30 }).endUserSessions("u1")).rejects.toMatchObject({
        code: "STORE_UNAVAILABLE",
      });
      expect(events).toEqual([
        { type: "unavailable", operation: "load", sessionId: sessionIdOf(token), errorCode: "STORE_UNAVAILABLE", storeCode: "ECONNREFUSED" },
        { type: "unavailable", operation: "endUserSessions", sessionId: null, errorCode: "STORE_UNAVAILABLE", storeCode: "TIMEOUT" },
      ]);
      expect(JSON.stringify(events)).not.toContain(token);
    });
  });

  describe("when nobody listens", () => {
    it("builds no event: a store failure is not inspected", async () => {
      let inspected = 0;
      const failure = new Proxy(new Error("down"), {
        get(target, property, receiver) {
          if (property === "code") inspected++;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const driver: SessionDriver = { ...createMemoryDriver(), load: () => Promise.reject(failure) };
      await expect(createSessionManager({ driver }).open(request(newToken()))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(inspected).toBe(0);
      await expect(createSessionManager({ driver, onEvent: () => {} }).open(request(newToken()))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(inspected).toBeGreaterThan(0);
    });
  });
});

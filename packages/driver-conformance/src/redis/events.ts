import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionManager, sessionIdOf, type SessionEvent, type SessionManager } from "@sess/core";
import { request, tokenOf } from "../events.js";
import { until, type FaultHarness } from "./faults.js";
import type { RedisServerHandle } from "./harness.js";

/** The `unavailable` event, produced by a real redis-server killed under a connected client. */
export function describeUnavailableEvents<C>(harness: FaultHarness<C>): void {
  describe(`the unavailable event on ${harness.name}`, () => {
    let server: RedisServerHandle;
    let client: C | undefined;
    let manager: SessionManager<Record<string, unknown>>;
    const events: SessionEvent[] = [];

    beforeAll(async () => {
      server = await harness.startServer();
      const connecting = await harness.connect(server.url);
      client = connecting;
      await until(() => harness.isReady(connecting), 5_000);
      const driver = harness.createDriver(connecting, { prefix: `e${Math.random().toString(36).slice(2, 10)}` });
      manager = createSessionManager({ driver, operationTimeout: 500, onEvent: (event) => events.push(event) });
    });

    afterAll(async () => {
      if (client !== undefined) harness.close(client);
      await server?.stop();
    });

    describe("when Redis is stopped", () => {
      it("reports each failed operation with its public session id and a store code, never the token", async () => {
        const opened = await manager.open(request());
        opened.session.login("u1");
        const token = tokenOf((await opened.commit()).headers);
        events.length = 0;
        server.kill("SIGKILL");
        await until(() => !harness.isReady(client!), 2_000);
        await expect(manager.open(request(token))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
        await expect(manager.endUserSessions("u1")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
        console.log(`${harness.name}: unavailable events with Redis stopped: ${JSON.stringify(events.map((event) => event.type === "unavailable" && event.storeCode))}`);
        expect(events).toMatchObject([
          { type: "unavailable", operation: "load", sessionId: sessionIdOf(token), errorCode: "STORE_UNAVAILABLE" },
          { type: "unavailable", operation: "endUserSessions", sessionId: null, errorCode: "STORE_UNAVAILABLE" },
        ]);
        for (const event of events) {
          if (event.type !== "unavailable") throw new Error(`unexpected event ${event.type}`);
          expect(event.storeCode === null || /^[A-Z][A-Z0-9_]{1,31}$/.test(event.storeCode)).toBe(true);
        }
        expect(JSON.stringify(events)).not.toContain(token);
      });
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, sessionIdOf } from "@sess/core";
import type { SessionDriver } from "@sess/core";
import type { RedisClientHarness, RedisServerHandle } from "./harness.js";

/**
 * What `describeFaultRecovery` needs. `connect(url)` is the client on its defaults (no options given):
 * it may resolve while the client is still connecting; the suite waits up to 5 s for `isReady`.
 */
export type FaultHarness<C> = Pick<RedisClientHarness<C>, "name" | "startServer" | "connect" | "isReady" | "close" | "createDriver">;

function session() {
  const now = Date.now();
  return { fields: { a: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null };
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One driver on one client through a killed (SIGKILL, then restart) and a frozen (SIGSTOP) Redis. */
export function describeFaultRecovery<C>(harness: FaultHarness<C>): void {
  let server: RedisServerHandle;
  let client: C | undefined;
  let driver: SessionDriver;

  async function loads(id: string): Promise<boolean> {
    try {
      return (await driver.load(id)) !== null;
    } catch {
      return false;
    }
  }

  beforeAll(async () => {
    server = await harness.startServer();
    const connecting = await harness.connect(server.url);
    client = connecting;
    await until(() => harness.isReady(connecting), 5_000);
    driver = harness.createDriver(connecting, { prefix: `f${Math.random().toString(36).slice(2, 10)}` });
  });

  afterAll(async () => {
    if (client !== undefined) harness.close(client);
    await server?.stop();
  });

  describe("load", () => {
    describe("when Redis is stopped", () => {
      it("rejects with STORE_UNAVAILABLE in under 100 ms, then works again within 2 s of a restart", async () => {
        const id = sessionIdOf(newToken());
        expect(await driver.create(id, session())).not.toBeNull();
        server.kill("SIGKILL");
        await until(() => !harness.isReady(client!), 2_000);
        const started = performance.now();
        await expect(driver.load(id)).rejects.toMatchObject({ name: "SessionError", code: "STORE_UNAVAILABLE" });
        const elapsed = performance.now() - started;
        console.log(`${harness.name}: load with Redis stopped rejected in ${elapsed.toFixed(1)} ms`);
        expect(elapsed).toBeLessThan(100);

        await server.restart();
        const fresh = sessionIdOf(newToken());
        const recovered = await until(async () => {
          try {
            return (await driver.create(fresh, session())) !== null;
          } catch {
            return false;
          }
        }, 2_000);
        console.log(`${harness.name}: same driver worked again ${recovered} ms after the restart`);
        expect(await loads(fresh)).toBe(true);
      });
    });

    describe("when Redis is frozen (SIGSTOP)", () => {
      it("completes once Redis resumes, and the same driver keeps working", async () => {
        const id = sessionIdOf(newToken());
        await until(async () => {
          try {
            return (await driver.create(id, session())) !== null;
          } catch {
            return false;
          }
        }, 2_000);
        server.pause();
        let settled = false;
        const pending = driver.load(id).finally(() => {
          settled = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBe(false);
        server.resume();
        expect((await pending)?.fields).toEqual({ a: "1" });
        expect(await loads(id)).toBe(true);
      });
    });
  });
}

import { afterAll, describe, expect, it } from "vitest";
import type { RedisClientHarness, RedisServerHandle } from "./harness.js";

/** What `describeReady` needs: a client that starts connecting (in the background, errors handled) as an app creates it at boot. */
export interface ReadyHarness<C> extends Pick<RedisClientHarness<C>, "name" | "startServer" | "close" | "createDriver"> {
  /** A client of `url` that connects in the background and keeps retrying, its 'error' events handled; not awaited. */
  connectInBackground(url: string): C;
}

/** `driver.ready({ timeout })` and the cause of "not ready" errors, with Redis down at boot and then up. */
export function describeReady<C>(harness: ReadyHarness<C>): void {
  const servers: RedisServerHandle[] = [];
  const clients: C[] = [];
  afterAll(async () => {
    for (const client of clients) harness.close(client);
    await Promise.all(servers.map((server) => server.stop()));
  });

  describe("driver.ready({ timeout })", () => {
    it("waits for a client created a moment ago, where verify() alone would find it still connecting", async () => {
      const server = await harness.startServer();
      servers.push(server);
      const client = harness.connectInBackground(server.url);
      clients.push(client);
      const driver = harness.createDriver(client, { prefix: `ready${Math.random().toString(36).slice(2, 8)}` });
      await driver.ready({ timeout: 5000 });
      await expect(driver.verify({ onWarning: () => {} })).resolves.toBeDefined();
      await expect(driver.load("x".repeat(51))).resolves.toBeNull();
    });

    describe("when Redis is down at boot", () => {
      it("rejects after the timeout with STORE_UNAVAILABLE naming host:port and the last connection error as cause, then resolves once Redis is up", async () => {
        const server = await harness.startServer();
        servers.push(server);
        server.kill("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 200));
        const client = harness.connectInBackground(server.url);
        clients.push(client);
        const driver = harness.createDriver(client, { prefix: `ready${Math.random().toString(36).slice(2, 8)}` });
        const { port } = new URL(server.url);

        const started = performance.now();
        const failure = await driver.ready({ timeout: 400 }).then(
          () => null,
          (error: unknown) => error as Error & { code: string; cause?: unknown },
        );
        expect(performance.now() - started).toBeGreaterThanOrEqual(390);
        expect(failure).toMatchObject({ name: "SessionError", code: "STORE_UNAVAILABLE" });
        expect(failure!.message).toContain(`:${port}`);
        expect(failure!.message).toMatch(/last connection error: .*ECONNREFUSED/);
        expect(failure!.cause).toBeInstanceOf(Error);

        const load = await driver.load("x".repeat(51)).then(
          () => null,
          (error: unknown) => error as Error & { cause?: unknown },
        );
        expect(load?.message).toMatch(/not ready.*ECONNREFUSED/);
        expect(load?.cause).toBeInstanceOf(Error);

        await server.restart();
        await driver.ready({ timeout: 10_000 });
        await expect(driver.load("x".repeat(51))).resolves.toBeNull();
      });
    });
  });
}

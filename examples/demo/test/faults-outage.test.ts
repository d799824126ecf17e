/**
 * Redis stopped, frozen (SIGSTOP) and paused (CLIENT PAUSE ALL) under the demo app, each driver on
 * its own private redis-server, with a 300 ms operation deadline. Latency bounds are judged on the
 * median of several requests after a warm-up (two cores are shared with other test files).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "@sess/redis-server";
import { boot, frameworks, redisStore, type Answer, type Booted, type Client } from "./harness.js";

const DEADLINE = 300;
const combos = frameworks.flatMap((framework) => (["ioredis", "node-redis"] as const).map((driver) => [framework, driver] as const));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(client: Client, method: string, path: string, body?: unknown): Promise<{ answer: Answer; ms: number }> {
  const started = performance.now();
  const answer = await client.call(method, path, body);
  return { answer, ms: performance.now() - started };
}

/** Polls until `path` answers 200; resolves the milliseconds it took. */
async function until200(client: Client, method: string, path: string, body: unknown, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answer = await client.call(method, path, body);
    if (answer.status === 200) return performance.now() - started;
    expect(answer.status).toBe(503);
    if (performance.now() - started > limitMs) throw new Error(`${method} ${path} still ${answer.status} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(combos)("the %s demo on %s with its own Redis", (framework, driver) => {
  let server: RedisServer;
  let app: Booted;
  let admin: Redis;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onRejection);
    // appendfsync always: the session written before the kill is there after the restart.
    server = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
    admin = new Redis(server.url, { lazyConnect: true });
    admin.on("error", () => {});
    await admin.connect();
    app = await boot(framework, await redisStore(driver, server.url), { operationTimeout: DEADLINE });
  });

  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    admin?.disconnect();
    await app?.close();
    await server?.stop();
  });

  async function shopper(): Promise<Client> {
    const client = app.client();
    expect((await client.call("POST", "/login", { username: `ada-${framework}-${driver}` })).status).toBe(200);
    expect((await client.call("POST", "/cart", { sku: "mug" })).status).toBe(200);
    for (let i = 0; i < 20; i++) await client.call("GET", "/me"); // warm-up
    return client;
  }

  /** Requests during a fault: each answers 503, with no Set-Cookie; resolves their durations. */
  async function during(client: Client, count: number): Promise<number[]> {
    const durations: number[] = [];
    const requests = [["GET", "/me"], ["POST", "/cart", { sku: "pen" }], ["POST", "/login", { username: "bob" }]] as const;
    for (let i = 0; i < count; i++) {
      const [method, path, body] = requests[i % requests.length]!;
      const { answer, ms } = await timed(client, method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(503);
      expect(answer.body).toEqual({ error: "session store unavailable, try again" });
      expect(answer.setCookie).toEqual([]);
      durations.push(ms);
    }
    return durations;
  }

  describe("GET /me, POST /cart, POST /login when Redis is stopped", () => {
    it("answer 503 with no Set-Cookie in under 100 ms, and 200 within 2 s of Redis coming back, the session intact", async () => {
      const client = await shopper();
      const cookie = client.cookie;
      server.kill("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 200)); // the client sees the connection close
      const durations = await during(client, 9);
      console.log(`${framework}/${driver} stopped: 503 median ${median(durations).toFixed(1)} ms, max ${Math.max(...durations).toFixed(1)} ms`);
      expect(median(durations)).toBeLessThan(100);
      expect((await client.call("GET", "/health")).status).toBe(503);

      await server.restart();
      const recovered = await until200(client, "GET", "/me", undefined, 2_000);
      console.log(`${framework}/${driver} stopped: 200 again ${recovered.toFixed(0)} ms after Redis answered PING`);
      expect(client.cookie).toBe(cookie);
      expect((await client.call("GET", "/me")).body).toMatchObject({ username: `ada-${framework}-${driver}`, cart: { mug: 1 } });
    });
  });

  describe("GET /me, POST /cart, POST /login when Redis is frozen (SIGSTOP)", () => {
    it("answer 503 with no Set-Cookie within the deadline + 50 ms, and 200 within 2 s of SIGCONT", async () => {
      const client = await shopper();
      server.pause();
      let durations: number[];
      try {
        durations = await during(client, 5);
      } finally {
        server.resume();
      }
      console.log(`${framework}/${driver} SIGSTOP: 503 median ${median(durations).toFixed(1)} ms (deadline ${DEADLINE})`);
      expect(median(durations)).toBeGreaterThanOrEqual(DEADLINE - 5);
      expect(median(durations)).toBeLessThan(DEADLINE + 50);
      const recovered = await until200(client, "GET", "/me", undefined, 2_000);
      console.log(`${framework}/${driver} SIGSTOP: 200 again ${recovered.toFixed(0)} ms after SIGCONT`);
      expect((await client.call("POST", "/cart", { sku: "mug" })).body).toEqual({ cart: { mug: 2 } });
    });
  });

  describe("GET /me, POST /cart, POST /login during CLIENT PAUSE ALL", () => {
    it("answer 503 with no Set-Cookie within the deadline + 50 ms, and 200 within 2 s of the pause ending", async () => {
      const client = await shopper();
      const pause = 1_800;
      await admin.call("CLIENT", "PAUSE", String(pause), "ALL");
      const paused = performance.now();
      const durations = await during(client, 4);
      console.log(`${framework}/${driver} CLIENT PAUSE: 503 median ${median(durations).toFixed(1)} ms (deadline ${DEADLINE})`);
      expect(median(durations)).toBeLessThan(DEADLINE + 50);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pause - (performance.now() - paused))));
      const recovered = await until200(client, "GET", "/me", undefined, 2_000);
      console.log(`${framework}/${driver} CLIENT PAUSE: 200 again ${recovered.toFixed(0)} ms after the pause ended`);
      expect(rejections).toEqual([]);
    });
  });
});

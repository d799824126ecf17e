import { afterEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "@sess/redis-server";
import { boot, frameworks, redisStore, type Booted } from "./harness.js";

const combos = frameworks.flatMap((framework) => (["ioredis", "node-redis"] as const).map((driver) => [framework, driver] as const));

describe.each(combos)("the demo on %s with %s when Redis stops", (framework, driver) => {
  let server: RedisServer | undefined;
  let app: Booted | undefined;
  afterEach(async () => {
    await app?.close();
    await server?.stop();
    app = server = undefined;
  });

  it("answers 503 with no cookie within the deadline, and /health answers 503 {ok:false}", async () => {
    server = await startRedisServer();
    app = await boot(framework, await redisStore(driver, server.url));
    const client = app.client();
    expect((await client.call("POST", "/login", { username: "ada" })).status).toBe(200);
    expect((await client.call("POST", "/cart", { sku: "mug" })).status).toBe(200);
    await server.stop();

    for (const [method, path, body] of [["GET", "/me"], ["POST", "/cart", { sku: "pen" }], ["POST", "/login", { username: "bob" }]] as const) {
      const started = Date.now();
      const answer = await client.call(method, path, body);
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: "session store unavailable, try again" });
      expect(answer.setCookie).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1500);
    }
    const health = await client.call("GET", "/health");
    expect(health).toMatchObject({ status: 503, body: { ok: false } });
    expect(health.setCookie).toEqual([]);
  });
});

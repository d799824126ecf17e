/**
 * `MIGRATE_FROM=connect-redis`: a session written by the express-session + connect-redis version of
 * the demo continues, logged in, with its cart and preferences, on every framework and both drivers.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { RedisStore } from "connect-redis";
import express from "express";
import expressSession from "express-session";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readSettings } from "../src/settings.js";
import { bootWith, frameworks, type Framework } from "./harness.js";

const SECRETS = ["rotated-demo-secret", "first-demo-secret"];
let legacyUrl: string;
let legacyServer: Server;
let redis: ReturnType<typeof createClient>;
const prefix = `legacy-demo-${randomBytes(4).toString("hex")}:`;

beforeAll(async () => {
  redis = createClient({ url: inject("redisUrl") });
  await redis.connect();
  // What an express-session version of the demo stores at login and as the cart and preferences change.
  const app = express();
  app.use(expressSession({ store: new RedisStore({ client: redis as never, prefix }), secret: SECRETS[1]!, resave: false, saveUninitialized: false, name: "demo.sid" }));
  app.post("/login/:name", (req, res) => {
    Object.assign(req.session, { username: req.params.name, tenant: "acme", cart: { mug: 2, tea: 1 }, preferences: { theme: "dark" } });
    res.json({ ok: true });
  });
  legacyServer = createServer(app).listen(0, "127.0.0.1");
  await once(legacyServer, "listening");
  legacyUrl = `http://127.0.0.1:${(legacyServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  legacyServer.closeAllConnections();
  legacyServer.close();
  await redis.close();
});

describe("readSettings(env) with MIGRATE_FROM", () => {
  it("reads the secrets, prefix and cookie, with connect-redis's defaults", () => {
    const env = { REDIS_URL: "redis://127.0.0.1:6379", MIGRATE_FROM: "connect-redis", MIGRATE_SECRET: "a,b" };
    expect(readSettings(env).migrate).toEqual({ from: "connect-redis", secrets: ["a", "b"], prefix: "sess:", cookie: "connect.sid" });
    expect(readSettings({ ...env, MIGRATE_PREFIX: "app:", MIGRATE_COOKIE: "sid" }).migrate).toMatchObject({ prefix: "app:", cookie: "sid" });
  });

  it("refuses a missing secret, a missing REDIS_URL and an unknown source, never printing a secret", () => {
    expect(() => readSettings({ REDIS_URL: "redis://x", MIGRATE_FROM: "connect-redis" })).toThrow(/MIGRATE_SECRET/);
    expect(() => readSettings({ MIGRATE_FROM: "connect-redis", MIGRATE_SECRET: "hush" })).toThrow(/REDIS_URL/);
    expect(() => readSettings({ REDIS_URL: "redis://x", MIGRATE_FROM: "koa", MIGRATE_SECRET: "hush" })).toThrow(expect.objectContaining({ message: expect.not.stringMatching(/hush/) }));
  });
});

describe.each(frameworks.flatMap((framework) => (["ioredis", "node-redis"] as const).map((kind) => [framework, kind] as [Framework, typeof kind])))(
  "the demo on %s with %s, MIGRATE_FROM=connect-redis",
  (framework, kind) => {
    it("continues a legacy session logged in, with its cart and preferences, and clears the legacy cookie", async () => {
      const name = `ada${randomBytes(3).toString("hex")}`;
      const legacy = (await fetch(`${legacyUrl}/login/${name}`, { method: "POST" })).headers.getSetCookie()[0]!.split(";")[0]!;
      const booted = await bootWith(framework, kind, inject("redisUrl"), { migrate: { from: "connect-redis", secrets: SECRETS, prefix, cookie: "demo.sid" } });
      try {
        const first = await fetch(`${booted.url}/me`, { headers: { cookie: legacy } });
        expect(first.status).toBe(200);
        expect(await first.json()).toMatchObject({ username: name, tenant: "acme", cart: { mug: 2, tea: 1 }, preferences: { theme: "dark" } });
        const cookies = first.headers.getSetCookie();
        expect(cookies[0]).toMatch(/^sess=/);
        expect(cookies.some((line) => line.startsWith("demo.sid=;"))).toBe(true);
        const token = cookies[0]!.split(";")[0]!;
        const cart = await fetch(`${booted.url}/cart`, { method: "POST", headers: { cookie: token, "content-type": "application/json" }, body: '{"sku":"mug"}' });
        expect(await cart.json()).toEqual({ cart: { mug: 3, tea: 1 } });
        const again = await fetch(`${booted.url}/me`, { headers: { cookie: legacy } });
        expect(again.status).toBe(401); // converted once: the legacy cookie alone is no session any more
      } finally {
        await booted.close();
      }
    });
  },
);

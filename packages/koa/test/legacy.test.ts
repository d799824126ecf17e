/**
 * Switching from koa-session + koa-redis: sessions written by the real legacy packages on a real
 * Redis continue under sess, each converted exactly once under parallel first requests.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import Koa from "koa";
import koaRedis from "koa-redis";
import koaSession from "koa-session";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createIoredisDriver, fromKoaRedis } from "@sess/ioredis";
import { sessionMiddleware } from "../src/index.js";
import { listen } from "./server.js";

interface Shop {
  username: string;
  cart: Record<string, number>;
}

const KEYS = ["new-key-value", "old-key-value"];
const LEGACY_MAX_AGE = 10 * 60_000;
const SESSIONS = 200;

let client: Redis;
beforeAll(async () => {
  client = new Redis(inject("redisUrl"));
  await new Promise((resolve) => client.once("ready", resolve));
});
afterAll(() => {
  client.disconnect();
});

/** The app before the switch: koa-session with koa-redis, signing with the first of its keys. */
function legacyApp(prefix: string): Koa {
  const app = new Koa();
  app.keys = [KEYS[1]!];
  app.use(koaSession({ store: koaRedis({ client }) as never, prefix, maxAge: LEGACY_MAX_AGE }, app));
  app.use((ctx) => {
    const name = ctx.path.slice("/login/".length);
    ctx.session!.username = name;
    ctx.session!.cart = { mug: 2 };
    ctx.session!.passport = { user: name };
    ctx.body = { ok: true };
  });
  return app;
}

function sessApp() {
  const warnings: string[] = [];
  const sessions = sessionMiddleware<Shop>({
    driver: createIoredisDriver({ client, prefix: `sess-${randomBytes(4).toString("hex")}` }),
    legacy: fromKoaRedis({ client, keys: KEYS }),
    onWarning: (message) => warnings.push(message),
  });
  const app = new Koa();
  app.use(sessions);
  app.use((ctx) => {
    const session = sessions.of(ctx);
    ctx.body = { user: session.userId, username: session.get("username") ?? null, cart: session.get("cart") ?? null };
  });
  return { app, warnings };
}

describe("fromKoaRedis with koa-session + koa-redis", () => {
  it(`continues ${SESSIONS} legacy sessions, each converted exactly once under parallel first requests`, async () => {
    const prefix = `koa:${randomBytes(4).toString("hex")}:`;
    const legacyUrl = await listen(legacyApp(prefix));
    const legacy = await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const response = await fetch(`${legacyUrl}/login/user${i}`, { method: "POST" });
        const cookies = response.headers.getSetCookie().map((line) => line.split(";")[0]!);
        expect(cookies).toHaveLength(2);
        return { cookie: cookies.join("; "), key: cookies[0]!.slice("koa.sess=".length) };
      }),
    );
    expect(await client.pttl(legacy[0]!.key)).toBeGreaterThan(LEGACY_MAX_AGE - 30_000);
    const { app, warnings } = sessApp();
    const url = await listen(app);
    await Promise.all(
      legacy.map(async ({ cookie }, i) => {
        const answers = await Promise.all(
          [0, 1].map(async () => {
            const response = await fetch(`${url}/me`, { headers: { cookie } });
            return { body: (await response.json()) as Record<string, unknown>, cookies: response.headers.getSetCookie() };
          }),
        );
        const winners = answers.filter((answer) => answer.body.user === `user${i}`);
        expect(winners, `session ${i}`).toHaveLength(1);
        expect(answers.find((answer) => answer !== winners[0])!.cookies).toEqual([]);
        const winner = winners[0]!;
        expect(winner.body).toEqual({ user: `user${i}`, username: `user${i}`, cart: { mug: 2 } });
        expect(winner.cookies[0]).toMatch(/^sess=/);
        // koa-session adds 10 s to the store TTL; the earlier of TTL and _expire is carried.
        expect(Number(/Max-Age=(\d+)/.exec(winner.cookies[0]!)![1])).toBeLessThanOrEqual(LEGACY_MAX_AGE / 1000);
        expect(winner.cookies.slice(1).map((line) => line.split(";")[0])).toEqual(["koa.sess=", "koa.sess.sig="]);
        const token = winner.cookies[0]!.split(";")[0]!;
        expect(((await (await fetch(`${url}/me`, { headers: { cookie: token } })).json()) as { user: string }).user).toBe(`user${i}`);
      }),
    );
    expect(await client.exists(...legacy.map(({ key }) => key))).toBe(0);
    expect(warnings.join("\n")).not.toMatch(/key-value/);
  }, 60_000);

  it("treats a cookie whose signature does not match as no session", async () => {
    const prefix = `koa:${randomBytes(4).toString("hex")}:`;
    const legacyUrl = await listen(legacyApp(prefix));
    const response = await fetch(`${legacyUrl}/login/mallory`, { method: "POST" });
    const [value, signature] = response.headers.getSetCookie().map((line) => line.split(";")[0]!);
    const key = value!.slice("koa.sess=".length);
    const { app } = sessApp();
    const url = await listen(app);
    for (const cookie of [`${value}; koa.sess.sig=AAAA`, value!, `koa.sess=${key}x; ${signature}`]) {
      const answer = await fetch(`${url}/me`, { headers: { cookie } });
      expect(((await answer.json()) as { user: unknown }).user).toBeNull();
      expect(answer.headers.getSetCookie()).toEqual([]);
    }
    expect(await client.get(key)).toMatch(/mallory/);
  });
});

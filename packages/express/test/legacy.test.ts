/**
 * Switching from express-session + connect-redis: sessions written by the real legacy packages on a
 * real Redis (connect-redis 9 on node-redis, connect-redis 8.1 on ioredis) continue under sess,
 * each converted exactly once under parallel first requests.
 */
import { createHmac, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { RedisStore as RedisStore8 } from "connect-redis-8";
import { RedisStore as RedisStore9 } from "connect-redis-9";
import express from "express";
import expressSession from "express-session";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LegacySource, SessionDriver } from "@sess/core";
import { createIoredisDriver, fromConnectRedis as fromConnectRedisOnIoredis } from "@sess/ioredis";
import { createNodeRedisDriver, fromConnectRedis as fromConnectRedisOnNodeRedis } from "@sess/node-redis";
import { sessionMiddleware, sessionErrorHandler } from "../src/index.js";
import { listen } from "./server.js";

interface Shop {
  username: string;
  tenant: string;
  cart: Record<string, number>;
  preferences: { theme: string };
  visits: number;
}

const SECRETS = ["new-secret-value", "old-secret-value"];
const LEGACY_MAX_AGE = 20 * 60_000;
const SESSIONS = 1000;

/** What both Redis clients offer these tests: plain commands and a sess driver. */
interface Client {
  raw: unknown;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  exists(keys: string[]): Promise<number>;
  keys(pattern: string): Promise<string[]>;
  pttl(key: string): Promise<number>;
  driver(prefix: string): SessionDriver;
  store(prefix: string): expressSession.Store;
  /** The driver package's fromConnectRedis, for `raw`. */
  fromConnectRedis(options: { client: never; secret: string[]; prefix: string }): LegacySource;
  close(): Promise<void>;
}

const clients: Record<string, () => Promise<Client>> = {
  "connect-redis 9 on node-redis": async () => {
    const client = await createClient({ url: inject("redisUrl") }).connect();
    return {
      raw: client,
      get: (key) => client.get(key),
      set: (key, value) => client.set(key, value),
      exists: (keys) => client.exists(keys),
      keys: (pattern) => client.keys(pattern),
      pttl: (key) => client.pTTL(key),
      driver: (prefix) => createNodeRedisDriver({ client, prefix }),
      store: (prefix) => new RedisStore9({ client, prefix }),
      fromConnectRedis: fromConnectRedisOnNodeRedis,
      close: () => client.close(),
    };
  },
  "connect-redis 8.1 on ioredis": async () => {
    const client = new Redis(inject("redisUrl"));
    await new Promise((resolve) => client.once("ready", resolve));
    return {
      raw: client,
      get: (key) => client.get(key),
      set: (key, value) => client.set(key, value),
      exists: (keys) => client.exists(...keys),
      keys: (pattern) => client.keys(pattern),
      pttl: (key) => client.pttl(key),
      driver: (prefix) => createIoredisDriver({ client, prefix }),
      store: (prefix) => new RedisStore8({ client, prefix }),
      fromConnectRedis: fromConnectRedisOnIoredis,
      close: async () => {
        client.disconnect();
      },
    };
  },
};

function cookiesOf(response: Response): string[] {
  return response.headers.getSetCookie();
}

function pairOf(setCookie: string | undefined): string {
  return setCookie?.split(";")[0] ?? "";
}

/** In batches of `size`, to keep sockets bounded. */
async function inBatches<V, R>(items: V[], size: number, run: (item: V, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map((item, at) => run(item, start + at)))));
  }
  return results;
}

describe.each(Object.keys(clients))("fromConnectRedis with %s", (label) => {
  let client: Client;
  let legacyPrefix: string;
  let legacyUrl: string;
  let legacyServer: Server;
  const warnings: string[] = [];

  beforeAll(async () => {
    client = await clients[label]!();
    legacyPrefix = `legacy-${randomBytes(4).toString("hex")}:`;
    // The app before the switch: express-session signing with the first of its secrets.
    const app = express();
    app.use(
      expressSession({
        store: client.store(legacyPrefix),
        secret: SECRETS[1]!,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: LEGACY_MAX_AGE },
      }),
    );
    app.post("/login/:name", (req, res) => {
      const session = req.session as unknown as Record<string, unknown>;
      session.username = req.params.name;
      session.tenant = "acme";
      session.cart = { mug: 2, tea: 1 };
      session.preferences = { theme: "dark" };
      session.passport = { user: req.params.name };
      res.json({ ok: true });
    });
    // Not through listen(): that closes its servers after each test, and this one serves them all.
    legacyServer = createServer(app).listen(0, "127.0.0.1");
    await once(legacyServer, "listening");
    legacyUrl = `http://127.0.0.1:${(legacyServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    legacyServer.closeAllConnections();
    legacyServer.close();
    await client.close();
  });

  async function legacyLogin(name: string): Promise<{ cookie: string; key: string }> {
    const response = await fetch(`${legacyUrl}/login/${name}`, { method: "POST" });
    const cookie = pairOf(cookiesOf(response)[0]);
    const sid = decodeURIComponent(cookie.slice("connect.sid=".length)).slice(2).split(".")[0]!;
    return { cookie, key: legacyPrefix + sid };
  }

  async function sessApp(driver?: SessionDriver) {
    const prefix = `sess-${randomBytes(4).toString("hex")}`;
    const sessions = sessionMiddleware<Shop>({
      driver: driver ?? client.driver(prefix),
      legacy: client.fromConnectRedis({ client: client.raw as never, secret: SECRETS, prefix: legacyPrefix }),
      onWarning: (message) => warnings.push(message),
    });
    const app = express();
    app.use(sessions);
    app.get("/me", (req, res) => {
      const session = sessions.of(req);
      res.json({
        user: session.userId,
        username: session.get("username") ?? null,
        tenant: session.get("tenant") ?? null,
        cart: session.get("cart") ?? null,
        preferences: session.get("preferences") ?? null,
      });
    });
    app.post("/visit", (req, res) => {
      res.json({ visits: sessions.of(req).increment("visits") });
    });
    app.use(sessionErrorHandler());
    return { url: await listen(app), prefix };
  }

  it(`continues ${SESSIONS} legacy sessions, each converted exactly once under parallel first requests`, async () => {
    const legacy = await inBatches(
      Array.from({ length: SESSIONS }, (_, i) => `user${i}`),
      50,
      (name) => legacyLogin(name),
    );
    expect((await client.pttl(legacy[0]!.key)) / 1000).toBeGreaterThan(LEGACY_MAX_AGE / 1000 - 30);
    const { url } = await sessApp();
    const converted = await inBatches(legacy, 25, async ({ cookie }, i) => {
      const answers = await Promise.all(
        [0, 1].map(async () => {
          const response = await fetch(`${url}/me`, { headers: { cookie } });
          return { status: response.status, body: (await response.json()) as Record<string, unknown>, cookies: cookiesOf(response) };
        }),
      );
      const winners = answers.filter((answer) => answer.body.user === `user${i}`);
      expect(winners, `session ${i}`).toHaveLength(1);
      const loser = answers.find((answer) => answer !== winners[0])!;
      expect(loser).toMatchObject({ status: 200, body: { user: null, username: null } });
      expect(loser.cookies).toEqual([]);
      const winner = winners[0]!;
      expect(winner.body).toEqual({ user: `user${i}`, username: `user${i}`, tenant: "acme", cart: { mug: 2, tea: 1 }, preferences: { theme: "dark" } });
      expect(winner.cookies[0]).toMatch(/^sess=/);
      expect(winner.cookies).toContain("connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly");
      return { token: pairOf(winner.cookies[0]), maxAge: Number(/Max-Age=(\d+)/.exec(winner.cookies[0]!)![1]) };
    });
    // The remaining lifetime carried over: never longer than the legacy session's.
    for (const { maxAge } of converted) {
      expect(maxAge).toBeLessThanOrEqual(LEGACY_MAX_AGE / 1000);
      expect(maxAge).toBeGreaterThan(LEGACY_MAX_AGE / 1000 - 120);
    }
    // The legacy keys are gone, and the sessions continue under sess.
    for (let start = 0; start < legacy.length; start += 200) {
      expect(await client.exists(legacy.slice(start, start + 200).map(({ key }) => key))).toBe(0);
    }
    await inBatches(converted, 50, async ({ token }, i) => {
      expect(await (await fetch(`${url}/visit`, { method: "POST", headers: { cookie: token } })).json()).toEqual({ visits: 1 });
      const me = (await (await fetch(`${url}/me`, { headers: { cookie: token } })).json()) as Record<string, unknown>;
      expect(me.user).toBe(`user${i}`);
    });
  }, 120_000);

  it("treats a tampered signature, an unknown sid and a garbled blob as no session, writing nothing", async () => {
    const { url, prefix } = await sessApp();
    const { cookie, key } = await legacyLogin("tampered");
    const original = await client.get(key);
    const tampered = cookie.slice(0, -2) + (cookie.endsWith("AA") ? "BB" : "AA");
    const unknownSid = "nosuchsessionid";
    const signature = createHmac("sha256", SECRETS[0]!).update(unknownSid).digest("base64").replace(/=+$/, "");
    const unknown = `connect.sid=${encodeURIComponent(`s:${unknownSid}.${signature}`)}`;
    const garbledSid = "garbledsession";
    await client.set(legacyPrefix + garbledSid, "{not json");
    const garbledSignature = createHmac("sha256", SECRETS[1]!).update(garbledSid).digest("base64").replace(/=+$/, "");
    const garbled = `connect.sid=${encodeURIComponent(`s:${garbledSid}.${garbledSignature}`)}`;
    for (const header of [tampered, unknown, garbled, "connect.sid=s%3Ajunk", "connect.sid=%E0%A4%A"]) {
      const response = await fetch(`${url}/me`, { headers: { cookie: header } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { user: unknown }).user).toBeNull();
      expect(cookiesOf(response)).toEqual([]);
    }
    expect(await client.get(key)).toBe(original);
    expect(await client.get(legacyPrefix + garbledSid)).toBe("{not json");
    expect(await client.get(legacyPrefix + unknownSid)).toBeNull();
    expect(await client.keys(`${prefix}*`)).toEqual([]);
    expect(warnings.join("\n")).not.toMatch(/secret-value/);
  });

  it("serves a request that finds the conversion under way without a session and refuses its write; a claim past its deadline is taken over", async () => {
    const { url } = await sessApp();
    const { cookie, key } = await legacyLogin("racer");
    const original = (await client.get(key))!;
    const claim = (until: number) => JSON.stringify({ sessMigrating: until, nonce: "elsewhere", original });
    await client.set(key, claim(Date.now() + 60_000));
    const read = await fetch(`${url}/me`, { headers: { cookie } });
    expect(((await read.json()) as { user: unknown }).user).toBeNull();
    expect(cookiesOf(read)).toEqual([]);
    const write = await fetch(`${url}/visit`, { method: "POST", headers: { cookie } });
    expect(write.status).toBe(409);
    expect(cookiesOf(write)).toEqual([]);
    expect(JSON.parse((await client.get(key))!)).toMatchObject({ nonce: "elsewhere", original }); // the claim left as it was
    // The converting process died: once its claim's deadline passed, the next request converts.
    await client.set(key, claim(Date.now() - 1));
    const taken = await fetch(`${url}/me`, { headers: { cookie } });
    expect(((await taken.json()) as { user: unknown }).user).toBe("racer");
    expect(await client.get(key)).toBeNull();
  });

  it("puts the legacy session back when the sess session cannot be stored, and converts it on the next request", async () => {
    const prefix = `sess-${randomBytes(4).toString("hex")}`;
    const inner = client.driver(prefix);
    let failCreate = true;
    const driver: SessionDriver = {
      ...inner,
      create: (id, session) => (failCreate ? Promise.reject(new Error("connection reset")) : inner.create(id, session)),
    };
    const { url } = await sessApp(driver);
    const { cookie, key } = await legacyLogin("unlucky");
    const original = await client.get(key);
    const failed = await fetch(`${url}/me`, { headers: { cookie } });
    expect(failed.status).toBe(503);
    expect(cookiesOf(failed)).toEqual([]);
    expect(await client.get(key)).toBe(original);
    failCreate = false;
    const retried = await fetch(`${url}/me`, { headers: { cookie } });
    expect(((await retried.json()) as { user: unknown }).user).toBe("unlucky");
    expect(await client.get(key)).toBeNull();
  });
});

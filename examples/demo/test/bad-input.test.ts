/**
 * Hostile input through the Express demo, each driver on its own private redis-server: fuzzed
 * cookies over raw HTTP (Redis commands counted with INFO commandstats), corrupt stored data written
 * with the raw client under the library's own key schema, oversized payloads, prototype pollution,
 * and a key prefix made of glob characters.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { sessionIdOf } from "@sess/core";
import { createKeySchema } from "@sess/redis-shared";
import { startRedisServer, type RedisServer } from "@sess/redis-server";
import { openStore } from "../src/store.js";
import { boot, quiet, type Booted, type Client } from "./harness.js";

const FUZZED = 3_000;

function wellFormed(value: string): boolean {
  if (value.length !== 51 || !/^[A-Za-z0-9_-]+$/.test(value)) return false;
  return Buffer.from(value.slice(8), "base64url").toString("base64url") === value.slice(8);
}

/** One raw HTTP/1.1 request with the bytes given; resolves the status code (0 when the server closed without one). */
function rawRequest(port: number, cookie: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on("data", (chunk) => (data += chunk.toString("latin1")));
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.on("error", () => undefined);
    socket.write(Buffer.concat([Buffer.from("GET /me HTTP/1.1\r\nHost: localhost\r\nCookie: sess="), cookie, Buffer.from("\r\nConnection: close\r\n\r\n")]));
  });
}

async function commandCalls(admin: Redis): Promise<number> {
  const info = await admin.info("commandstats");
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (match[1] !== "info") calls += Number(match[2]);
  return calls;
}

function tokenOf(client: Client): string {
  return client.cookie!.slice("sess=".length);
}

describe.each(["ioredis", "node-redis"] as const)("the Express demo on %s with hostile input", (driver) => {
  let server: RedisServer;
  let admin: Redis;
  const apps: Booted[] = [];
  let app: Booted;
  const prefix = "bad";
  const keys = createKeySchema(prefix);

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { lazyConnect: true });
    admin.on("error", () => {});
    await admin.connect();
    app = await boot("express", await openStore({ redisUrl: server.url, driver, prefix }, quiet));
    apps.push(app);
  });
  afterAll(async () => {
    admin?.disconnect();
    await Promise.all(apps.map((booted) => booted.close()));
    await server?.stop();
  });

  describe("GET /me with fuzzed session cookies", () => {
    it("accepts none, never answers 5xx, and sends Redis no command for a malformed one", async () => {
      const owner = app.client();
      await owner.call("POST", "/login", { username: "ada" });
      const token = tokenOf(owner);
      const port = Number(new URL(app.url).port);
      const mutations: Array<() => Buffer> = [
        () => Buffer.from(token.slice(0, Math.floor(Math.random() * 51))),
        () => Buffer.from(token + "A".repeat(1 + Math.floor(Math.random() * 5))),
        () => {
          const bytes = Buffer.from(token);
          bytes[Math.floor(Math.random() * bytes.length)]! ^= 1 << Math.floor(Math.random() * 8);
          return bytes;
        },
        () => Buffer.from(encodeURIComponent(token).replace("A", "%41")),
        () => Buffer.from(Buffer.from(token.slice(8), "base64url").toString("base64") + "=="),
        () => Buffer.from(token.slice(0, 25) + "é" + token.slice(26), "utf8"),
        () => Buffer.from(token.slice(0, 25) + String.fromCharCode(Math.floor(Math.random() * 32)) + token.slice(26), "latin1"),
        () => Buffer.from(token.repeat(150)),
        () => Buffer.from(`"${token}"`),
        () => Buffer.from(`${token}; sess=${token.slice(1)}`.slice(52)),
      ];
      const statuses = new Map<number, number>();
      const before = await commandCalls(admin);
      let sent = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (sent < FUZZED) {
            const cookie = mutations[Math.floor(Math.random() * mutations.length)]!();
            const text = cookie.toString("latin1").replace(/^[ \t]+|[ \t]+$/g, "");
            if (wellFormed(text)) continue; // a well-formed token is looked up (one HGETALL): not what this counts
            sent += 1;
            const status = await rawRequest(port, cookie);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      const commands = (await commandCalls(admin)) - before;
      console.log(`${driver} HTTP fuzz: ${sent} malformed cookies, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${commands} Redis commands`);
      expect(statuses.get(200) ?? 0).toBe(0);
      expect([...statuses.keys()].filter((status) => status >= 500 || status === 0)).toEqual([]);
      expect(commands).toBe(0);
      expect((await owner.call("GET", "/me")).status).toBe(200);
    });
  });

  describe("GET /me over corrupt stored data", () => {
    async function stored(): Promise<{ client: Client; key: string }> {
      const client = app.client();
      expect((await client.call("POST", "/login", { username: "ada" })).status).toBe(200);
      expect((await client.call("POST", "/cart", { sku: "mug" })).status).toBe(200);
      return { client, key: keys.session(sessionIdOf(tokenOf(client))) };
    }

    it("reads a key of another type as no session (401, cookie cleared)", async () => {
      const { client, key } = await stored();
      await admin.del(key);
      await admin.set(key, "not a hash");
      const me = await client.call("GET", "/me");
      expect(me.status).toBe(401);
      expect(me.setCookie[0]).toMatch(/^sess=;/);
      expect(await admin.get(key)).toBe("not a hash");
    });

    it("reads a truncated JSON field as absent and refuses to increment it (400), the session intact", async () => {
      const { client, key } = await stored();
      await admin.hset(key, "pref:theme", '{"dark', "cart:pen", "1.5");
      const me = await client.call("GET", "/me");
      expect(me).toMatchObject({ status: 200, body: { username: "ada", cart: { mug: 1, pen: 1.5 }, preferences: {} } });
      const increment = await client.call("POST", "/cart", { sku: "pen" });
      expect(increment.status).toBe(400);
      expect(await admin.hget(key, "cart:pen")).toBe("1.5");
    });

    it("ignores foreign fields that are not JSON, start with $, or are named __proto__", async () => {
      const { client, key } = await stored();
      await admin.hset(key, "foreign", "plain text", "$mine", "x", "__proto__", '{"polluted":true}', "pref:constructor", '{"prototype":{"polluted":true}}');
      const me = await client.call("GET", "/me");
      expect(me.status).toBe(200);
      expect(me.body.cart).toEqual({ mug: 1 });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((await client.call("POST", "/cart", { sku: "mug" })).body).toEqual({ cart: { mug: 2 } });
    });

    it("reads a hash whose metadata is garbage as no session", async () => {
      const { client, key } = await stored();
      await admin.hset(key, "$x", "soon");
      expect((await client.call("GET", "/me")).status).toBe(401);
    });
  });

  describe("PATCH /preferences with oversized payloads", () => {
    it("answers 413 and writes nothing past the size limit", async () => {
      const client = app.client();
      await client.call("POST", "/login", { username: "ada" });
      const key = keys.session(sessionIdOf(tokenOf(client)));
      expect((await client.call("PATCH", "/preferences", { a: "x".repeat(40_000) })).status).toBe(200);
      const before = await admin.hgetall(key);
      const answer = await client.call("PATCH", "/preferences", { b: "y".repeat(30_000) });
      expect(answer.status).toBe(413);
      expect(await admin.hgetall(key)).toEqual(before);
      expect((await client.call("PATCH", "/preferences", "z".repeat(70_000))).status).toBe(413);
    });

    // The route sets fields one by one; the 127th set throws PAYLOAD_TOO_LARGE, and the request commits none of them.
    it("answers 413 and writes nothing past the field-count limit", async () => {
      const client = app.client();
      await client.call("POST", "/login", { username: "ada" });
      const key = keys.session(sessionIdOf(tokenOf(client)));
      const before = await admin.hgetall(key);
      const many = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`k${i}`, i]));
      expect((await client.call("PATCH", "/preferences", many)).status).toBe(413);
      expect(await admin.hgetall(key)).toEqual(before);
    });
  });

  describe("PATCH /preferences, POST /cart, POST /login with prototype-pollution attempts", () => {
    it("pollutes nothing and stores such names as plain data or refuses them", async () => {
      const client = app.client();
      expect((await client.call("POST", "/login", { username: "__proto__" })).status).toBe(200);
      const attempts = [
        '{"__proto__": {"polluted": true}}',
        '{"constructor": {"prototype": {"polluted": true}}}',
        '{"prototype": {"polluted": true}}',
        '{"theme": {"__proto__": {"polluted": true}}}',
        '{"theme": {"a": [{"__proto__": {"polluted": true}}]}}',
      ];
      const statuses = [];
      for (const body of attempts) statuses.push((await client.call("PATCH", "/preferences", body)).status);
      expect(statuses.every((status) => status === 200 || status === 400)).toBe(true);
      expect(statuses[3]).toBe(400);
      expect((await client.call("POST", "/cart", '{"sku": "__proto__"}')).status).toBe(200);
      const me = await client.call("GET", "/me");
      expect(me.status).toBe(200);
      expect(me.body.username).toBe("__proto__");
      expect(me.body.cart).toEqual(JSON.parse('{"__proto__": 1}'));
      const probe = {} as Record<string, unknown>;
      expect(probe.polluted).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(me.body.preferences)).toBe(Object.prototype);
    });
  });

  describe("the whole lifecycle under a prefix made of glob characters", () => {
    it("never touches a key that the prefix would match as a pattern", async () => {
      const glob = "a*b?[c]";
      const foreign = ["aXXbZc:v1:s:{x}1", "ab!c:v1:u:{y}", "a*b?[c]x:v1:s:{x}2", "aab?c:keep", "a*b?[c]"];
      for (const key of foreign) await admin.set(key, `foreign ${key}`, "PX", 600_000);
      const globApp = await boot("express", await openStore({ redisUrl: server.url, driver, prefix: glob }, quiet));
      apps.push(globApp);
      const phone = globApp.client("phone");
      const laptop = globApp.client("laptop");
      await phone.call("POST", "/login", { username: "ada" });
      await laptop.call("POST", "/login", { username: "ada" });
      await phone.call("POST", "/cart", { sku: "mug" });
      await phone.call("PATCH", "/preferences", { theme: "dark" });
      expect((await phone.call("GET", "/sessions")).body).toHaveLength(2);
      expect((await phone.call("POST", "/password")).status).toBe(204);
      expect((await phone.call("POST", "/logout-all")).status).toBe(204);
      expect((await laptop.call("GET", "/me")).status).toBe(401);
      for (const key of foreign) {
        expect(await admin.get(key)).toBe(`foreign ${key}`);
        expect(await admin.pttl(key)).toBeGreaterThan(590_000);
      }
    });
  });
});

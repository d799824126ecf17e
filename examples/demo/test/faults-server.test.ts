/**
 * Server-side conditions under the Express demo, each on its own private redis-server: out of
 * memory (noeviction), LOADING after a restart, an ACL user limited to the prefix, TLS.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { freePort, startRedisServer, type RedisServer } from "@sess/redis-server";
import { openStore } from "../src/store.js";
import { boot, quiet, redisStore, type Booted } from "./harness.js";

const drivers = ["ioredis", "node-redis"] as const;
const servers: RedisServer[] = [];
const apps: Booted[] = [];
const raw: Redis[] = [];
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(() => {
  process.on("unhandledRejection", onRejection);
});
afterEach(async () => {
  for (const client of raw.splice(0)) client.disconnect();
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  expect(rejections).toEqual([]);
});
afterAll(() => {
  process.off("unhandledRejection", onRejection);
});

async function server(args: string[] = []): Promise<RedisServer> {
  const started = await startRedisServer({ args });
  servers.push(started);
  return started;
}

async function rawClient(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on("error", () => {});
  raw.push(client);
  await client.connect();
  return client;
}

/** The first reply line of PING on a fresh connection ("+PONG", "-LOADING …"), or "" when refused. */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const done = (line: string) => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(500, () => done(""));
    socket.once("error", () => done(""));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("\r\n")) done(data.split("\r\n")[0]!);
    });
    socket.once("connect", () => socket.write("PING\r\n"));
  });
}

/** The commands of the driver README's `ACL SETUSER` example. */
function documentedCommands(driver: (typeof drivers)[number]): string[] {
  const readme = readFileSync(new URL(`../../../packages/${driver}/README.md`, import.meta.url), "utf8");
  return /ACL SETUSER sess on >secret ~sess:\* ((?:\+[a-z|]+ ?)+)/.exec(readme)![1]!.trim().split(" ");
}

describe.each(drivers)("the Express demo on %s", (driver) => {
  describe("POST /login when Redis is out of memory (maxmemory, noeviction)", () => {
    it("answers 503 with no cookie, while existing sessions still read; logins work again once memory is freed", async () => {
      const redis = await server(["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]);
      const app = await boot("express", await redisStore(driver, redis.url));
      apps.push(app);
      const existing = app.client();
      expect((await existing.call("POST", "/login", { username: "ada" })).status).toBe(200);
      const admin = await rawClient(redis.url);
      // Fill with ever smaller values, so no slack is left once the last (large) query buffer is freed.
      let filled = 0;
      for (const size of [65_536, 4_096, 256, 16]) {
        for (;;) {
          try {
            await admin.set(`fill:${filled++}`, "x".repeat(size));
          } catch (error) {
            expect((error as Error).message).toMatch(/^OOM/);
            break;
          }
        }
      }
      const login = await app.client().call("POST", "/login", { username: "bob" });
      expect(login).toMatchObject({ status: 503, body: { error: "session store unavailable, try again" } });
      expect(login.setCookie).toEqual([]);
      const me = await existing.call("GET", "/me");
      expect(me).toMatchObject({ status: 200, body: { username: "ada" } });
      const write = await existing.call("POST", "/cart", { sku: "mug" });
      expect(write.status).toBe(503);
      expect(write.setCookie).toEqual([]);

      await admin.flushdb();
      const again = app.client();
      expect((await again.call("POST", "/login", { username: "bob" })).status).toBe(200);
      expect((await existing.call("POST", "/cart", { sku: "mug" })).body).toEqual({ cart: { mug: 1 } });
    });
  });

  describe("GET /me while Redis is LOADING its dataset after a restart", () => {
    it("answers 503 and never clears the cookie, and the session is back once loading ends", async () => {
      // key-load-delay slows loading to ~1 s for 10,000 keys; small event intervals keep answering LOADING meanwhile.
      const redis = await server(["--key-load-delay", "100", "--loading-process-events-interval-bytes", "1024"]);
      const app = await boot("express", await redisStore(driver, redis.url), { operationTimeout: 300 });
      apps.push(app);
      const client = app.client();
      expect((await client.call("POST", "/login", { username: "ada" })).status).toBe(200);
      const cookie = client.cookie;
      const admin = await rawClient(redis.url);
      await admin.eval("for i = 1, 10000 do redis.call('SET', 'fill:' .. i, 'x') end", 0);
      await admin.save();

      redis.kill("SIGKILL");
      let restarted = false;
      const restarting = redis.restart().then(() => (restarted = true));
      const statuses = new Map<number, number>();
      let duringLoading = 0;
      while (!restarted) {
        const before = await ping(redis.port);
        const answer = await client.call("GET", "/me");
        const after = await ping(redis.port);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.setCookie).toEqual([]);
        if (answer.status !== 200) expect(answer.status).toBe(503);
        if (before.startsWith("-LOADING") && after.startsWith("-LOADING")) {
          expect(answer.status).toBe(503);
          duringLoading += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await restarting;
      // ioredis checks again whether loading has ended after the server's own estimate of what is
      // left (at least 1 s, at most its maxLoadingRetryTime, 10 s by default) and is not ready until
      // then (the driver answers 503); node-redis is ready as soon as it reconnects.
      const recoveryMs = driver === "ioredis" ? 11_000 : 5_000;
      const started = performance.now();
      let me = await client.call("GET", "/me");
      while (me.status !== 200 && performance.now() - started < recoveryMs) {
        expect(me.setCookie).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        me = await client.call("GET", "/me");
      }
      console.log(
        `${driver} LOADING: statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${duringLoading} answered while Redis answered LOADING, ` +
          `200 again ${(performance.now() - started).toFixed(0)} ms after loading ended`,
      );
      expect(duringLoading).toBeGreaterThan(0);
      expect(me).toMatchObject({ status: 200, body: { username: "ada" } });
      expect(client.cookie).toBe(cookie);
    });
  });

  describe("an ACL user limited to the prefix", () => {
    it("with exactly the documented commands runs the whole session lifecycle", async () => {
      const redis = await server();
      const admin = await rawClient(redis.url);
      // +ping for /health; +info for ioredis's ready check (node-redis's CLIENT SETINFO refusal is ignored).
      await admin.call("ACL", "SETUSER", "shop", "on", ">pw", "~shop:*", ...documentedCommands(driver), "+ping", "+info");
      const url = `redis://shop:pw@127.0.0.1:${redis.port}`;
      const app = await boot("express", await openStore({ redisUrl: url, driver, prefix: "shop" }, quiet), { adminToken: "admin-secret" });
      apps.push(app);
      const phone = app.client("phone");
      const laptop = app.client("laptop");
      expect((await phone.call("POST", "/login", { username: "ada" })).status).toBe(200);
      expect((await laptop.call("POST", "/login", { username: "ada" })).status).toBe(200);
      expect((await phone.call("POST", "/cart", { sku: "mug", qty: 2 })).body).toEqual({ cart: { mug: 2 } });
      expect((await phone.call("PATCH", "/preferences", { theme: "dark" })).status).toBe(200);
      expect((await phone.call("GET", "/sessions")).body).toHaveLength(2);
      expect((await phone.call("POST", "/password")).status).toBe(204);
      expect((await laptop.call("GET", "/me")).status).toBe(401);
      expect((await phone.call("GET", "/me")).body).toMatchObject({ username: "ada", cart: { mug: 2 }, preferences: { theme: "dark" } });
      expect((await phone.call("POST", "/logout-all")).status).toBe(204);
      expect((await phone.call("GET", "/me")).status).toBe(401);
      expect((await app.client().call("GET", "/health")).status).toBe(200);
      const keys = await admin.keys("*");
      expect(keys.every((key) => key.startsWith("shop:"))).toBe(true);
    });

    it("missing a command fails at start-up with an error naming it", async () => {
      const redis = await server();
      const admin = await rawClient(redis.url);
      const commands = documentedCommands(driver).filter((command) => command !== "+hdel");
      await admin.call("ACL", "SETUSER", "shop", "on", ">pw", "~shop:*", ...commands, "+ping", "+info");
      const url = `redis://shop:pw@127.0.0.1:${redis.port}`;
      await expect(openStore({ redisUrl: url, driver, prefix: "shop" }, quiet)).rejects.toMatchObject({
        code: "CONFIG_INVALID",
        message: expect.stringMatching(/the Redis user may not run HDEL on keys under "shop:"/),
      });
    });
  });

  describe("a rediss:// connection with certificate verification", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "sess-tls-"));
      const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
      const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
      openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=sess test CA");
      openssl("req", "-x509", ...ec, "-keyout", "other.key", "-out", "other.crt", "-days", "1", "-subj", "/CN=sess other CA");
      openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
      writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
      openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext");
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    async function tlsServer(): Promise<{ redis: RedisServer; url: string }> {
      const tlsPort = await freePort();
      const redis = await server([
        "--tls-port", String(tlsPort),
        "--tls-cert-file", join(dir, "server.crt"),
        "--tls-key-file", join(dir, "server.key"),
        "--tls-ca-cert-file", join(dir, "ca.crt"),
        "--tls-auth-clients", "no",
      ]); // prettier-ignore
      return { redis, url: `rediss://127.0.0.1:${tlsPort}` };
    }

    it("serves sessions when the server's certificate is signed by the configured CA", async () => {
      const { redis, url } = await tlsServer();
      const store = await openStore({ redisUrl: url, driver, prefix: "tls", redisCa: readFileSync(join(dir, "ca.crt"), "utf8") }, quiet);
      const app = await boot("express", store);
      apps.push(app);
      const client = app.client();
      expect((await client.call("POST", "/login", { username: "ada" })).status).toBe(200);
      expect((await client.call("POST", "/cart", { sku: "mug" })).body).toEqual({ cart: { mug: 1 } });
      const admin = await rawClient(redis.url);
      const clients = await admin.call("CLIENT", "LIST");
      expect(String(clients)).toMatch(new RegExp(`laddr=127\\.0\\.0\\.1:${url.split(":").pop()}`));
    });

    it("refuses a server whose certificate another CA signed", async () => {
      const { url } = await tlsServer();
      const opening = openStore({ redisUrl: url, driver, prefix: "tls", redisCa: readFileSync(join(dir, "other.crt"), "utf8") }, quiet);
      const started = performance.now();
      const outcome = await Promise.race([
        opening.then(
          (store) => store.close().then(() => "connected"),
          (error: Error) => error.message,
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve("still connecting after 5 s"), 5_000)),
      ]);
      expect(outcome).toMatch(/self[- ]signed certificate|unable to verify|certificate/i);
      expect(performance.now() - started).toBeLessThan(2_000);
    });
  });
});

describe("the demo process with an ACL user missing a command", () => {
  it("exits 1 at start-up with a message naming the missing command", async () => {
    const redis = await server();
    const admin = await rawClient(redis.url);
    const commands = documentedCommands("ioredis").filter((command) => command !== "+hdel");
    await admin.call("ACL", "SETUSER", "shop", "on", ">pw", "~sess:*", ...commands, "+ping", "+info");
    const root = fileURLToPath(new URL("..", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", "src/express.ts"], {
      cwd: root,
      env: { ...process.env, PORT: "0", REDIS_URL: `redis://shop:pw@127.0.0.1:${redis.port}`, SESSION_DRIVER: "ioredis" },
    });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(1);
    expect(output).toMatch(/cannot start: ioredis: the Redis user may not run HDEL on keys under "sess:"/);
    expect(output).not.toMatch(/listening on/);
  });
});

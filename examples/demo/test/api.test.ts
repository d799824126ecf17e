import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { boot, bootWith, combos, frameworks, switchableMemoryStore, uniqueUser as user, type Booted } from "./harness.js";

const ADMIN = { authorization: "Bearer admin-secret" };

describe.each(combos)("demo API on %s with the %s store", (framework, kind) => {
  let app: Booted;
  const start = async (settings: Parameters<typeof boot>[2] = {}) => {
    app = await bootWith(framework, kind, inject("redisUrl"), settings);
    return app;
  };
  beforeEach(async () => {
    await start();
  });
  afterEach(async () => {
    await app.close();
  });

  async function loggedIn(username = user("ada"), tenant?: string, userAgent?: string) {
    const client = app.client(userAgent);
    const answer = await client.call("POST", "/login", tenant === undefined ? { username } : { username, tenant });
    expect(answer.status).toBe(200);
    return { client, username };
  }

  describe("GET /health", () => {
    it("answers ok with the store kind and sets no cookie", async () => {
      const answer = await app.client().call("GET", "/health", undefined, { cookie: "sess=abc" });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ ok: true, store: kind === "memory" ? "memory" : "redis", latency: expect.any(Number) });
      expect(answer.setCookie).toEqual([]);
    });
  });

  describe("GET /metrics", () => {
    it("is not served unless METRICS is on", async () => {
      expect((await app.client().call("GET", "/metrics")).status).toBe(404);
    });

    it("answers sess's metrics in the Prometheus text format, with no token and no session value", async () => {
      await app.close();
      await start({ metrics: true });
      const { client } = await loggedIn();
      expect((await client.call("POST", "/cart", { sku: "secret-sku-4242" })).status).toBe(200);
      const response = await fetch(`${app.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const text = await response.text();
      expect(text).toMatch(/^# TYPE sess_operations_total counter$/m);
      expect(text).toMatch(/^sess_operations_total\{sess_operation="create",sess_outcome="ok"\} [1-9]\d*$/m);
      expect(text).toMatch(/^sess_operations_total\{sess_operation="update",sess_outcome="ok"\} [1-9]\d*$/m);
      expect(text).toMatch(/^sess_sessions_created_total [1-9]\d*$/m);
      expect(text).toMatch(/^sess_store_duration_seconds_bucket\{sess_operation="load",sess_outcome="ok",le="\+Inf"\} [1-9]\d*$/m);
      const token = client.cookie!.split("=")[1]!;
      expect(text).not.toContain(token);
      expect(text).not.toContain("secret-sku-4242");
    });
  });

  describe("POST /login", () => {
    it("answers the username and tenant and binds the session to the user", async () => {
      const username = user("ada");
      const client = app.client();
      const answer = await client.call("POST", "/login", { username, tenant: "acme" });
      expect(answer).toMatchObject({ status: 200, body: { username, tenant: "acme" } });
      expect(answer.setCookie[0]).toMatch(/^sess=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect((await client.call("GET", "/me")).body).toMatchObject({ username, tenant: "acme" });
    });

    it("issues a new token and the token sent with the login stops working", async () => {
      const client = app.client();
      await client.call("POST", "/cart", { sku: "mug" });
      const anonymous = client.cookie!;
      await client.call("POST", "/login", { username: user("ada") });
      expect(client.cookie).not.toBe(anonymous);
      const old = await app.client().call("POST", "/cart", { sku: "pen" }, { cookie: anonymous });
      expect(old.body).toEqual({ cart: { pen: 1 } }); // the old token found nothing: a fresh session
    });

    it("keeps the anonymous cart across login", async () => {
      const client = app.client();
      await client.call("POST", "/cart", { sku: "mug", qty: 3 });
      await client.call("POST", "/login", { username: user("ada") });
      expect((await client.call("GET", "/me")).body.cart).toEqual({ mug: 3 });
    });

    it.each([{}, { username: "" }, { username: "a".repeat(65) }, { username: "a b" }, { username: 7 }, { username: "ok", tenant: "x/y" }])(
      "answers 400 for %j",
      async (body) => {
        const answer = await app.client().call("POST", "/login", body);
        expect(answer.status).toBe(400);
        expect(answer.body.error).toMatch(/64 characters/);
        expect(answer.setCookie).toEqual([]);
      },
    );
  });

  describe("GET /me", () => {
    it("answers the profile, cart, preferences and times when logged in", async () => {
      const { client, username } = await loggedIn(undefined, "acme");
      await client.call("POST", "/cart", { sku: "mug", qty: 2 });
      await client.call("PATCH", "/preferences", { theme: "dark" });
      const answer = await client.call("GET", "/me");
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ username, tenant: "acme", cart: { mug: 2 }, preferences: { theme: "dark" } });
      const created = Date.parse(answer.body.createdAt as string);
      expect(Math.abs(created - Date.now())).toBeLessThan(10_000);
      expect(Date.parse(answer.body.expiresAt as string) - created).toBeGreaterThan(1_700_000);
    });

    it("answers 401 without a session and sets no cookie", async () => {
      const answer = await app.client().call("GET", "/me");
      expect(answer).toMatchObject({ status: 401, body: { error: "not logged in" } });
      expect(answer.setCookie).toEqual([]);
    });

    it("answers 401 for an anonymous session", async () => {
      const client = app.client();
      await client.call("POST", "/cart", { sku: "mug" });
      expect((await client.call("GET", "/me")).status).toBe(401);
    });
  });

  describe("POST /cart", () => {
    it("creates a session before login and adds qty 1 by default", async () => {
      const client = app.client();
      const answer = await client.call("POST", "/cart", { sku: "mug" });
      expect(answer).toMatchObject({ status: 200, body: { cart: { mug: 1 } } });
      expect(client.cookie).toMatch(/^sess=/);
      expect((await client.call("POST", "/cart", { sku: "mug", qty: 4 })).body).toEqual({ cart: { mug: 5 } });
    });

    it("keeps all of 100 concurrent adds to one session", async () => {
      const { client } = await loggedIn();
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => client.call("POST", "/cart", { sku: `sku-${i % 10}`, qty: 1 + (i % 3) })),
      );
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      const cart = (await client.call("GET", "/me")).body.cart as Record<string, number>;
      const expected: Record<string, number> = {};
      for (let i = 0; i < 100; i++) expected[`sku-${i % 10}`] = (expected[`sku-${i % 10}`] ?? 0) + 1 + (i % 3);
      expect(cart).toEqual(expected);
    });

    it.each([{ sku: "" }, { sku: "a/b" }, { qty: 1 }, { sku: "mug", qty: 0 }, { sku: "mug", qty: 1001 }, { sku: "mug", qty: 1.5 }, { sku: "mug", qty: "2" }])(
      "answers 400 for %j",
      async (body) => {
        const answer = await app.client().call("POST", "/cart", body);
        expect(answer.status).toBe(400);
        expect(typeof answer.body.error).toBe("string");
        expect(answer.setCookie).toEqual([]);
      },
    );

    it("answers 400 for a malformed JSON body", async () => {
      const answer = await app.client().call("POST", "/cart", "{not json");
      expect(answer).toMatchObject({ status: 400, body: { error: "request body is not valid JSON" } });
    });
  });

  describe("PATCH /preferences", () => {
    it("merges top-level keys", async () => {
      const { client } = await loggedIn();
      await client.call("PATCH", "/preferences", { theme: "dark", lang: "en" });
      const answer = await client.call("PATCH", "/preferences", { lang: "fr", size: { font: 14 } });
      expect(answer).toMatchObject({ status: 200, body: { preferences: { theme: "dark", lang: "fr", size: { font: 14 } } } });
    });

    it("answers 401 when not logged in", async () => {
      expect((await app.client().call("PATCH", "/preferences", { theme: "dark" })).status).toBe(401);
    });
  });

  describe("POST /logout", () => {
    it("destroys the session and clears the cookie", async () => {
      const { client } = await loggedIn();
      const token = client.cookie!;
      const answer = await client.call("POST", "/logout");
      expect(answer.status).toBe(204);
      expect(answer.setCookie[0]).toMatch(/^sess=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
      expect((await app.client().call("GET", "/me", undefined, { cookie: token })).status).toBe(401);
    });
  });

  describe("POST /logout-all", () => {
    it("destroys every session of the user, this one included", async () => {
      const { client: first, username } = await loggedIn();
      const { client: second } = await loggedIn(username);
      const firstToken = first.cookie!;
      const answer = await first.call("POST", "/logout-all");
      expect(answer.status).toBe(204);
      expect(answer.setCookie[0]).toMatch(/Max-Age=0/);
      expect((await second.call("GET", "/me")).status).toBe(401);
      expect((await app.client().call("GET", "/me", undefined, { cookie: firstToken })).status).toBe(401);
    });
  });

  describe("GET /sessions", () => {
    it("lists the user's live sessions with public ids and marks the current one", async () => {
      const { client: laptop, username } = await loggedIn(undefined, undefined, "laptop");
      const { client: phone } = await loggedIn(username, undefined, "phone");
      const answer = await laptop.call("GET", "/sessions");
      expect(answer.status).toBe(200);
      const list = answer.body as Array<{ id: string; current: boolean; userAgent: string; createdAt: string; lastSeenAt: string }>;
      expect(list.map((s) => s.userAgent).sort()).toEqual(["laptop", "phone"]);
      expect(list.find((s) => s.current)?.userAgent).toBe("laptop");
      for (const entry of list) {
        expect(Object.keys(entry).sort()).toEqual(["createdAt", "current", "id", "lastSeenAt", "userAgent"]);
        expect(laptop.cookie).not.toContain(entry.id);
        expect(phone.cookie).not.toContain(entry.id);
      }
    });

    it("answers 401 when not logged in", async () => {
      expect((await app.client().call("GET", "/sessions")).status).toBe(401);
    });
  });

  describe("DELETE /sessions/:id", () => {
    it("ends another session of the caller", async () => {
      const { client: laptop, username } = await loggedIn(undefined, undefined, "laptop");
      const { client: phone } = await loggedIn(username, undefined, "phone");
      const list = (await laptop.call("GET", "/sessions")).body as Array<{ id: string; current: boolean }>;
      const other = list.find((s) => !s.current)!;
      expect((await laptop.call("DELETE", `/sessions/${other.id}`)).status).toBe(204);
      expect((await phone.call("GET", "/me")).status).toBe(401);
      expect((await laptop.call("GET", "/me")).status).toBe(200);
    });

    it("answers 404 for a session that is not the caller's", async () => {
      const { client: mallory } = await loggedIn();
      const { client: victim } = await loggedIn();
      const victimId = ((await victim.call("GET", "/sessions")).body as Array<{ id: string }>)[0]!.id;
      const answer = await mallory.call("DELETE", `/sessions/${victimId}`);
      expect(answer).toMatchObject({ status: 404, body: { error: expect.any(String) } });
      expect((await victim.call("GET", "/me")).status).toBe(200);
      expect((await mallory.call("DELETE", "/sessions/not-an-id")).status).toBe(404);
    });
  });

  describe("POST /password", () => {
    it("issues this session a new token and ends the user's other sessions", async () => {
      const { client, username } = await loggedIn();
      const { client: other } = await loggedIn(username);
      const before = client.cookie!;
      const answer = await client.call("POST", "/password");
      expect(answer.status).toBe(204);
      expect(client.cookie).not.toBe(before);
      expect((await client.call("GET", "/me")).status).toBe(200);
      expect((await app.client().call("GET", "/me", undefined, { cookie: before })).status).toBe(401);
      expect((await other.call("GET", "/me")).status).toBe(401);
    });
  });

  describe("POST /admin/users/:username/revoke", () => {
    it("ends all of that user's sessions", async () => {
      const { client, username } = await loggedIn();
      await loggedIn(username);
      const answer = await app.client().call("POST", `/admin/users/${username}/revoke`, undefined, ADMIN);
      expect(answer).toMatchObject({ status: 200, body: { revoked: 2 } });
      expect((await client.call("GET", "/me")).status).toBe(401);
    });

    it("answers 401 without the admin token", async () => {
      const { client, username } = await loggedIn();
      const answer = await app.client().call("POST", `/admin/users/${username}/revoke`, undefined, { authorization: "Bearer wrong" });
      expect(answer).toMatchObject({ status: 401, body: { error: expect.any(String) } });
      expect((await client.call("GET", "/me")).status).toBe(200);
    });
  });

  describe("GET /admin/tenants/:tenant/count", () => {
    it("counts the tenant's live sessions and follows logouts", async () => {
      const tenant = user("acme");
      const { client } = await loggedIn(user("ada"), tenant);
      await loggedIn(user("bob"), tenant);
      await loggedIn(user("eve"), user("globex"));
      const path = `/admin/tenants/${tenant}/count`;
      expect(await app.client().call("GET", path, undefined, ADMIN)).toMatchObject({ status: 200, body: { tenant, count: 2 } });
      expect((await client.call("POST", "/logout")).status).toBe(204);
      expect(await app.client().call("GET", path, undefined, ADMIN)).toMatchObject({ status: 200, body: { tenant, count: 1 } });
    });

    it("answers 401 without the admin token and 400 for a malformed tenant", async () => {
      expect((await app.client().call("GET", "/admin/tenants/acme/count", undefined, { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await app.client().call("GET", "/admin/tenants/a%20b/count", undefined, ADMIN)).status).toBe(400);
    });
  });

  describe("GET /admin/carts/:sku", () => {
    it("counts the sessions whose cart holds the sku and names their users", async () => {
      const sku = user("mug");
      const { client: ada, username: adaName } = await loggedIn(user("ada"));
      const { client: bob, username: bobName } = await loggedIn(user("bob"));
      const anonymous = app.client();
      for (const client of [ada, bob, anonymous]) expect((await client.call("POST", "/cart", { sku })).status).toBe(200);
      expect((await bob.call("POST", "/cart", { sku: user("tea") })).status).toBe(200);
      const answer = await app.client().call("GET", `/admin/carts/${sku}`, undefined, ADMIN);
      expect(answer).toMatchObject({ status: 200, body: { sku, count: 3, usernames: [adaName, bobName].sort() } });
      expect((await bob.call("POST", "/logout")).status).toBe(204);
      const after = await app.client().call("GET", `/admin/carts/${sku}`, undefined, ADMIN);
      expect(after.body).toEqual({ sku, count: 2, usernames: [adaName] });
    });

    it("keeps a cart listed across the login that rotates its session", async () => {
      const sku = user("cup");
      const client = app.client();
      expect((await client.call("POST", "/cart", { sku })).status).toBe(200);
      const username = user("ada");
      expect((await client.call("POST", "/login", { username })).status).toBe(200);
      const answer = await app.client().call("GET", `/admin/carts/${sku}`, undefined, ADMIN);
      expect(answer.body).toEqual({ sku, count: 1, usernames: [username] });
    });
  });

  describe("unknown routes", () => {
    it("answer 404 with a JSON error", async () => {
      expect(await app.client().call("GET", "/nope")).toMatchObject({ status: 404, body: { error: "not found" } });
    });
  });
});

describe.each(frameworks)("demo settings on %s", (framework) => {
  let app: Booted | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe("admin routes", () => {
    it("answer 404 when ADMIN_TOKEN is unset", async () => {
      app = await boot(framework, switchableMemoryStore(), { adminToken: undefined });
      const answer = await app.client().call("POST", "/admin/users/ada/revoke", undefined, ADMIN);
      expect(answer).toMatchObject({ status: 404, body: { error: "not found" } });
    });
  });

  describe("SESSION_MAX_PER_USER", () => {
    it("ends the user's oldest sessions beyond the limit", async () => {
      app = await boot(framework, switchableMemoryStore(), { maxPerUser: 2 });
      const clients = [app.client(), app.client(), app.client()];
      for (const client of clients) await client.call("POST", "/login", { username: "ada" });
      const statuses = await Promise.all(clients.map(async (client) => (await client.call("GET", "/me")).status));
      expect(statuses).toEqual([401, 200, 200]);
    });
  });

  describe("SESSION_IDLE_TIMEOUT", () => {
    it("sets the cookie lifetime", async () => {
      app = await boot(framework, switchableMemoryStore(), { idleTimeout: 60, absoluteTimeout: 120 });
      const answer = await app.client().call("POST", "/cart", { sku: "mug" });
      expect(answer.setCookie[0]).toMatch(/Max-Age=60;/);
    });
  });

  describe("TRUST_PROXY", () => {
    it("makes X-Forwarded-Proto: https give a Secure __Host- cookie", async () => {
      app = await boot(framework, switchableMemoryStore(), { trustProxy: true });
      const answer = await app.client().call("POST", "/cart", { sku: "mug" }, { "x-forwarded-proto": "https" });
      expect(answer.setCookie[0]).toMatch(/^__Host-sess=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    });
  });

  describe("a store outage", () => {
    it("answers 503 with no cookie for routes that need the session, and /health reports it", async () => {
      const store = switchableMemoryStore();
      app = await boot(framework, store);
      const client = app.client();
      await client.call("POST", "/login", { username: "ada" });
      store.down = true;
      for (const [method, path, body] of [["GET", "/me"], ["POST", "/cart", { sku: "mug" }], ["POST", "/logout"]] as const) {
        const answer = await client.call(method, path, body);
        expect(answer.status).toBe(503);
        expect(answer.body).toEqual({ error: "session store unavailable, try again" });
        expect(answer.setCookie).toEqual([]);
      }
      expect(await client.call("GET", "/health")).toMatchObject({ status: 503, body: { ok: false } });
    });

    it("never reaches the store for /health or /me without a cookie", async () => {
      const store = switchableMemoryStore();
      app = await boot(framework, store);
      await app.client().call("GET", "/health");
      expect((await app.client().call("GET", "/me")).status).toBe(401);
      expect(store.calls).toBe(0);
    });
  });
});

/**
 * The security review's findings, replayed over HTTP against the demo on every adapter: each test
 * is the attack (or the careful user's move) and the outcome sess promises.
 */
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { bootWith, combos, uniqueUser as user, type Booted } from "./harness.js";

describe.each(combos)("security on %s with the %s store", (framework, kind) => {
  let app: Booted;
  beforeEach(async () => {
    app = await bootWith(framework, kind, inject("redisUrl"));
  });
  afterEach(async () => {
    await app.close();
  });

  describe("POST /login as another user", () => {
    it("starts the new user with empty data: nothing of the previous user's session carries over", async () => {
      const client = app.client();
      expect((await client.call("POST", "/login", { username: user("alice") })).status).toBe(200);
      await client.call("PATCH", "/preferences", { address: "1 Main St", card: "4242" });
      await client.call("POST", "/cart", { sku: "mug", qty: 2 });
      const bob = user("bob");
      expect((await client.call("POST", "/login", { username: bob })).status).toBe(200);
      const me = await client.call("GET", "/me");
      expect(me.body).toMatchObject({ username: bob });
      expect(me.body.cart).toEqual({});
      expect(me.body.preferences).toEqual({});
    });

    it("keeps the data of a session already bound to the same user", async () => {
      const client = app.client();
      const alice = user("alice");
      await client.call("POST", "/login", { username: alice });
      await client.call("POST", "/cart", { sku: "mug", qty: 2 });
      await client.call("POST", "/login", { username: alice });
      expect((await client.call("GET", "/me")).body.cart).toEqual({ mug: 2 });
    });
  });

  describe("parallel PATCH /preferences", () => {
    it("never grows a session past limits.maxFields: the writes beyond it answer 413", async () => {
      const client = app.client();
      await client.call("POST", "/login", { username: user("ada") });
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, writer) =>
          client.call("PATCH", "/preferences", Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`w${writer}_${n}`, n]))),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 413, 413, 413, 413, 413]);
      const me = await client.call("GET", "/me");
      expect(Object.keys(me.body.preferences)).toHaveLength(120); // 128 fields, username and tenant included
    });
  });

  describe("a tossed cookie in front of the real one", () => {
    it("is skipped: the real session answers and no Set-Cookie clears it", async () => {
      const client = app.client();
      const username = user("ada");
      await client.call("POST", "/login", { username });
      const real = client.cookie!.slice("sess=".length);
      const tossed = "A".repeat(real.length);
      const answer = await app.client().call("GET", "/me", undefined, { cookie: `sess=${tossed}; sess=${real}` });
      expect(answer.status).toBe(200);
      expect(answer.body.username).toBe(username);
      expect(answer.setCookie).toEqual([]);
    });
  });

  describe("two parallel logins with one cookie", () => {
    it("answer the loser 409 without a Set-Cookie, so the winner's new cookie stays", async () => {
      const client = app.client();
      await client.call("POST", "/cart", { sku: "mug" });
      const username = user("ada");
      const answers = await Promise.all([0, 1].map(() => client.call("POST", "/login", { username })));
      const lost = answers.filter((answer) => answer.status !== 200);
      for (const answer of lost) {
        expect(answer.status).toBe(409);
        expect(answer.setCookie).toEqual([]);
      }
      expect((await client.call("GET", "/me")).body.username).toBe(username);
    });

    it("answer a parallel write that lost to the login 409 without a Set-Cookie", async () => {
      const client = app.client();
      const username = user("ada");
      await client.call("POST", "/login", { username });
      for (let round = 0; round < 5; round += 1) {
        const answers = await Promise.all([client.call("POST", "/cart", { sku: "mug" }), client.call("POST", "/login", { username })]);
        for (const answer of answers.filter((each) => each.status === 409)) expect(answer.setCookie).toEqual([]);
        expect((await client.call("GET", "/me")).body.username).toBe(username);
      }
    });
  });

  describe("malformed percent-encoding in a path", () => {
    it.each([
      ["DELETE", "/sessions/%ZZ"],
      ["GET", "/admin/tenants/%E0%A4/count"],
    ])("answers %s %s with 400, not a 500", async (method, path) => {
      const answer = await app.client().call(method, path, undefined, { authorization: "Bearer admin-secret" });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(/percent-encoding/);
    });
  });
});

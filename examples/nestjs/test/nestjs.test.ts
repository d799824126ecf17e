import { randomBytes } from "node:crypto";
import type { INestApplication } from "@nestjs/common";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { SessionDriver } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { createIoredisDriver } from "@sess/ioredis";
import { createExpressApp } from "../src/express.js";
import { createFastifyApp } from "../src/fastify.js";

let client: Redis;
beforeAll(() => {
  client = new Redis(inject("redisUrl"));
});
afterAll(() => {
  client.disconnect();
});

const drivers: Record<string, () => SessionDriver> = {
  memory: () => createMemoryDriver(),
  ioredis: () => createIoredisDriver({ client, prefix: `nest-${randomBytes(6).toString("hex")}` }),
};
const platforms = {
  express: createExpressApp,
  fastify: createFastifyApp,
};

/** A client with one cookie jar (the session cookie only). */
function browser(base: string) {
  let cookie: string | null = null;
  return {
    get cookie() {
      return cookie;
    },
    set cookie(value: string | null) {
      cookie = value;
    },
    async send(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; setCookie: string[] }> {
      const headers: Record<string, string> = {};
      if (cookie !== null) headers.cookie = cookie;
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const setCookie = response.headers.getSetCookie();
      const pair = setCookie[0]?.split(";")[0];
      if (pair !== undefined) cookie = pair.endsWith("=") ? null : pair;
      const text = await response.text();
      return { status: response.status, json: text === "" ? null : (JSON.parse(text) as unknown), setCookie };
    },
  };
}

for (const [platformName, create] of Object.entries(platforms)) {
  for (const [driverName, driver] of Object.entries(drivers)) {
    describe(`NestJS on ${platformName}, ${driverName} driver`, () => {
      let app: INestApplication;
      let base: string;
      beforeAll(async () => {
        ({ app } = await create(driver()));
        await app.listen(0, "127.0.0.1");
        base = (await app.getUrl()).replace("[::1]", "127.0.0.1");
      });
      afterAll(async () => {
        await app.close();
      });

      describe("GET /visits", () => {
        it("counts in the session and sets the cookie once", async () => {
          const user = browser(base);
          const first = await user.send("GET", "/visits");
          expect(first).toMatchObject({ status: 200, json: { visits: 1 } });
          expect(first.setCookie).toHaveLength(1);
          expect(first.setCookie[0]).toMatch(/HttpOnly/i);
          const second = await user.send("GET", "/visits");
          expect(second.json).toEqual({ visits: 2 });
        });
      });

      describe("POST /login", () => {
        it("issues a new token, keeps the data and binds the session to the user", async () => {
          const user = browser(base);
          await user.send("GET", "/visits");
          await user.send("GET", "/visits");
          const anonymous = user.cookie;
          const login = await user.send("POST", "/login", { username: "ada" });
          expect(login).toMatchObject({ status: 200, json: { userId: "user:ada", username: "ada", visits: 2 } });
          expect(user.cookie).not.toBeNull();
          expect(user.cookie).not.toBe(anonymous);
          expect((await user.send("GET", "/me")).json).toEqual({ userId: "user:ada", username: "ada", visits: 2 });

          const old = browser(base);
          old.cookie = anonymous;
          expect((await old.send("GET", "/me")).status).toBe(401);
        });

        it("answers 400 without a username and changes nothing", async () => {
          const user = browser(base);
          await user.send("GET", "/visits");
          const before = user.cookie;
          expect((await user.send("POST", "/login", {})).status).toBe(400);
          expect(user.cookie).toBe(before);
          expect((await user.send("GET", "/me")).status).toBe(401);
        });
      });

      describe("POST /password", () => {
        it("rotates the token and ends the user's other sessions", async () => {
          const laptop = browser(base);
          const phone = browser(base);
          await laptop.send("POST", "/login", { username: "grace" });
          await phone.send("POST", "/login", { username: "grace" });
          const before = laptop.cookie;
          expect((await laptop.send("POST", "/password")).status).toBe(204);
          expect(laptop.cookie).not.toBe(before);
          expect((await laptop.send("GET", "/me")).json).toMatchObject({ userId: "user:grace" });
          expect((await phone.send("GET", "/me")).status).toBe(401);
          const stale = browser(base);
          stale.cookie = before;
          expect((await stale.send("GET", "/me")).status).toBe(401);
        });
      });

      describe("POST /logout", () => {
        it("ends the session and clears the cookie", async () => {
          const user = browser(base);
          await user.send("POST", "/login", { username: "linus" });
          const token = user.cookie;
          const logout = await user.send("POST", "/logout");
          expect(logout.status).toBe(204);
          expect(logout.setCookie[0]).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
          const old = browser(base);
          old.cookie = token;
          expect((await old.send("GET", "/me")).status).toBe(401);
        });
      });

      describe("when a value is too large for the session", () => {
        it("answers 413 through the exception filter and stores nothing", async () => {
          const user = browser(base);
          await user.send("POST", "/login", { username: "barbara" });
          const reply = await user.send("POST", "/note", { note: "x".repeat(70_000) });
          expect(reply.status).toBe(413);
          expect(reply.json).toMatchObject({ error: "PAYLOAD_TOO_LARGE" });
          expect((await user.send("GET", "/me")).json).toMatchObject({ username: "barbara", visits: 0 });
        });
      });

      if (platformName === "express") {
        describe("GET /greeting (a service reading currentSession())", () => {
          it("sees the session of the request being handled", async () => {
            const user = browser(base);
            expect((await user.send("GET", "/greeting")).json).toEqual({ greeting: "hello, guest" });
            await user.send("POST", "/login", { username: "ada" });
            expect((await user.send("GET", "/greeting")).json).toEqual({ greeting: "hello, ada" });
          });
        });
      }
    });
  }
}

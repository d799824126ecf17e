import Koa from "koa";
import { describe, expect, it } from "vitest";
import { SessionError } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { sessionMiddleware } from "../src/index.js";
import { cookieOf, listen } from "./server.js";

interface Data {
  role: string;
  name: string;
  avatar: string;
}

function build() {
  const driver = createMemoryDriver();
  const sessions = sessionMiddleware<Data>({ driver, limits: { maxBytes: 200 } });
  const app = new Koa();
  app.silent = true;
  const errors: unknown[] = [];
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      errors.push(error);
      ctx.status = error instanceof SessionError ? error.status : 500;
      ctx.body = { error: (error as Error).message };
    }
  });
  app.use(sessions);
  app.use((ctx) => {
    const session = sessions.of(ctx);
    if (ctx.path === "/replace") {
      (ctx as unknown as { session: unknown }).session = null;
      ctx.body = { ok: true };
    } else if (ctx.path === "/assign") {
      (ctx as unknown as { session: Record<string, unknown> }).session.role = "admin";
      ctx.body = { ok: true };
    } else if (ctx.path === "/profile") {
      session.set("name", "ada");
      try {
        session.set("avatar", "x".repeat(500));
        ctx.body = { avatar: "saved" };
      } catch (error) {
        ctx.body = { avatar: (error as SessionError).code };
      }
    } else if (ctx.path === "/profile-uncaught") {
      session.set("name", "ada");
      session.set("avatar", "x".repeat(500));
      ctx.body = { avatar: "saved" };
    } else if (ctx.path === "/logout") {
      sessions.logout(ctx);
      ctx.status = 204;
    } else {
      ctx.body = session.all();
    }
  });
  return { app, errors, driver };
}

describe("ctx.session", () => {
  it("refuses a property assignment with a TypeError that names set(), and the response is an error", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/assign`, { method: "POST" });
    expect(response.status).toBe(500);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toContain('session.set("role", value)');
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("ctx.session = null", () => {
  it("throws a TypeError naming sessions.logout instead of silently ending nothing", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/replace`, { method: "POST" });
    expect(response.status).toBe(500);
    expect((errors[0] as Error).message).toContain("sessions.logout(ctx)");
  });
});

describe("when the handler catches a refused write", () => {
  it("commits the request's other writes and sends the cookie", async () => {
    const { app } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/profile`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ avatar: "PAYLOAD_TOO_LARGE" });
    const cookie = cookieOf(response);
    expect(cookie).toMatch(/^sess=/);
    expect(await (await fetch(`${url}/read`, { headers: { cookie } })).json()).toEqual({ name: "ada" });
  });
});

describe("when a refused write reaches the error handler", () => {
  it("answers the error and commits none of the request's writes", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/profile-uncaught`, { method: "POST" });
    expect(response.status).toBe(413);
    expect((errors[0] as SessionError).code).toBe("PAYLOAD_TOO_LARGE");
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("logout when the store fails to delete the session", () => {
  it("clears the cookie and reports STORE_UNAVAILABLE to the error handler", async () => {
    const { app, errors, driver } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/profile`, { method: "POST" }));
    driver.destroy = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    const response = await fetch(`${url}/logout`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; .*Max-Age=0/);
    expect(errors[0]).toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});

import Koa from "koa";
import { describe, expect, it } from "vitest";
import { createMemoryDriver } from "@sess/core/memory";
import { currentSession, sessionMiddleware } from "../src/index.js";
import { cookieOf, listen } from "./server.js";

interface Data {
  username: string;
}

async function greeting(): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `hello ${currentSession<Data>().get("username") ?? "stranger"}`;
}

async function build(asyncContext: boolean): Promise<{ url: string; upgradeUser: (cookie?: string) => Promise<string | null> }> {
  const sessions = sessionMiddleware<Data>({ driver: createMemoryDriver(), asyncContext });
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.status = 500;
      ctx.body = { error: (error as Error).message };
    }
  });
  app.use(sessions);
  app.use(async (ctx) => {
    if (ctx.path === "/login") {
      sessions.login(ctx, "ada").set("username", "ada");
      ctx.body = { ok: true };
    } else {
      ctx.body = { greeting: await greeting(), typed: sessions.current().get("username") ?? null };
    }
  });
  const url = await listen(app);
  const upgradeUser = async (cookie?: string) => {
    const req = { headers: cookie ? { cookie } : {}, socket: { remoteAddress: "127.0.0.1" } };
    const { session } = await sessions.openSession(req as never);
    return session.userId;
  };
  return { url, upgradeUser };
}

describe("sessions.openSession(req)", () => {
  it("reads the session of a request the middleware does not handle", async () => {
    const { url, upgradeUser } = await build(false);
    const cookie = cookieOf(await fetch(`${url}/login`, { method: "POST" }));
    expect(await upgradeUser(cookie)).toBe("ada");
    expect(await upgradeUser()).toBeNull();
  });
});

describe("currentSession()", () => {
  it("returns the request's session in code not handed ctx, with asyncContext: true", async () => {
    const { url } = await build(true);
    const cookie = cookieOf(await fetch(`${url}/login`, { method: "POST" }));
    const [mine, anonymous] = await Promise.all([
      fetch(`${url}/greeting`, { headers: { cookie } }).then((r) => r.json()),
      fetch(`${url}/greeting`).then((r) => r.json()),
    ]);
    expect(mine).toEqual({ greeting: "hello ada", typed: "ada" });
    expect(anonymous).toEqual({ greeting: "hello stranger", typed: null });
  });

  it("throws a message naming asyncContext without it", async () => {
    const { url } = await build(false);
    const response = await fetch(`${url}/greeting`);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toMatch(/asyncContext: true/);
  });
});

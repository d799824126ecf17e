import Koa from "koa";
import { describe, expect, it } from "vitest";
import { createMemoryDriver } from "@sess/core/memory";
import { sessionErrorHandler, sessionMiddleware } from "../src/index.js";
import { cookieOf, listen } from "./server.js";

function build() {
  const driver = createMemoryDriver();
  const sessions = sessionMiddleware({ driver });
  const app = new Koa();
  app.silent = true;
  const others: unknown[] = [];
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      others.push(error);
      ctx.status = 500;
      ctx.body = { error: "other" };
    }
  });
  app.use(sessionErrorHandler());
  app.use(sessions);
  app.use(async (ctx) => {
    const session = sessions.of(ctx);
    if (ctx.path === "/boom") throw new Error("not a session error");
    session.set("n", 1);
    if (ctx.path === "/ended-meanwhile") await sessions.manager.endSession(session.id!);
    ctx.body = { ok: true };
  });
  return { app, driver, others };
}

describe("sessionErrorHandler()", () => {
  it("answers a store outage with 503, Retry-After, no-store and a JSON body without stack or internal detail", async () => {
    const { app, driver } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/write`, { method: "POST" }));
    driver.load = () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.7:6379"));
    const response = await fetch(`${url}/write`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.getSetCookie()).toEqual([]);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: "STORE_UNAVAILABLE", message: "the session store is unavailable, try again" });
    expect(text).not.toMatch(/10\.0\.0\.7|at |\.ts/);
  });

  it("sends the clearing cookie of a session that ended while the request used it", async () => {
    const { app } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/write`, { method: "POST" }));
    const response = await fetch(`${url}/ended-meanwhile`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(409);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; .*Max-Age=0/);
    expect(((await response.json()) as { error: string }).error).toBe("CONFLICT");
  });

  it("re-throws any other error to the app's own handling", async () => {
    const { app, others } = build();
    const url = await listen(app);
    expect((await fetch(`${url}/boom`)).status).toBe(500);
    expect(others).toHaveLength(1);
  });
});

import { Readable } from "node:stream";
import Koa from "koa";
import { currentName, describeAdapterContract, type CartData } from "../../core/test/adapter-contract.js";
import { currentSession, sessionErrorHandler, sessionMiddleware, type SessionMiddlewareOptions } from "../src/index.js";
import { listen } from "./server.js";

describeAdapterContract(
  "sessionMiddleware on Koa 3",
  async (options, control, errorHandling) => {
    const sessions = sessionMiddleware<CartData>(options as SessionMiddlewareOptions<CartData>);
    const app = new Koa();
    app.silent = true;
    const errors: unknown[] = [];
    if (errorHandling === "app") {
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (caught) {
          const error = caught as Error & { status?: number; headers?: Record<string, string> };
          errors.push(error);
          ctx.status = error.status ?? 500;
          if (error.headers) ctx.set(error.headers);
          ctx.body = { error: error.message };
        }
      });
    }
    if (errorHandling === "ready-made") app.use(sessionErrorHandler());
    app.use(async (ctx, next) => {
      if (ctx.path === "/health") ctx.body = { ok: true };
      else if (ctx.path === "/outside") {
        const { session } = await sessions.openSession(ctx.req);
        ctx.body = { user: session.userId, name: session.get("name") ?? null };
      } else await next();
    });
    app.use(sessions);
    app.use(async (ctx) => {
      const route = `${ctx.method} ${ctx.path}`;
      const session = sessions.of(ctx);
      if (route === "GET /read") ctx.body = { name: session.get("name") ?? null, visits: session.get("visits") ?? 0 };
      else if (route === "POST /body") {
        session.set("name", "body");
        ctx.body = { ok: true };
      } else if (route === "POST /send") {
        session.set("name", "send");
        ctx.body = "sent";
      } else if (route === "POST /redirect") {
        session.set("name", "redirect");
        ctx.redirect("/read");
      } else if (route === "POST /stream") {
        session.increment("visits");
        ctx.type = "text/plain";
        ctx.body = Readable.from(["a", "b", "c"]);
      } else if (route === "POST /runtime-property") {
        (ctx as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
        ctx.status = 204;
      } else if (route === "POST /ended-meanwhile") {
        session.set("name", "late");
        await sessions.manager.endSession(session.id!);
        ctx.set("x-handler", "yes");
        ctx.body = { ok: true };
      } else if (route === "POST /fail-commit") {
        session.set("name", "lost");
        control.down = true;
        ctx.set("x-handler", "yes");
        ctx.body = { ok: true };
      } else if (route === "POST /login") {
        sessions.login(ctx, "ada");
        ctx.body = { ok: true };
      } else if (route === "POST /logout") {
        sessions.logout(ctx);
        ctx.status = 204;
      } else if (route === "POST /logout-everywhere") ctx.body = { ended: await sessions.logoutEverywhere(ctx) };
      else if (route === "POST /current") {
        for await (const chunk of ctx.req) void chunk; // the body, read as a body parser would
        const name = await currentName(currentSession);
        ctx.body = { name, same: currentSession() === sessions.of(ctx) };
      } else if (route === "GET /boom") throw new Error("boom");
    });
    return { url: await listen(app), errors, close: async () => undefined };
  },
  (options) => sessionMiddleware(options as SessionMiddlewareOptions),
);

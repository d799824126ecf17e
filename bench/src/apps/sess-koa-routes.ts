/** The routes of the sess Koa apps: per-field writes, cart lines incremented atomically. */
import type Koa from "koa";
import type { SessionMiddleware } from "@sess/koa";
import { cartSummary, payloadFor, readJson, skuOf, usernameOf } from "../shared.js";
import { cartLinesOf, meOfSession, storeLogin, type Data } from "./sess-data.js";

function fail(ctx: Koa.Context, status: number, error: string): void {
  ctx.status = status;
  ctx.body = { error };
}

export function sessKoaRoutes(app: Koa, sessions: SessionMiddleware<Data>): void {
  app.use(async (ctx) => {
    const route = `${ctx.method} ${ctx.path}`;
    switch (route) {
      case "GET /health":
        ctx.body = { ok: true };
        return;
      case "POST /login": {
        const username = usernameOf(await readJson(ctx.req));
        if (username === null) return fail(ctx, 400, "username required");
        const payload = payloadFor(username);
        storeLogin(sessions.login(ctx, payload.userId), payload);
        ctx.body = { ok: true };
        return;
      }
      case "GET /me": {
        const session = sessions.of(ctx);
        if (session.userId === null) return fail(ctx, 401, "not logged in");
        ctx.body = meOfSession(session);
        return;
      }
      case "POST /cart": {
        const sku = skuOf(await readJson(ctx.req));
        if (sku === null) return fail(ctx, 400, "sku required");
        const session = sessions.of(ctx);
        if (session.userId === null) return fail(ctx, 401, "not logged in");
        ctx.body = { sku, qty: session.increment(`cart:${sku}`) };
        return;
      }
      case "GET /cart": {
        const session = sessions.of(ctx);
        if (session.userId === null) return fail(ctx, 401, "not logged in");
        ctx.body = cartSummary(cartLinesOf(session.all()));
        return;
      }
      default:
        ctx.status = 404;
    }
  });
}

/** Bare Koa 3, no sessions: the upper bound. Answers constants of the same size as the session apps. */
import Koa from "koa";
import { CONSTANT_CART, CONSTANT_ME, appEnv, fakeToken, onStop, readJson, skuOf, usernameOf } from "../shared.js";

function fail(ctx: Koa.Context, status: number, error: string): void {
  ctx.status = status;
  ctx.body = { error };
}

const env = appEnv();
const app = new Koa();

app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`;
  switch (route) {
    case "GET /health":
      ctx.body = { ok: true };
      return;
    case "POST /login": {
      if (usernameOf(await readJson(ctx.req)) === null) return fail(ctx, 400, "username required");
      ctx.cookies.set("bare", fakeToken(), { httpOnly: true, sameSite: "lax" });
      ctx.body = { ok: true };
      return;
    }
    case "GET /me":
      ctx.body = CONSTANT_ME;
      return;
    case "POST /cart": {
      const sku = skuOf(await readJson(ctx.req));
      if (sku === null) return fail(ctx, 400, "sku required");
      ctx.body = { sku, qty: 2 };
      return;
    }
    case "GET /cart":
      ctx.body = CONSTANT_CART;
      return;
    default:
      ctx.status = 404;
  }
});

const server = app.listen(env.port, "127.0.0.1");
onStop(() => {
  server.close();
});

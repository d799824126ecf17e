/** koa-session + koa-redis (ioredis 4 inside): the documented setup (defaults: rolling false, renew false). */
import { once, type EventEmitter } from "node:events";
import Koa from "koa";
import session from "koa-session";
import redisStore from "koa-redis";
import type { CartLine, Profile } from "../shared.js";
import { addToCartArray, appEnv, cartSummary, meOf, onStop, payloadFor, readJson, skuOf, usernameOf } from "../shared.js";

interface BlobSession {
  userId?: string;
  profile?: Profile;
  cart?: CartLine[];
}

function fail(ctx: Koa.Context, status: number, error: string): void {
  ctx.status = status;
  ctx.body = { error };
}

const env = appEnv();
const store = redisStore({ host: env.redisHost, port: env.redisPort });
await once(store.client as EventEmitter, "ready");
const app = new Koa();
app.keys = ["bench secret: koa-session + koa-redis"];
app.use(session({ store, prefix: "ks:" }, app));

app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`;
  const data = ctx.session as unknown as BlobSession;
  switch (route) {
    case "GET /health":
      ctx.body = { ok: true };
      return;
    case "POST /login": {
      const username = usernameOf(await readJson(ctx.req));
      if (username === null) return fail(ctx, 400, "username required");
      const { userId, cart, ...profile } = payloadFor(username);
      const fresh = ctx.session as unknown as BlobSession;
      fresh.userId = userId;
      fresh.profile = profile;
      fresh.cart = cart;
      ctx.body = { ok: true };
      return;
    }
    case "GET /me":
      if (data.userId === undefined || data.profile === undefined) return fail(ctx, 401, "not logged in");
      ctx.body = meOf(data.userId, data.profile);
      return;
    case "POST /cart": {
      const sku = skuOf(await readJson(ctx.req));
      if (sku === null) return fail(ctx, 400, "sku required");
      if (data.userId === undefined) return fail(ctx, 401, "not logged in");
      const { cart, qty } = addToCartArray(data.cart ?? [], sku);
      data.cart = cart;
      ctx.body = { sku, qty };
      return;
    }
    case "GET /cart":
      if (data.userId === undefined) return fail(ctx, 401, "not logged in");
      ctx.body = cartSummary(data.cart ?? []);
      return;
    default:
      ctx.status = 404;
  }
});

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await (store.client as { quit(): Promise<unknown> }).quit();
});

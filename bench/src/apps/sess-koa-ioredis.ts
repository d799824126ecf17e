/** sess Koa on ioredis 6, default options (BENCH_NEAR_CACHE=1: with a near cache). */
import { once } from "node:events";
import Koa from "koa";
import { Redis } from "ioredis";
import { sessionMiddleware } from "@sess/koa";
import { createIoredisDriver } from "@sess/ioredis";
import { appEnv, cartSummary, onStop, payloadFor, readJson, sessStore, skuOf, usernameOf } from "../shared.js";
import { cartLinesOf, meOfSession, storeLogin, type Data } from "./sess-data.js";

function fail(ctx: Koa.Context, status: number, error: string): void {
  ctx.status = status;
  ctx.body = { error };
}

const env = appEnv();
// BENCH_AUTOPIPELINING=1: the ioredis option that coalesces the commands of one tick into one write (off by default).
const client = new Redis(env.redisUrl, { enableAutoPipelining: process.env.BENCH_AUTOPIPELINING === "1" });
await once(client, "ready");
const sessions = sessionMiddleware<Data>({ driver: createIoredisDriver({ client, ...sessStore("sk-io") }) });
const app = new Koa();
app.use(sessions);

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

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await sessions.manager.close();
  client.disconnect();
});

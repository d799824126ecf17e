import Koa from "koa";
import { sessionMiddleware } from "@sess/koa";
import { textHeaders } from "./page.js";
import { errorReply, readJson, type Demo, type DemoData, type Reply } from "./api.js";

/** The demo API on Koa: sessionless routes answer before the session middleware runs. */
export function createKoaApp(demo: Demo, log: (line: string) => void = console.error): Koa {
  const sessions = sessionMiddleware<DemoData>({ manager: demo.manager, trustProxy: demo.trustProxy });
  const app = new Koa();
  app.silent = true;

  const call = (ctx: Koa.Context, params: Record<string, string>) => ({
    params,
    header: (name: string) => ctx.get(name) || undefined,
    body: () => readJson(ctx.req),
  });
  const send = (ctx: Koa.Context, reply: Reply) => {
    ctx.status = reply.status;
    if (reply.text) {
      ctx.set(textHeaders(reply.text.type));
      ctx.body = reply.text.content;
    } else if (reply.body !== undefined) ctx.body = reply.body;
  };

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const reply = errorReply(error, log);
      const headers = (error as { headers?: Record<string, string | string[]> }).headers;
      if (headers && typeof headers === "object") ctx.set(headers);
      send(ctx, reply);
    }
  });
  app.use(async (ctx, next) => {
    const { route, params } = demo.match(ctx.method, ctx.url);
    if (!route.session) {
      send(ctx, await route.handle(call(ctx, params)));
      return;
    }
    await sessions(ctx, async () => {
      send(ctx, await route.handle({ ...call(ctx, params), session: sessions.of(ctx) }));
    });
    await next();
  });
  return app;
}

import { Hono, type Context } from "hono";
import { sessionMiddleware, type SessionEnv } from "@sess/hono";
import { textHeaders } from "./page.js";
import { errorReply, readJson, type Demo, type DemoData, type Reply, type Route } from "./api.js";

type Env = SessionEnv<DemoData> & { Variables: { route: { route: Route; params: Record<string, string> } } };

/**
 * The demo API on Hono (any runtime; served here by @hono/node-server): the first middleware
 * matches the route and answers sessionless routes before the session middleware runs.
 */
export function createHonoApp(demo: Demo, log: (line: string) => void = console.error): Hono<Env> {
  const sessions = sessionMiddleware<DemoData>({ manager: demo.manager, trustProxy: demo.trustProxy });
  const app = new Hono<Env>();

  const call = (c: Context<Env>, params: Record<string, string>) => ({
    params,
    header: (name: string) => c.req.header(name),
    body: () => readJson(c.req.raw.body),
  });
  const send = (c: Context<Env>, reply: Reply) => {
    if (reply.text) return c.body(reply.text.content, reply.status as 200, textHeaders(reply.text.type));
    return reply.body === undefined ? c.body(null, reply.status as 204) : c.json(reply.body, reply.status as 200);
  };

  app.onError((error, c) => {
    const reply = errorReply(error, log);
    const headers = (error as { headers?: Record<string, string> }).headers;
    return c.json(reply.body, reply.status as 500, headers && typeof headers === "object" ? headers : {});
  });
  app.use(async (c, next) => {
    const url = new URL(c.req.url);
    const found = demo.match(c.req.method, url.pathname + url.search);
    if (!found.route.session) return send(c, await found.route.handle(call(c, found.params)));
    c.set("route", found);
    await next();
  });
  app.use(sessions);
  app.all("*", async (c) => {
    const { route, params } = c.get("route");
    if (!route.session) throw new Error("unreachable: sessionless route after the session middleware");
    return send(c, await route.handle({ ...call(c, params), session: c.get("session") }));
  });
  return app;
}

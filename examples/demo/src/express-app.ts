import express, { type NextFunction, type Request, type Response } from "express";
import { sessionMiddleware } from "@sess/express";
import { textHeaders } from "./page.js";
import { errorReply, readJson, type Demo, type DemoData, type Reply, type Route } from "./api.js";

/** The demo API on Express: sessionless routes answer before the session middleware runs. */
export function createExpressApp(demo: Demo, log: (line: string) => void = console.error): express.Express {
  const sessions = sessionMiddleware<DemoData>({ manager: demo.manager, trustProxy: demo.trustProxy });
  const app = express();
  app.disable("x-powered-by");
  const routes = new WeakMap<Request, { route: Route; params: Record<string, string> }>();

  const call = (req: Request, params: Record<string, string>) => ({
    params,
    header: (name: string) => req.get(name),
    body: () => readJson(req),
  });
  const send = (res: Response, reply: Reply) => {
    if (reply.text) res.status(reply.status).set(textHeaders(reply.text.type)).send(reply.text.content);
    else if (reply.body === undefined) res.status(reply.status).end();
    else res.status(reply.status).json(reply.body);
  };

  app.use(async (req, res, next) => {
    try {
      const found = demo.match(req.method, req.url);
      if (found.route.session) {
        routes.set(req, found);
        next();
        return;
      }
      send(res, await found.route.handle(call(req, found.params)));
    } catch (error) {
      next(error);
    }
  });
  app.use(sessions);
  app.use(async (req, res, next) => {
    try {
      const { route, params } = routes.get(req)!;
      if (!route.session) throw new Error("unreachable: sessionless route after the session middleware");
      send(res, await route.handle({ ...call(req, params), session: sessions.of(req) }));
    } catch (error) {
      next(error);
    }
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const reply = errorReply(error, log);
    res.status(reply.status).json(reply.body);
  });
  return app;
}

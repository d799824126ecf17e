import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { sessionPlugin } from "@sess/fastify";
import { textHeaders } from "./page.js";
import { HttpError, errorReply, readJson, type Demo, type DemoData, type Reply, type Route } from "./api.js";

/**
 * The demo API on Fastify: one `onRequest` hook matches the route and answers sessionless routes
 * before the session plugin's hook runs; bodies are read by the demo itself (64 KiB, same errors
 * as on Express and Koa), so Fastify's own body parsers are replaced by one that reads nothing.
 */
export async function createFastifyApp(demo: Demo, log: (line: string) => void = console.error): Promise<FastifyInstance> {
  const sessions = sessionPlugin<DemoData>({ manager: demo.manager, trustProxy: demo.trustProxy });
  const app = Fastify({
    logger: false,
    // Fastify's router refuses a malformed path (`%ZZ`) before any hook runs: answer it as the route
    // table does on every other framework, with the demo's JSON error.
    frameworkErrors: (error, request, reply) => {
      let answer: Reply;
      try {
        demo.match(request.method, request.url);
        answer = errorReply(error.statusCode !== undefined && error.statusCode < 500 ? new HttpError(error.statusCode, error.message) : error, log);
      } catch (refused) {
        answer = errorReply(refused, log);
      }
      void send(reply, answer);
    },
  });
  const routes = new WeakMap<FastifyRequest, { route: Route; params: Record<string, string> }>();

  const call = (request: FastifyRequest, params: Record<string, string>) => ({
    params,
    header: (name: string) => {
      const value = request.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    body: () => readJson(request.raw),
  });
  const send = (reply: FastifyReply, answer: Reply) =>
    answer.text
      ? reply.code(answer.status).headers(textHeaders(answer.text.type)).send(answer.text.content)
      : reply.code(answer.status).send(answer.body);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
  app.setErrorHandler((error, _request, reply) => {
    const answer = errorReply(error, log);
    const headers = (error as { headers?: Record<string, string> }).headers;
    if (headers && typeof headers === "object") void reply.headers(headers);
    return send(reply, answer);
  });

  app.addHook("onRequest", async (request, reply) => {
    const found = demo.match(request.method, request.url);
    if (found.route.session) {
      routes.set(request, found);
      return;
    }
    await send(reply, await found.route.handle(call(request, found.params)));
    return reply;
  });
  await app.register(sessions); // registered after the hook above: its onRequest runs second
  app.all("*", async (request, reply) => {
    const { route, params } = routes.get(request)!;
    if (!route.session) throw new Error("unreachable: sessionless route after the session plugin");
    return send(reply, await route.handle({ ...call(request, params), session: sessions.of(request) }));
  });
  await app.ready();
  return app;
}

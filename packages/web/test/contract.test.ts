import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { SessionError } from "@sess/core";
import { currentName, describeAdapterContract, type CartData } from "../../core/test/adapter-contract.js";
import { currentSession, sessionErrorHandler, sessionErrorResponse, webSessions, type SessionMiddlewareOptions } from "../src/index.js";

/** A Node server that hands each request to `fetch` as a Web `Request` and writes back its `Response`. */
async function serveFetch(fetch: (request: Request) => Promise<Response>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const init = { method: req.method, headers, body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined, duplex: "half" };
    void fetch(new Request(`http://${req.headers.host}${req.url}`, init as RequestInit)).then(async (response) => {
      res.statusCode = response.status;
      for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
      if (response.headers.getSetCookie().length > 0) res.setHeader("set-cookie", response.headers.getSetCookie());
      if (response.body) for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

describeAdapterContract(
  "webSessions over a Node server",
  async (options, control, errorHandling) => {
    const sessions = webSessions<CartData>(options as SessionMiddlewareOptions<CartData>);
    const errors: unknown[] = [];
    const onError =
      errorHandling === "app"
        ? (error: unknown) => {
            errors.push(error);
            const headers = new Headers((error as { headers?: Record<string, string> }).headers);
            return Response.json({ error: (error as Error).message }, { status: error instanceof SessionError ? error.status : 500, headers });
          }
        : errorHandling === "ready-made"
          ? sessionErrorHandler(() => new Response("Internal Server Error", { status: 500 }))
          : (error: unknown) => (error instanceof SessionError ? sessionErrorResponse(error) : new Response("Internal Server Error", { status: 500 }));
    const text = (body: string, headers: Record<string, string> = {}) => new Response(body, { headers: { "content-type": "text/plain", ...headers } });

    const routes: Record<string, (request: Request) => Response | Promise<Response>> = {
      "GET /health": () => Response.json({ ok: true }),
      "GET /outside": async (request) => {
        const { session } = await sessions.openSession(request.headers);
        return Response.json({ user: session.userId, name: session.get("name") ?? null });
      },
    };
    const handled: Record<string, (request: Request) => Response | Promise<Response>> = {
      "GET /read": (request) => {
        const session = sessions.of(request);
        return Response.json({ name: session.get("name") ?? null, visits: session.get("visits") ?? 0 });
      },
      "POST /body": (request) => {
        sessions.of(request).set("name", "body");
        return Response.json({ ok: true });
      },
      "POST /send": (request) => {
        sessions.of(request).set("name", "send");
        return text("sent");
      },
      "POST /redirect": (request) => {
        sessions.of(request).set("name", "redirect");
        return Response.redirect(new URL("/read", request.url), 302);
      },
      "POST /stream": (request) => {
        sessions.of(request).increment("visits");
        return new Response(Readable.toWeb(Readable.from(["a", "b", "c"])) as ReadableStream, { headers: { "content-type": "text/plain" } });
      },
      "POST /runtime-property": (request) => {
        (request as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
        return new Response(null, { status: 204 });
      },
      "POST /ended-meanwhile": async (request) => {
        const session = sessions.of(request);
        session.set("name", "late");
        await sessions.manager.endSession(session.id!);
        return Response.json({ ok: true }, { headers: { "x-handler": "yes" } });
      },
      "POST /fail-commit": (request) => {
        sessions.of(request).set("name", "lost");
        control.down = true;
        return Response.json({ ok: true }, { headers: { "x-handler": "yes" } });
      },
      "POST /login": (request) => {
        sessions.login(request, "ada");
        return Response.json({ ok: true });
      },
      "POST /logout": (request) => {
        sessions.logout(request);
        return new Response(null, { status: 204 });
      },
      "POST /logout-everywhere": async (request) => Response.json({ ended: await sessions.logoutEverywhere(request) }),
      "POST /current": async (request) => {
        await request.json();
        const name = await currentName(currentSession);
        return Response.json({ name, same: currentSession() === sessions.of(request) });
      },
      "GET /boom": () => {
        throw new Error("boom");
      },
    };

    const { url, close } = await serveFetch(async (request) => {
      const key = `${request.method} ${new URL(request.url).pathname}`;
      try {
        const route = routes[key];
        if (route) return await route(request);
        const handler = handled[key];
        if (!handler) return new Response("not found", { status: 404 });
        return await sessions.handle(request, () => handler(request));
      } catch (error) {
        return onError(error);
      }
    });
    return { url, errors, close };
  },
  (options) => webSessions(options as SessionMiddlewareOptions),
);

import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { describe, expect, it } from "vitest";
import { SessionError } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { cookieOf, currentName, describeAdapterContract, type CartData } from "../../core/test/adapter-contract.js";
import { currentSession, sessionErrorHandler, sessionPlugin, type SessionMiddlewareOptions } from "../src/index.js";

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: "127.0.0.1" });
}

describeAdapterContract(
  "sessionPlugin on Fastify 5",
  async (options, control, errorHandling) => {
    const sessions = sessionPlugin<CartData>(options as SessionMiddlewareOptions<CartData>);
    const app = Fastify();
    const errors: unknown[] = [];
    if (errorHandling === "ready-made") app.setErrorHandler(sessionErrorHandler());
    if (errorHandling === "app") {
      app.setErrorHandler((error: Error, _request, reply) => {
        errors.push(error);
        const headers = (error as { headers?: Record<string, string> }).headers;
        if (headers) void reply.headers(headers);
        return reply.code(error instanceof SessionError ? error.status : 500).send({ error: error.message });
      });
    }
    // A sibling context: the plugin registered below never runs here (encapsulation).
    app.get("/health", async () => ({ ok: true }));
    app.get("/outside", async (request) => {
      const { session } = await sessions.openSession(request);
      return { user: session.userId, name: session.get("name") ?? null };
    });
    await app.register(async (scope) => {
      await scope.register(sessions);
      scope.get("/read", async (request) => {
        const session = sessions.of(request);
        return { name: session.get("name") ?? null, visits: session.get("visits") ?? 0 };
      });
      scope.post("/body", async (request) => {
        sessions.of(request).set("name", "body");
        return { ok: true };
      });
      scope.post("/send", (request, reply) => {
        sessions.of(request).set("name", "send");
        void reply.type("text/plain").send("sent");
      });
      scope.post("/redirect", async (request, reply) => {
        sessions.of(request).set("name", "redirect");
        return reply.redirect("/read");
      });
      scope.post("/stream", async (request, reply) => {
        sessions.of(request).increment("visits");
        return reply.type("text/plain").send(Readable.from(["a", "b", "c"]));
      });
      scope.post("/runtime-property", async (request, reply) => {
        (request as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
        return reply.code(204).send();
      });
      scope.post("/ended-meanwhile", async (request, reply) => {
        const session = sessions.of(request);
        session.set("name", "late");
        await sessions.manager.endSession(session.id!);
        void reply.header("x-handler", "yes");
        return { ok: true };
      });
      scope.post("/fail-commit", async (request, reply) => {
        sessions.of(request).set("name", "lost");
        control.down = true;
        void reply.header("x-handler", "yes");
        return { ok: true };
      });
      scope.post("/login", async (request) => {
        sessions.login(request, "ada");
        return { ok: true };
      });
      scope.post("/logout", async (request, reply) => {
        sessions.logout(request);
        return reply.code(204).send();
      });
      scope.post("/current", async (request) => {
        const name = await currentName(currentSession);
        return { name, same: currentSession() === sessions.of(request) };
      });
      scope.get("/boom", async () => {
        throw new Error("boom");
      });
      scope.post("/logout-everywhere", async (request) => ({ ended: await sessions.logoutEverywhere(request) }));
    });
    const url = await listen(app);
    return { url, errors, close: () => app.close() };
  },
  (options) => sessionPlugin(options as SessionMiddlewareOptions),
);

describe("sessionPlugin on Fastify 5", () => {
  async function build(options: Partial<SessionMiddlewareOptions<CartData>> = {}) {
    const sessions = sessionPlugin<CartData>({ driver: createMemoryDriver(), ...options } as SessionMiddlewareOptions<CartData>);
    const app = Fastify();
    return { app, sessions };
  }

  it("keeps a Set-Cookie the handler set next to the session cookie", async () => {
    const { app, sessions } = await build();
    await app.register(sessions);
    app.post("/theme", async (request, reply) => {
      sessions.of(request).set("name", "theme");
      void reply.header("set-cookie", "theme=dark; Path=/");
      return { ok: true };
    });
    const response = await app.inject({ method: "POST", url: "/theme" });
    const cookies = ([] as string[]).concat(response.headers["set-cookie"] ?? []);
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe("theme=dark; Path=/");
    expect(cookies[1]).toMatch(/^sess=/);
    await app.close();
  });

  it("runs only in the context it is registered in and that context's children", async () => {
    const { app, sessions } = await build();
    await app.register(async (scope) => {
      await scope.register(sessions);
      await scope.register(async (child) => {
        child.get("/child", async (request) => ({ session: (request as { session?: unknown }).session !== null, name: sessions.of(request).get("name") ?? null }));
      });
    });
    app.get("/sibling", async (request) => {
      let error: unknown;
      try {
        sessions.of(request);
      } catch (caught) {
        error = caught;
      }
      return { session: (request as { session?: unknown }).session ?? null, error: (error as Error).message };
    });
    const child = await app.inject({ method: "GET", url: "/child" });
    expect(child.json()).toEqual({ session: true, name: null });
    const sibling = await app.inject({ method: "GET", url: "/sibling" });
    expect(sibling.json()).toEqual({ session: null, error: expect.stringMatching(/has no session/) });
    await app.close();
  });

  it("commits the session of a request Fastify answers with its own 404 and error handling", async () => {
    const { app, sessions } = await build();
    await app.register(sessions);
    app.post("/throws", async (request) => {
      sessions.of(request).set("name", "kept");
      throw Object.assign(new Error("teapot"), { statusCode: 418 });
    });
    app.get("/read", async (request) => ({ name: sessions.of(request).get("name") ?? null }));
    const thrown = await app.inject({ method: "POST", url: "/throws" });
    expect(thrown.statusCode).toBe(418);
    const cookie = String(thrown.headers["set-cookie"]).split(";")[0]!;
    expect(cookie).toMatch(/^sess=/);
    const read = await app.inject({ method: "GET", url: "/read", headers: { cookie } });
    expect(read.json()).toEqual({ name: "kept" });
    const missing = await app.inject({ method: "GET", url: "/nowhere", headers: { cookie } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["set-cookie"]).toBeUndefined();
    await app.close();
  });

  it("types the session from the generic without declaration merging", async () => {
    const { app, sessions } = await build();
    await app.register(sessions);
    app.get("/typed", async (request) => {
      const session = sessions.of(request);
      session.increment("visits");
      // @ts-expect-error "name" is a string field, not a counter
      session.increment("name");
      // @ts-expect-error unknown field
      session.get("nope");
      return { visits: session.get("visits") };
    });
    const response = await app.inject({ method: "GET", url: "/typed" });
    expect(response.json()).toEqual({ visits: 1 });
    expect(cookieOf(new Response(null, { headers: { "set-cookie": String(response.headers["set-cookie"]) } }))).toMatch(/^sess=/);
    await app.close();
  });
});

describe("sessionPlugin({ asyncContext: true })", () => {
  it("keeps currentSession() in the handler of a request whose body arrives after the hooks ran", async () => {
    const sessions = sessionPlugin<CartData>({ driver: createMemoryDriver(), asyncContext: true });
    const app = Fastify();
    await app.register(sessions);
    app.post("/current", async (request) => ({ same: currentSession() === sessions.of(request), body: request.body }));
    const url = await listen(app);
    const parts = ['{"a":', "1}"];
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(part));
      },
    });
    const response = await fetch(`${url}/current`, { method: "POST", body, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    expect(await response.json()).toEqual({ same: true, body: { a: 1 } });
    await app.close();
  });
});

describe("sessions.openSession(raw)", () => {
  it("reads the session of a WebSocket upgrade from the raw request", async () => {
    const sessions = sessionPlugin<CartData>({ driver: createMemoryDriver() });
    const app = Fastify();
    await app.register(sessions);
    app.post("/login", async (request) => {
      sessions.login(request, "ada");
      return { ok: true };
    });
    app.server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
      sessions.openSession(req).then(
        ({ session }) => {
          if (session.userId === null) socket.end("HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n");
          else socket.end(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-user: ${session.userId}\r\n\r\n`);
        },
        () => socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n"),
      );
    });
    const url = new URL(await listen(app));
    const upgrade = (cookie?: string) =>
      new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: Number(url.port), path: "/ws", headers: { connection: "Upgrade", upgrade: "websocket", ...(cookie ? { cookie } : {}) } });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(`${res.statusCode} ${String(res.headers["x-user"])}`);
        });
        req.on("response", (res) => resolve(String(res.statusCode)));
        req.on("error", reject);
        req.end();
      });
    const cookie = cookieOf(await fetch(`${url.origin}/login`, { method: "POST" }))!;
    expect(await upgrade(cookie)).toBe("101 ada");
    expect(await upgrade()).toBe("401");
    await app.close();
  });
});

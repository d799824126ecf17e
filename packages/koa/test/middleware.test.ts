import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import Koa3 from "koa";
import Koa2 from "koa2";
import { afterEach, describe, expect, it } from "vitest";
import { SessionError, type SessionDriver } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { sessionMiddleware, type SessionMiddlewareOptions } from "../src/index.js";

interface CartData {
  name: string;
  visits: number;
}

/** A real memory driver that can be switched off, counting the calls that reach it. */
function switchableDriver() {
  const inner = createMemoryDriver();
  const control = { down: false, calls: 0 };
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      control.calls += 1;
      if (control.down) throw new Error("connection refused");
      return fn(...args);
    };
  const driver: SessionDriver = {
    name: "switchable",
    load: guard((id, at) => inner.load(id, at)),
    create: guard((id, s) => inner.create(id, s)),
    update: guard((id, change) => inner.update(id, change)),
    rotate: guard((from, to, r) => inner.rotate(from, to, r)),
    destroy: guard((id, o) => inner.destroy(id, o)),
    listUserSessions: guard((u, at) => inner.listUserSessions(u, at)),
    endUserSessions: guard((u, o) => inner.endUserSessions(u, o)),
    countIndex: guard((n, v, at) => inner.countIndex(n, v, at)),
    findIndex: guard((n, v, p) => inner.findIndex(n, v, p)),
    close: () => inner.close(),
  };
  return { driver, control };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
});

async function listen(app: Koa3): Promise<string> {
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function cookieOf(response: Response): string | undefined {
  return response.headers.getSetCookie()[0]?.split(";")[0];
}

const frameworks = [
  ["Koa 3", Koa3],
  ["Koa 2", Koa2 as unknown as typeof Koa3],
] as const;

describe.each(frameworks)("sessionMiddleware on %s", (_label, Koa) => {
  function build(options: Partial<SessionMiddlewareOptions<CartData>> = {}, errorHandler = true) {
    const { driver, control } = switchableDriver();
    const sessions = sessionMiddleware<CartData>({ driver, ...options } as SessionMiddlewareOptions<CartData>);
    const app = new Koa();
    app.silent = true;
    const errors: unknown[] = [];
    if (errorHandler) {
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          errors.push(error);
          ctx.status = error instanceof SessionError ? error.status : 500;
          const headers = (error as { headers?: Record<string, string | string[]> }).headers;
          if (headers) ctx.set(headers);
          ctx.body = { error: error instanceof Error ? error.message : "error" };
        }
      });
    }
    app.use(async (ctx, next) => {
      if (ctx.path === "/health") {
        ctx.body = { ok: true };
        return;
      }
      await next();
    });
    app.use(sessions);
    app.use(async (ctx) => {
      const session = sessions.of(ctx);
      switch (`${ctx.method} ${ctx.path}`) {
        case "GET /read":
          ctx.body = { name: session.get("name") ?? null, visits: session.get("visits") ?? 0 };
          return;
        case "POST /body":
          session.set("name", "body");
          ctx.body = { ok: true };
          return;
        case "POST /redirect":
          session.set("name", "redirect");
          ctx.redirect("/read");
          return;
        case "POST /stream":
          session.increment("visits");
          ctx.type = "text/plain";
          ctx.body = Readable.from(["a", "b", "c"]);
          return;
        case "POST /runtime-property":
          (ctx as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
          ctx.status = 204;
          return;
        case "POST /ended-meanwhile":
          session.set("name", "late");
          await sessions.manager.endSession(session.id!);
          ctx.set("x-handler", "yes");
          ctx.body = { ok: true };
          return;
        case "POST /fail-commit":
          session.set("name", "lost");
          control.down = true;
          ctx.set("x-handler", "yes");
          ctx.body = { ok: true };
          return;
        case "POST /login":
          sessions.login(ctx, "ada");
          ctx.body = { ok: true };
          return;
        case "POST /logout":
          sessions.logout(ctx);
          ctx.status = 204;
          return;
        case "POST /throw":
          throw new Error("handler failed");
        case "POST /logout-then-throw":
          sessions.logout(ctx);
          throw new Error("handler failed after logout");
        case "POST /login-then-throw":
          sessions.login(ctx, "ada");
          throw new Error("handler failed after login");
        case "POST /logout-everywhere":
          ctx.body = { ended: await sessions.logoutEverywhere(ctx) };
          return;
        default:
          ctx.status = 404;
      }
    });
    return { app, sessions, control, errors };
  }

  it("stores the framework's client address (its proxy setting honoured) with recordDevice.ip", async () => {
    const { app, sessions } = build({ recordDevice: { ip: true } });
    app.proxy = true;
    const url = await listen(app);
    await fetch(`${url}/login`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.9" } });
    expect((await sessions.manager.listUserSessions("ada")).map((meta) => meta.ip)).toEqual(["203.0.113.9"]);
  });

  it("sends no cookie and calls no store for a request without a token that writes nothing", async () => {
    const { app, control } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/read`);
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(control.calls).toBe(0);
  });

  it.each(["body", "redirect", "runtime-property"])("sets the session cookie with no-store on a %s response", async (route) => {
    const { app } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/${route}`, { method: "POST", redirect: "manual" });
    expect(response.status).toBeLessThan(400);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1800/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const read = await fetch(`${url}/read`, { headers: { cookie: cookieOf(response)! } });
    expect(await json(read)).toEqual({ name: route === "runtime-property" ? "runtime" : route, visits: 0 });
  });

  it("commits before a streamed body is sent and keeps the body intact", async () => {
    const { app } = build();
    const url = await listen(app);
    const first = await fetch(`${url}/stream`, { method: "POST" });
    expect(await first.text()).toBe("abc");
    const cookie = cookieOf(first)!;
    expect(cookie).toMatch(/^sess=/);
    expect(await (await fetch(`${url}/stream`, { method: "POST", headers: { cookie } })).text()).toBe("abc");
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).visits).toBe(2);
  });

  it("throws a 503 SessionError with no Set-Cookie when the store fails at open", async () => {
    const { app, control, errors } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
    control.down = true;
    const response = await fetch(`${url}/read`, { headers: { cookie } });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect((errors[0] as SessionError).code).toBe("STORE_UNAVAILABLE");
  });

  it("throws a 503 SessionError with no Set-Cookie when the store fails at commit", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/fail-commit`, { method: "POST" });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect((await json(response)).error).toMatch(/session store failed/);
    expect(errors[0]).toBeInstanceOf(SessionError);
  });

  it("lets Koa's default error handling answer 503 with no Set-Cookie", async () => {
    const { app } = build({}, false);
    const url = await listen(app);
    const response = await fetch(`${url}/fail-commit`, { method: "POST" });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("x-handler")).toBeNull();
  });

  it("answers 409 with a clearing cookie through Koa's default error handling when the session ended meanwhile", async () => {
    const { app } = build({}, false);
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
    const response = await fetch(`${url}/ended-meanwhile`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(409);
    expect(response.headers.get("x-handler")).toBeNull();
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
  });

  it("reports the handler's own error when the handler throws without touching the session", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/throw`, { method: "POST" });
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ message: "handler failed" })]);
  });

  it.each([
    ["the app's error middleware", true],
    ["Koa's default error handling", false],
  ])("still ends the session when the handler throws after logout, and rotates after login (%s)", async (_, handler) => {
    const { app } = build({}, handler);
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
    const failed = await fetch(`${url}/logout-then-throw`, { method: "POST", headers: { cookie } });
    expect(failed.status).toBe(500);
    expect(failed.headers.getSetCookie()[0]).toMatch(/^sess=; /);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBeNull();
    const other = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
    const login = await fetch(`${url}/login-then-throw`, { method: "POST", headers: { cookie: other } });
    expect(login.status).toBe(500);
    const rotated = cookieOf(login)!;
    expect(rotated).not.toBe(other);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: other } }))).name).toBeNull();
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: rotated } }))).name).toBe("body");
  });

  it("marks the cookie Secure with the __Host- prefix behind a trusted proxy only", async () => {
    const trustedUrl = await listen(build({ trustProxy: true }).app);
    const secure = await fetch(`${trustedUrl}/body`, { method: "POST", headers: { "x-forwarded-proto": "https" } });
    expect(secure.headers.getSetCookie()[0]).toMatch(/^__Host-sess=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    const plainUrl = await listen(build().app);
    const plain = await fetch(`${plainUrl}/body`, { method: "POST", headers: { "x-forwarded-proto": "https" } });
    expect(plain.headers.getSetCookie()[0]).toMatch(/^sess=/);
    expect(plain.headers.getSetCookie()[0]).not.toMatch(/Secure/);
  });

  it("warns once when a Secure cookie is configured but the request is plain HTTP", async () => {
    const warnings: string[] = [];
    const url = await listen(build({ cookie: { secure: true }, onWarning: (message) => warnings.push(message) }).app);
    await fetch(`${url}/body`, { method: "POST" });
    await fetch(`${url}/body`, { method: "POST" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/trustProxy/);
  });

  it("carries the token in headers with the header transport", async () => {
    const url = await listen(build({ cookie: false, header: true }).app);
    const created = await fetch(`${url}/body`, { method: "POST" });
    expect(created.headers.getSetCookie()).toEqual([]);
    const token = created.headers.get("session-token")!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const read = await fetch(`${url}/read`, { headers: { authorization: `Bearer ${token}` } });
    expect((await json(read)).name).toBe("body");
  });

  it("issues a new token at login and the old one stops working, data kept", async () => {
    const url = await listen(build().app);
    const before = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
    const after = cookieOf(await fetch(`${url}/login`, { method: "POST", headers: { cookie: before } }))!;
    expect(after).not.toBe(before);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: after } }))).name).toBe("body");
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: before } }))).name).toBeNull();
  });

  it("ends the session and clears the cookie at logout", async () => {
    const url = await listen(build().app);
    const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
    const response = await fetch(`${url}/logout`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; .*Max-Age=0/);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBeNull();
  });

  it("ends the user's other sessions with logoutEverywhere", async () => {
    const url = await listen(build().app);
    const a = cookieOf(await fetch(`${url}/login`, { method: "POST" }))!;
    const b = cookieOf(await fetch(`${url}/login`, { method: "POST" }))!;
    await fetch(`${url}/body`, { method: "POST", headers: { cookie: b } });
    expect(await json(await fetch(`${url}/logout-everywhere`, { method: "POST", headers: { cookie: a } }))).toEqual({ ended: 1 });
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: b } }))).name).toBeNull();
  });

  it("never opens a session for requests answered before it", async () => {
    const { app, control } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/health`, { headers: { cookie: "sess=whatever" } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(control.calls).toBe(0);
  });
});

describe.each(frameworks)("ctx.session on %s", (_label, Koa) => {
  type Named = { session?: unknown };
  const nameOf = (value: unknown) => (value as { get(f: string): unknown } | undefined)?.get("name") ?? null;

  it("reads each request's own session, and leaves requests the middleware did not open a plain session property", async () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path === "/plain") {
        expect((ctx as Named).session).toBeUndefined();
        (ctx as Named).session = { mine: true }; // another library's session object, on a route sess does not serve
        ctx.body = { plain: (ctx as Named).session, keys: Object.keys(ctx).includes("session") };
        return;
      }
      if (ctx.path === "/early") (ctx as Named).session = "set before the middleware opened";
      await next();
    });
    app.use(sessions);
    app.use(async (ctx) => {
      expect((ctx as Named).session).toBe(sessions.of(ctx));
      if (ctx.method === "POST") sessions.of(ctx).set("name", ctx.path.slice(1));
      ctx.body = { name: nameOf((ctx as Named).session) };
    });
    const url = await listen(app);
    const ada = cookieOf(await fetch(`${url}/ada`, { method: "POST" }))!;
    const bob = cookieOf(await fetch(`${url}/bob`, { method: "POST" }))!;
    const reads = await Promise.all([ada, bob, ada, bob].map(async (cookie) => json(await fetch(`${url}/read`, { headers: { cookie } }))));
    expect(reads.map((body) => body.name)).toEqual(["ada", "bob", "ada", "bob"]);
    expect(await json(await fetch(`${url}/plain`))).toEqual({ plain: { mine: true }, keys: true });
    // The route that set its own property left nothing behind for later requests.
    expect(await json(await fetch(`${url}/read`, { headers: { cookie: ada } }))).toEqual({ name: "ada" });
    // A property set before the middleware opened the session is replaced by the session.
    expect(await json(await fetch(`${url}/early`, { headers: { cookie: bob } }))).toEqual({ name: "bob" });
  });

  it("with two sess middlewares on one app, ctx.session is the inner one's and of(ctx) each its own", async () => {
    const outer = sessionMiddleware<CartData>({ driver: createMemoryDriver(), cookie: { name: "outer" } });
    const inner = sessionMiddleware<CartData>({ driver: createMemoryDriver(), cookie: { name: "inner" } });
    const app = new Koa();
    const seen: unknown[] = [];
    app.use(outer);
    app.use(async (ctx, next) => {
      seen.push((ctx as Named).session === outer.of(ctx));
      await next();
    });
    app.use(inner);
    app.use(async (ctx) => {
      seen.push((ctx as Named).session === inner.of(ctx), outer.of(ctx) !== inner.of(ctx));
      ctx.body = { ok: true };
    });
    const url = await listen(app);
    await fetch(`${url}/`);
    await fetch(`${url}/`);
    expect(seen).toEqual([true, true, true, true, true, true]);
  });

  it("hangs on its own accessor when the application's context already has a session property", async () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Koa();
    // What koa-session does: its own accessor on app.context.
    Object.defineProperty(app.context, "session", { configurable: true, get: () => "foreign" });
    app.use(sessions);
    app.use(async (ctx) => {
      ctx.body = { same: (ctx as Named).session === sessions.of(ctx) };
    });
    const url = await listen(app);
    expect(await json(await fetch(`${url}/`))).toEqual({ same: true });
    expect(Object.getOwnPropertyDescriptor(app.context, "session")!.get!()).toBe("foreign");
  });
});

describe("sessionMiddleware(options)", () => {
  it("throws a config error for a non-boolean trustProxy", () => {
    expect(() => sessionMiddleware({ driver: createMemoryDriver(), trustProxy: "yes" as never })).toThrow(/trustProxy/);
  });

  it("reuses a given manager", () => {
    const first = sessionMiddleware({ driver: createMemoryDriver() });
    expect(sessionMiddleware({ manager: first.manager }).manager).toBe(first.manager);
  });

  it("types the session from the generic without declaration merging", () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Koa3();
    app.use(sessions);
    app.use((ctx) => {
      const session = sessions.of(ctx);
      session.increment("visits");
      // @ts-expect-error "name" is a string field, not a counter
      session.increment("name");
      // @ts-expect-error unknown field
      session.get("nope");
    });
    expect(app.middleware).toHaveLength(2);
  });
});

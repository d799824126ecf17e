import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import express5 from "express";
import express4 from "express4";
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
  const control = { down: false, calls: 0, delayUpdate: 0 };
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
    update: guard(async (id, change) => {
      if (control.delayUpdate > 0) await new Promise((r) => setTimeout(r, control.delayUpdate));
      return inner.update(id, change);
    }),
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

async function listen(app: (req: never, res: never) => void): Promise<string> {
  const { createServer } = await import("node:http");
  const server = createServer(app as never);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function cookieOf(response: Response): string | undefined {
  const header = response.headers.getSetCookie()[0];
  return header?.split(";")[0];
}

const frameworks = [
  ["Express 5", express5],
  ["Express 4", express4 as unknown as typeof express5],
] as const;

describe.each(frameworks)("sessionMiddleware on %s", (_label, express) => {
  function build(options: Partial<SessionMiddlewareOptions<CartData>> = {}) {
    const { driver, control } = switchableDriver();
    const sessions = sessionMiddleware<CartData>({ driver, ...options } as SessionMiddlewareOptions<CartData>);
    const app = express();
    const errors: unknown[] = [];
    app.get("/health", (_req, res) => {
      res.json({ ok: true });
    });
    app.use(sessions);
    app.get("/read", (req, res) => {
      res.json({ name: sessions.of(req).get("name") ?? null, visits: sessions.of(req).get("visits") ?? 0 });
    });
    app.post("/json", (req, res) => {
      sessions.of(req).set("name", "json");
      res.json({ ok: true });
    });
    app.post("/send", (req, res) => {
      sessions.of(req).set("name", "send");
      res.send("sent");
    });
    app.post("/end", (req, res) => {
      sessions.of(req).set("name", "end");
      res.statusCode = 201;
      res.end();
    });
    app.post("/redirect", (req, res) => {
      sessions.of(req).set("name", "redirect");
      res.redirect("/read");
    });
    app.post("/stream", (req, res) => {
      sessions.of(req).increment("visits");
      res.setHeader("content-type", "text/plain");
      Readable.from(["a", "b", "c"]).pipe(res);
    });
    app.post("/write-head", (req, res) => {
      sessions.of(req).set("name", "head");
      res.writeHead(200, { "set-cookie": "theme=dark; Path=/", "content-type": "text/plain" });
      res.end("ok");
    });
    app.post("/runtime-property", (req, res) => {
      (req as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
      res.json({ ok: true });
    });
    app.post("/ended-meanwhile", async (req, res) => {
      const session = sessions.of(req);
      session.set("name", "late");
      await sessions.manager.endSession(session.id!);
      res.setHeader("x-handler", "yes");
      res.json({ ok: true });
    });
    app.post("/fail-commit", (req, res) => {
      sessions.of(req).set("name", "lost");
      control.down = true;
      res.setHeader("x-handler", "yes");
      res.json({ ok: true });
    });
    app.post("/login", (req, res) => {
      sessions.login(req, "ada");
      res.json({ ok: true });
    });
    app.post("/logout", (req, res) => {
      sessions.logout(req);
      res.status(204).end();
    });
    app.post("/logout-everywhere", async (req, res) => {
      const ended = await sessions.logoutEverywhere(req);
      res.json({ ended });
    });
    app.post("/set-after-send", (req, res) => {
      res.json({ ok: true });
      try {
        sessions.of(req).set("name", "late");
      } catch (error) {
        errors.push(error);
      }
    });
    app.post("/logout-after-end", (req, res) => {
      res.status(204).end();
      try {
        sessions.logout(req);
      } catch (error) {
        errors.push(error);
      }
    });
    app.post("/logout-then-throw", (req) => {
      sessions.logout(req);
      throw new Error("handler failed after logout");
    });
    app.post("/wrapped", (req, res) => {
      const wrapped = () => ["writeHead", "write", "end", "flushHeaders"].filter((name) => Object.hasOwn(res, name));
      const before = wrapped();
      sessions.of(req).set("name", "wrapped");
      res.json({ before, after: wrapped() });
    });
    // Response methods taken while the session's commit held them, called after it ended.
    app.post("/kept-wrappers", (req, res) => {
      sessions.of(req).set("name", "kept");
      const end = res.end;
      if (req.query["fail"] !== undefined) control.down = true;
      res.write("a");
      const later = (): void => {
        if (!res.writableEnded && !res.headersSent) {
          setImmediate(later);
          return;
        }
        (end as (chunk: string) => void)("b"); // unbound, as a callback would call it
      };
      setImmediate(later);
    });
    app.post("/write-then-set", (req, res) => {
      res.write("partial");
      try {
        sessions.of(req).set("name", "late");
      } catch (error) {
        errors.push(error);
      }
      res.end();
    });
    app.post("/login-then-throw", (req) => {
      sessions.login(req, "ada");
      throw new Error("handler failed after login");
    });
    app.use((error: unknown, _req: unknown, res: express5.Response, _next: unknown) => {
      errors.push(error);
      const status = error instanceof SessionError ? error.status : 500;
      res.status(status).json({ error: error instanceof Error ? error.message : "error" });
    });
    return { app, sessions, control, errors };
  }

  it("stores the framework's client address (its proxy setting honoured) with recordDevice.ip", async () => {
    const { app, sessions } = build({ recordDevice: { ip: true } });
    app.set("trust proxy", true);
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

  it.each(["json", "send", "end", "redirect", "runtime-property"])(
    "sets the session cookie with no-store on a res.%s response",
    async (route) => {
      const { app } = build();
      const url = await listen(app);
      const response = await fetch(`${url}/${route}`, { method: "POST", redirect: "manual" });
      expect(response.status).toBeLessThan(400);
      const [setCookie] = response.headers.getSetCookie();
      expect(setCookie).toMatch(/^sess=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1800/);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const read = await fetch(`${url}/read`, { headers: { cookie: cookieOf(response)! } });
      const expected = route === "runtime-property" ? "runtime" : route;
      expect(await json(read)).toEqual({ name: expected, visits: 0 });
    },
  );

  it("commits before a streamed response starts and keeps the body intact", async () => {
    const { app } = build();
    const url = await listen(app);
    const first = await fetch(`${url}/stream`, { method: "POST" });
    expect(await first.text()).toBe("abc");
    const cookie = cookieOf(first)!;
    expect(cookie).toMatch(/^sess=/);
    const second = await fetch(`${url}/stream`, { method: "POST", headers: { cookie } });
    expect(await second.text()).toBe("abc");
    const read = await fetch(`${url}/read`, { headers: { cookie } });
    expect((await json(read)).visits).toBe(2);
  });

  it("keeps a Set-Cookie the handler passes to writeHead next to the session cookie", async () => {
    const { app } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/write-head`, { method: "POST" });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe("theme=dark; Path=/");
    expect(cookies[1]).toMatch(/^sess=/);
  });

  it("sends the response only once the store has the write", async () => {
    const { app, sessions, control } = build();
    const url = await listen(app);
    const created = await fetch(`${url}/json`, { method: "POST" });
    const cookie = cookieOf(created)!;
    control.delayUpdate = 150;
    const started = Date.now();
    const response = await fetch(`${url}/send`, { method: "POST", headers: { cookie } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await response.text()).toBe("sent");
    const id = (await json(await fetch(`${url}/read`, { headers: { cookie } }))) as { name: string };
    expect(id.name).toBe("send");
    expect(sessions.manager.driver.name).toBe("switchable");
  });

  it("answers 503 through the app's error handler with no Set-Cookie when the store fails at open", async () => {
    const { app, control, errors } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    control.down = true;
    const response = await fetch(`${url}/read`, { headers: { cookie } });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(errors[0]).toBeInstanceOf(SessionError);
    expect((errors[0] as SessionError).code).toBe("STORE_UNAVAILABLE");
  });

  it("replaces the handler's response with the 503 error response when the store fails at commit", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/fail-commit`, { method: "POST" });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("x-handler")).toBeNull();
    expect((await json(response)).error).toMatch(/session store failed/);
    expect((errors[0] as SessionError).status).toBe(503);
  });

  it("answers 409 with a clearing cookie when the session ended while the request used it", async () => {
    const { app } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const response = await fetch(`${url}/ended-meanwhile`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(409);
    expect(response.headers.get("x-handler")).toBeNull();
    const [cleared] = response.headers.getSetCookie();
    expect(cleared).toMatch(/^sess=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
  });

  it("lets Express's default handler answer 503 when the app has no error handler", async () => {
    const { driver, control } = switchableDriver();
    const sessions = sessionMiddleware({ driver });
    const app = express();
    app.use(sessions);
    app.post("/", (req, res) => {
      sessions.of(req).set("x", 1);
      control.down = true;
      res.json({ ok: true });
    });
    const url = await listen(app);
    const response = await fetch(url, { method: "POST" });
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("marks the cookie Secure with the __Host- prefix behind a trusted proxy only", async () => {
    const trusted = build({ trustProxy: true });
    const trustedUrl = await listen(trusted.app);
    const secure = await fetch(`${trustedUrl}/json`, { method: "POST", headers: { "x-forwarded-proto": "https" } });
    expect(secure.headers.getSetCookie()[0]).toMatch(/^__Host-sess=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);

    const untrusted = build();
    const untrustedUrl = await listen(untrusted.app);
    const plain = await fetch(`${untrustedUrl}/json`, { method: "POST", headers: { "x-forwarded-proto": "https" } });
    expect(plain.headers.getSetCookie()[0]).toMatch(/^sess=/);
    expect(plain.headers.getSetCookie()[0]).not.toMatch(/Secure/);
  });

  it("warns once when a Secure cookie is configured but the request is plain HTTP", async () => {
    const warnings: string[] = [];
    const { app } = build({ cookie: { secure: true }, onWarning: (message) => warnings.push(message) });
    const url = await listen(app);
    await fetch(`${url}/json`, { method: "POST" });
    await fetch(`${url}/json`, { method: "POST" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/trustProxy/);
  });

  it("carries the token in headers with the header transport", async () => {
    const { app } = build({ cookie: false, header: true });
    const url = await listen(app);
    const created = await fetch(`${url}/json`, { method: "POST" });
    expect(created.headers.getSetCookie()).toEqual([]);
    const token = created.headers.get("session-token")!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const read = await fetch(`${url}/read`, { headers: { authorization: `Bearer ${token}` } });
    expect((await json(read)).name).toBe("json");
  });

  it("issues a new token at login and the old one stops working, data kept", async () => {
    const { app } = build();
    const url = await listen(app);
    const before = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const login = await fetch(`${url}/login`, { method: "POST", headers: { cookie: before } });
    const after = cookieOf(login)!;
    expect(after).not.toBe(before);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: after } }))).name).toBe("json");
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: before } }))).name).toBeNull();
  });

  it("ends the session and clears the cookie at logout", async () => {
    const { app } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const response = await fetch(`${url}/logout`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; .*Max-Age=0/);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBeNull();
  });

  it("ends the user's other sessions with logoutEverywhere", async () => {
    const { app } = build();
    const url = await listen(app);
    const a = cookieOf(await fetch(`${url}/login`, { method: "POST" }))!;
    const b = cookieOf(await fetch(`${url}/login`, { method: "POST" }))!;
    await fetch(`${url}/json`, { method: "POST", headers: { cookie: b } });
    const response = await fetch(`${url}/logout-everywhere`, { method: "POST", headers: { cookie: a } });
    expect(await json(response)).toEqual({ ended: 1 });
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: b } }))).name).toBeNull();
  });

  it("throws CONFLICT for a change made after the response was sent, instead of dropping it", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    expect((await fetch(`${url}/set-after-send`, { method: "POST", headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${url}/logout-after-end`, { method: "POST", headers: { cookie } })).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors).toEqual([
      expect.objectContaining({ code: "CONFLICT", message: expect.stringMatching(/already committed/) }),
      expect.objectContaining({ code: "CONFLICT", message: expect.stringMatching(/already committed/) }),
    ]);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBe("json");
  });

  it("leaves a read's response methods as they are and wraps them at the session's first change", async () => {
    const { app } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const response = await fetch(`${url}/wrapped`, { method: "POST", headers: { cookie } });
    expect(await json(response)).toEqual({ before: [], after: ["writeHead", "write", "end", "flushHeaders"] });
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBe("wrapped");
  });

  it("passes on a held method called after the commit by a kept reference, and drops it after a failed commit", async () => {
    const { app, errors, control } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const sent = await fetch(`${url}/kept-wrappers`, { method: "POST", headers: { cookie } });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toBe("ab");
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBe("kept");
    const failed = await fetch(`${url}/kept-wrappers?fail`, { method: "POST", headers: { cookie } });
    expect(failed.status).toBe(503);
    expect((await json(failed)).error).toMatch(/session store failed/);
    expect(errors).toEqual([expect.objectContaining({ code: "STORE_UNAVAILABLE" })]);
    control.down = false;
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBe("kept");
  });

  it("throws CONFLICT for a first change made after an unheld response started streaming", async () => {
    const { app, errors } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const response = await fetch(`${url}/write-then-set`, { method: "POST", headers: { cookie } });
    expect(await response.text()).toBe("partial");
    expect(errors).toEqual([expect.objectContaining({ code: "CONFLICT", message: expect.stringMatching(/already committed/) })]);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBe("json");
  });

  it("still ends the session when the handler throws after logout, and rotates after login", async () => {
    const { app } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const failed = await fetch(`${url}/logout-then-throw`, { method: "POST", headers: { cookie } });
    expect(failed.status).toBe(500);
    expect(failed.headers.getSetCookie()[0]).toMatch(/^sess=; /);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBeNull();
    const other = cookieOf(await fetch(`${url}/json`, { method: "POST" }))!;
    const login = await fetch(`${url}/login-then-throw`, { method: "POST", headers: { cookie: other } });
    expect(login.status).toBe(500);
    const rotated = cookieOf(login)!;
    expect(rotated).not.toBe(other);
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: other } }))).name).toBeNull();
    expect((await json(await fetch(`${url}/read`, { headers: { cookie: rotated } }))).name).toBe("json");
  });

  it("never opens a session for routes mounted before it", async () => {
    const { app, control } = build();
    const url = await listen(app);
    const response = await fetch(`${url}/health`, { headers: { cookie: "sess=whatever" } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(control.calls).toBe(0);
  });
});

describe("sessionMiddleware(options)", () => {
  it("throws a config error for a non-boolean trustProxy", () => {
    expect(() => sessionMiddleware({ driver: createMemoryDriver(), trustProxy: "yes" as never })).toThrow(/trustProxy/);
  });

  it("reuses a given manager", () => {
    const first = sessionMiddleware({ driver: createMemoryDriver() });
    const second = sessionMiddleware({ manager: first.manager });
    expect(second.manager).toBe(first.manager);
  });

  it("types the session from the generic without declaration merging", () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const check = (req: Parameters<typeof sessions.of>[0]) => {
      const session = sessions.of(req);
      session.increment("visits");
      // @ts-expect-error "name" is a string field, not a counter
      session.increment("name");
      // @ts-expect-error unknown field
      session.get("nope");
    };
    expect(typeof check).toBe("function");
  });
});

import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { SessionError } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { currentName, describeAdapterContract, type CartData } from "../../core/test/adapter-contract.js";
import { currentSession, sessionErrorHandler, sessionMiddleware, type SessionEnv, type HonoSessionOptions } from "../src/index.js";

async function listen(app: Hono<never>): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as unknown as { closeAllConnections(): void }).closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

describeAdapterContract(
  "sessionMiddleware on Hono 4 over @hono/node-server",
  async (options, control, errorHandling) => {
    const sessions = sessionMiddleware<CartData>(options as HonoSessionOptions<CartData>);
    const app = new Hono<SessionEnv<CartData>>();
    const errors: unknown[] = [];
    if (errorHandling === "ready-made") app.onError(sessionErrorHandler());
    if (errorHandling === "app") {
      app.onError((error, c) => {
        errors.push(error);
        const headers = (error as { headers?: Record<string, string> }).headers ?? {};
        return c.json({ error: error.message }, error instanceof SessionError ? (error.status as 503) : 500, headers);
      });
    }
    app.get("/health", (c) => c.json({ ok: true }));
    app.get("/outside", async (c) => {
      const { session } = await sessions.openSession(c);
      return c.json({ user: session.userId, name: session.get("name") ?? null });
    });
    app.use(sessions);
    app.get("/read", (c) => {
      const session = c.get("session");
      return c.json({ name: session.get("name") ?? null, visits: session.get("visits") ?? 0 });
    });
    app.post("/body", (c) => {
      c.get("session").set("name", "body");
      return c.json({ ok: true });
    });
    app.post("/send", (c) => {
      sessions.of(c).set("name", "send");
      return c.text("sent");
    });
    app.post("/redirect", (c) => {
      c.get("session").set("name", "redirect");
      return c.redirect("/read");
    });
    app.post("/stream", (c) => {
      c.get("session").increment("visits");
      const parts = ["a", "b", "c"];
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const part = parts.shift();
          if (part === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(part));
        },
      });
      return c.body(body, 200, { "content-type": "text/plain" });
    });
    app.post("/runtime-property", (c) => {
      (c as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
      return c.body(null, 204);
    });
    app.post("/ended-meanwhile", async (c) => {
      const session = c.get("session");
      session.set("name", "late");
      await sessions.manager.endSession(session.id!);
      c.header("x-handler", "yes");
      return c.json({ ok: true });
    });
    app.post("/fail-commit", (c) => {
      c.get("session").set("name", "lost");
      control.down = true;
      c.header("x-handler", "yes");
      return c.json({ ok: true });
    });
    app.post("/login", (c) => {
      sessions.login(c, "ada");
      return c.json({ ok: true });
    });
    app.post("/logout", (c) => {
      sessions.logout(c);
      return c.body(null, 204);
    });
    app.post("/current", async (c) => {
      await c.req.json();
      const name = await currentName(currentSession);
      return c.json({ name, same: currentSession() === c.get("session") });
    });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    app.post("/logout-everywhere", async (c) => c.json({ ended: await sessions.logoutEverywhere(c) }));
    const { url, close } = await listen(app as unknown as Hono<never>);
    return { url, errors, close };
  },
  (options) => sessionMiddleware(options as HonoSessionOptions),
);

describe("sessionMiddleware on Hono 4", () => {
  it("keeps the handler's own cookies next to the session cookie", async () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Hono<SessionEnv<CartData>>();
    app.use(sessions);
    app.post("/theme", (c) => {
      c.get("session").set("name", "theme");
      c.header("set-cookie", "theme=dark; Path=/", { append: true });
      return c.json({ ok: true });
    });
    const response = await app.request("/theme", { method: "POST" });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe("theme=dark; Path=/");
    expect(cookies[1]).toMatch(/^sess=/);
  });

  it("commits on a response Hono's error handling made from a thrown error", async () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Hono<SessionEnv<CartData>>();
    app.use(sessions);
    app.post("/throws", (c) => {
      c.get("session").set("name", "kept");
      throw new Error("boom");
    });
    app.get("/read", (c) => c.json({ name: c.get("session").get("name") ?? null }));
    app.onError((_error, c) => c.json({ error: "handled" }, 500));
    const thrown = await app.request("/throws", { method: "POST" });
    expect(thrown.status).toBe(500);
    const cookie = thrown.headers.getSetCookie()[0]!.split(";")[0]!;
    const read = await app.request("/read", { headers: { cookie } });
    expect(await read.json()).toEqual({ name: "kept" });
  });

  it("judges the request secure by the socket on @hono/node-server, not by an absolute https:// target", async () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Hono<SessionEnv<CartData>>();
    app.use(sessions);
    app.post("/body", (c) => {
      c.get("session").set("name", "body");
      return c.json({ url: c.req.url });
    });
    const { url, close } = await listen(app as unknown as Hono<never>);
    const { port } = new URL(url);
    const answer = await new Promise<{ url: string; cookie: string }>((resolve, reject) => {
      const sent = httpRequest({ host: "127.0.0.1", port, method: "POST", path: `https://127.0.0.1:${port}/body` }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ url: (JSON.parse(text) as { url: string }).url, cookie: String(response.headers["set-cookie"]) }));
      });
      sent.on("error", reject);
      sent.end();
    });
    await close();
    expect(answer.url).toMatch(/^https:/);
    expect(answer.cookie).toMatch(/^sess=/);
  });

  it("takes the client address from the ip option", async () => {
    const sessions = sessionMiddleware<CartData>({
      driver: createMemoryDriver(),
      recordDevice: { ip: true },
      ip: (c) => c.req.header("x-client"),
    });
    const app = new Hono<SessionEnv<CartData>>();
    app.use(sessions);
    app.post("/login", async (c) => {
      sessions.login(c, "ada");
      return c.json({ ok: true });
    });
    await app.request("/login", { method: "POST", headers: { "x-client": "203.0.113.7" } });
    const [meta] = await sessions.manager.listUserSessions("ada");
    expect(meta!.ip).toBe("203.0.113.7");
  });

  it("throws a config error for options that are not an object or an ip that is not a function", () => {
    expect(() => sessionMiddleware(undefined as never)).toThrow(/options/);
    expect(() => sessionMiddleware({ driver: createMemoryDriver(), ip: "1.2.3.4" as never })).toThrow(/"ip"/);
  });

  it("types c.get(\"session\") through Hono's Variables and of(c) through the generic", async () => {
    const sessions = sessionMiddleware<CartData>({ driver: createMemoryDriver() });
    const app = new Hono().use(sessions);
    app.get("/typed", (c) => {
      const session = c.get("session");
      session.increment("visits");
      // @ts-expect-error "name" is a string field, not a counter
      session.increment("name");
      // @ts-expect-error unknown field
      sessions.of(c).get("nope");
      return c.json({ visits: session.get("visits") });
    });
    expect(await (await app.request("/typed")).json()).toEqual({ visits: 1 });
  });
});

import { createServer, request, type IncomingMessage, type Server } from "node:http";
import express from "express";
import { describe, expect, it } from "vitest";
import { createMemoryDriver } from "@sess/core/memory";
import { currentSession, sessionMiddleware } from "../src/index.js";
import { cookieOf, listen } from "./server.js";

interface Data {
  username: string;
}

async function hostOf(server: Server): Promise<string> {
  return (await listen(server)).slice("http://".length);
}

/** A service function that is not handed `req`. */
async function greeting(): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `hello ${currentSession<Data>().get("username") ?? "stranger"}`;
}

function build(asyncContext: boolean) {
  const sessions = sessionMiddleware<Data>({ driver: createMemoryDriver(), asyncContext });
  const app = express();
  app.use(sessions);
  app.post("/login", (req, res) => {
    sessions.login(req, "ada").set("username", "ada");
    res.json({ ok: true });
  });
  app.get("/greeting", async (_req, res, next) => {
    try {
      res.json({ greeting: await greeting(), typed: sessions.current().get("username") ?? null });
    } catch (error) {
      next(error);
    }
  });
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: error.message });
  });
  const server = createServer(app);
  server.on("upgrade", (req: IncomingMessage, socket) => {
    sessions.openSession(req).then(
      ({ session }) => {
        if (session.userId === null) {
          socket.end("HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n");
          return;
        }
        socket.end(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-user: ${session.userId}\r\n\r\n`);
      },
      () => socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n"),
    );
  });
  return { server, sessions };
}

function upgrade(host: string, cookie?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: host.split(":")[0], port: Number(host.split(":")[1]), path: "/ws", headers: { connection: "Upgrade", upgrade: "websocket", ...(cookie ? { cookie } : {}) } });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(`${res.statusCode} ${String(res.headers["x-user"])}`);
    });
    req.on("response", (res) => resolve(String(res.statusCode)));
    req.on("error", reject);
    req.end();
  });
}

describe("sessions.openSession(req)", () => {
  it("reads the session of a WebSocket upgrade request", async () => {
    const { server } = build(false);
    const host = await hostOf(server);
    const login = await fetch(`http://${host}/login`, { method: "POST" });
    const cookie = cookieOf(login);
    expect(await upgrade(host, cookie)).toBe("101 ada");
    expect(await upgrade(host)).toBe("401");
  });
});

describe("currentSession()", () => {
  it("returns the request's session in code not handed req, with asyncContext: true", async () => {
    const { server } = build(true);
    const host = await hostOf(server);
    const login = await fetch(`http://${host}/login`, { method: "POST" });
    const cookie = cookieOf(login);
    const [mine, anonymous] = await Promise.all([
      fetch(`http://${host}/greeting`, { headers: { cookie } }).then((r) => r.json()),
      fetch(`http://${host}/greeting`).then((r) => r.json()),
    ]);
    expect(mine).toEqual({ greeting: "hello ada", typed: "ada" });
    expect(anonymous).toEqual({ greeting: "hello stranger", typed: null });
  });

  it("throws a message naming asyncContext without it", async () => {
    const { server } = build(false);
    const host = await hostOf(server);
    const response = await fetch(`http://${host}/greeting`);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toMatch(/asyncContext: true/);
  });
});

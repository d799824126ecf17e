import { Readable } from "node:stream";
import express from "express";
import { currentName, describeAdapterContract, type CartData } from "../../core/test/adapter-contract.js";
import { currentSession, sessionErrorHandler, sessionMiddleware, type SessionMiddlewareOptions } from "../src/index.js";
import { listen } from "./server.js";

describeAdapterContract(
  "sessionMiddleware on Express 5",
  async (options, control, errorHandling) => {
    const sessions = sessionMiddleware<CartData>(options as SessionMiddlewareOptions<CartData>);
    const app = express();
    const errors: unknown[] = [];
    app.get("/health", (_req, res) => {
      res.json({ ok: true });
    });
    app.get("/outside", async (req, res) => {
      const { session } = await sessions.openSession(req);
      res.json({ user: session.userId, name: session.get("name") ?? null });
    });
    app.use(sessions);
    app.use(express.json());
    app.get("/read", (req, res) => {
      const session = sessions.of(req);
      res.json({ name: session.get("name") ?? null, visits: session.get("visits") ?? 0 });
    });
    app.post("/body", (req, res) => {
      sessions.of(req).set("name", "body");
      res.json({ ok: true });
    });
    app.post("/send", (req, res) => {
      sessions.of(req).set("name", "send");
      res.type("text/plain").send("sent");
    });
    app.post("/redirect", (req, res) => {
      sessions.of(req).set("name", "redirect");
      res.redirect("/read");
    });
    app.post("/stream", (req, res) => {
      sessions.of(req).increment("visits");
      res.type("text/plain");
      Readable.from(["a", "b", "c"]).pipe(res);
    });
    app.post("/runtime-property", (req, res) => {
      (req as unknown as { session: { set(f: string, v: unknown): void } }).session.set("name", "runtime");
      res.status(204).end();
    });
    app.post("/ended-meanwhile", async (req, res) => {
      const session = sessions.of(req);
      session.set("name", "late");
      await sessions.manager.endSession(session.id!);
      res.set("x-handler", "yes").json({ ok: true });
    });
    app.post("/fail-commit", (req, res) => {
      sessions.of(req).set("name", "lost");
      control.down = true;
      res.set("x-handler", "yes").json({ ok: true });
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
      res.json({ ended: await sessions.logoutEverywhere(req) });
    });
    app.post("/current", async (req, res) => {
      const name = await currentName(currentSession);
      res.json({ name, same: currentSession() === sessions.of(req) });
    });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    if (errorHandling === "ready-made") app.use(sessionErrorHandler());
    if (errorHandling === "app") {
      app.use((error: Error & { status?: number; headers?: Record<string, string> }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        errors.push(error);
        if (error.headers) res.set(error.headers);
        res.status(error.status ?? 500).json({ error: error.message });
      });
    }
    return { url: await listen(app), errors, close: async () => undefined };
  },
  (options) => sessionMiddleware(options as SessionMiddlewareOptions),
);

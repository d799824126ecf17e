import express from "express";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createMemoryDriver } from "@sess/core/memory";
import { isSessionError, sessionErrorHandler, sessionMiddleware } from "../src/index.js";
import { cookieOf, listen } from "./server.js";

function build() {
  const driver = createMemoryDriver();
  const sessions = sessionMiddleware({ driver });
  const app = express();
  const others: unknown[] = [];
  app.use(sessions);
  app.post("/write", (req, res) => {
    sessions.of(req).set("n", 1);
    res.json({ ok: true });
  });
  app.post("/ended-meanwhile", async (req, res) => {
    const session = sessions.of(req);
    session.set("n", 2);
    await sessions.manager.endSession(session.id!);
    res.json({ ok: true });
  });
  app.get("/boom", () => {
    throw new Error("not a session error");
  });
  app.use(sessionErrorHandler());
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    others.push(error);
    res.status(500).json({ error: "other" });
  });
  return { app, driver, others };
}

describe("sessionErrorHandler()", () => {
  it("answers a store outage with 503, Retry-After, no-store and a JSON body without stack or internal detail", async () => {
    const { app, driver } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/write`, { method: "POST" }));
    driver.load = () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.7:6379"));
    const response = await fetch(`${url}/write`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.getSetCookie()).toEqual([]);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: "STORE_UNAVAILABLE", message: "the session store is unavailable, try again" });
    expect(text).not.toMatch(/10\.0\.0\.7|at |\.ts/);
  });

  it("sends the clearing cookie of a session that ended while the request used it", async () => {
    const { app } = build();
    const url = await listen(app);
    const cookie = cookieOf(await fetch(`${url}/write`, { method: "POST" }));
    const response = await fetch(`${url}/ended-meanwhile`, { method: "POST", headers: { cookie } });
    expect(response.status).toBe(409);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; .*Max-Age=0/);
    expect(((await response.json()) as { error: string }).error).toBe("CONFLICT");
  });

  it("passes any other error to the next error handler", async () => {
    const { app, others } = build();
    const url = await listen(app);
    expect((await fetch(`${url}/boom`)).status).toBe(500);
    expect(others).toHaveLength(1);
  });
});

describe("isSessionError(error)", () => {
  it("narrows to an error whose headers need no cast", () => {
    const error: unknown = new Error("x");
    if (isSessionError(error)) expectTypeOf(error.headers).toEqualTypeOf<Record<string, string> | undefined>();
    expect(isSessionError(error)).toBe(false);
  });
});

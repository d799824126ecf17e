/** Bare Hono 4 on @hono/node-server, no sessions: the upper bound. Answers constants of the same size as the session apps. */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { CONSTANT_CART, CONSTANT_ME, appEnv, fakeToken, onStop, skuOf, usernameOf } from "../shared.js";

const env = appEnv();
const app = new Hono();
const body = (request: Request): Promise<unknown> => request.json().catch(() => null);

app.get("/health", (c) => c.json({ ok: true }));
app.post("/login", async (c) => {
  if (usernameOf(await body(c.req.raw)) === null) return c.json({ error: "username required" }, 400);
  c.header("set-cookie", `bare=${fakeToken()}; Path=/; HttpOnly; SameSite=Lax`);
  return c.json({ ok: true });
});
app.get("/me", (c) => c.json(CONSTANT_ME));
app.post("/cart", async (c) => {
  const sku = skuOf(await body(c.req.raw));
  if (sku === null) return c.json({ error: "sku required" }, 400);
  return c.json({ sku, qty: 2 });
});
app.get("/cart", (c) => c.json(CONSTANT_CART));

const server = serve({ fetch: app.fetch, port: env.port, hostname: "127.0.0.1" });
onStop(() => {
  server.close();
});

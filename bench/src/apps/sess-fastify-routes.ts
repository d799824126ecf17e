/** The routes of the sess Fastify apps: per-field writes, cart lines incremented atomically. */
import type { FastifyInstance } from "fastify";
import type { SessionPlugin } from "@sess/fastify";
import { cartSummary, payloadFor, skuOf, usernameOf } from "../shared.js";
import { cartLinesOf, type Data } from "./sess-data.js";

export function sessFastifyRoutes(app: FastifyInstance, sessions: SessionPlugin<Data>): void {
  app.get("/health", async () => ({ ok: true }));
  app.post("/login", async (request, reply) => {
    const username = usernameOf(request.body);
    if (username === null) return reply.code(400).send({ error: "username required" });
    const { userId, cart, preferences, ...profile } = payloadFor(username);
    const session = sessions.login(request, userId);
    session.set("username", profile.username);
    session.set("email", profile.email);
    session.set("role", profile.role);
    session.set("tenant", profile.tenant);
    session.set("preferences", preferences);
    for (const line of cart) session.set(`cart:${line.sku}`, line.qty);
    return { ok: true };
  });
  app.get("/me", async (request, reply) => {
    const session = sessions.of(request);
    if (session.userId === null) return reply.code(401).send({ error: "not logged in" });
    return {
      userId: session.userId,
      username: session.get("username"),
      email: session.get("email"),
      role: session.get("role"),
      tenant: session.get("tenant"),
      preferences: session.get("preferences"),
    };
  });
  app.post("/cart", async (request, reply) => {
    const sku = skuOf(request.body);
    if (sku === null) return reply.code(400).send({ error: "sku required" });
    const session = sessions.of(request);
    if (session.userId === null) return reply.code(401).send({ error: "not logged in" });
    return { sku, qty: session.increment(`cart:${sku}`) };
  });
  app.get("/cart", async (request, reply) => {
    const session = sessions.of(request);
    if (session.userId === null) return reply.code(401).send({ error: "not logged in" });
    return cartSummary(cartLinesOf(session.all()));
  });
}

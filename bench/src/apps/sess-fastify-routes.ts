/** The routes of the sess Fastify apps: per-field writes, cart lines incremented atomically. */
import type { FastifyInstance } from "fastify";
import type { SessionPlugin } from "@sess/fastify";
import { cartSummary, payloadFor, skuOf, usernameOf } from "../shared.js";
import { cartLinesOf, meOfSession, storeLogin, type Data } from "./sess-data.js";

export function sessFastifyRoutes(app: FastifyInstance, sessions: SessionPlugin<Data>): void {
  app.get("/health", async () => ({ ok: true }));
  app.post("/login", async (request, reply) => {
    const username = usernameOf(request.body);
    if (username === null) return reply.code(400).send({ error: "username required" });
    const payload = payloadFor(username);
    storeLogin(sessions.login(request, payload.userId), payload);
    return { ok: true };
  });
  app.get("/me", async (request, reply) => {
    const session = sessions.of(request);
    if (session.userId === null) return reply.code(401).send({ error: "not logged in" });
    return meOfSession(session);
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

/**
 * @fastify/session + @fastify/cookie with connect-redis 9 on node-redis 6, the store its README
 * shows: saveUninitialized false and rolling false (express-session's defaults), a regenerated
 * session id on login. (connect-redis 10 needs Node 22; 9 is the last that runs on Node 20.)
 */
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Fastify from "fastify";
import { RedisStore } from "connect-redis-9";
import { createClient } from "redis";
import type { CartLine, Profile } from "../shared.js";
import { addToCartArray, appEnv, cartSummary, meOf, onStop, payloadFor, skuOf, usernameOf } from "../shared.js";

declare module "fastify" {
  interface Session {
    userId?: string;
    profile?: Profile;
    cart?: CartLine[];
  }
}

const env = appEnv();
const client = createClient({ url: env.redisUrl });
await client.connect();

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store: new RedisStore({ client, prefix: "fs9:" }) as unknown as fastifySession.SessionStore,
  secret: "bench secret: @fastify/session + connect-redis 9!!",
  cookie: { secure: false, sameSite: "lax", httpOnly: true },
  saveUninitialized: false,
  rolling: false,
});

app.get("/health", async () => ({ ok: true }));
app.post("/login", async (request, reply) => {
  const username = usernameOf(request.body);
  if (username === null) return reply.code(400).send({ error: "username required" });
  await request.session.regenerate();
  const { userId, cart, ...profile } = payloadFor(username);
  request.session.userId = userId;
  request.session.profile = profile;
  request.session.cart = cart;
  return { ok: true };
});
app.get("/me", async (request, reply) => {
  const { userId, profile } = request.session;
  if (userId === undefined || profile === undefined) return reply.code(401).send({ error: "not logged in" });
  return meOf(userId, profile);
});
app.post("/cart", async (request, reply) => {
  const sku = skuOf(request.body);
  if (sku === null) return reply.code(400).send({ error: "sku required" });
  if (request.session.userId === undefined) return reply.code(401).send({ error: "not logged in" });
  const { cart, qty } = addToCartArray(request.session.cart ?? [], sku);
  request.session.cart = cart;
  return { sku, qty };
});
app.get("/cart", async (request, reply) => {
  if (request.session.userId === undefined) return reply.code(401).send({ error: "not logged in" });
  return cartSummary(request.session.cart ?? []);
});

await app.listen({ port: env.port, host: "127.0.0.1" });
onStop(async () => {
  await app.close();
  await client.close();
});

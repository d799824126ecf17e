/** Bare Fastify 5, no sessions: the upper bound. Answers constants of the same size as the session apps. */
import Fastify from "fastify";
import { CONSTANT_CART, CONSTANT_ME, appEnv, fakeToken, onStop, skuOf, usernameOf } from "../shared.js";

const env = appEnv();
const app = Fastify({ logger: false });

app.get("/health", async () => ({ ok: true }));
app.post("/login", async (request, reply) => {
  if (usernameOf(request.body) === null) return reply.code(400).send({ error: "username required" });
  void reply.header("set-cookie", `bare=${fakeToken()}; Path=/; HttpOnly; SameSite=Lax`);
  return { ok: true };
});
app.get("/me", async () => CONSTANT_ME);
app.post("/cart", async (request, reply) => {
  const sku = skuOf(request.body);
  if (sku === null) return reply.code(400).send({ error: "sku required" });
  return { sku, qty: 2 };
});
app.get("/cart", async () => CONSTANT_CART);

await app.listen({ port: env.port, host: "127.0.0.1" });
onStop(() => app.close());

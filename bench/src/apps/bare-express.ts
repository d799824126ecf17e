/** Bare Express 5, no sessions: the upper bound. Answers constants of the same size as the session apps. */
import express from "express";
import { CONSTANT_CART, CONSTANT_ME, appEnv, fakeToken, onStop, skuOf, usernameOf } from "../shared.js";

const env = appEnv();
const app = express();
app.use(express.json());

app.get("/health", (_req, res) => {
  res.json({ ok: true });
});
app.post("/login", (req, res) => {
  if (usernameOf(req.body) === null) {
    res.status(400).json({ error: "username required" });
    return;
  }
  res.cookie("bare", fakeToken(), { httpOnly: true, sameSite: "lax", path: "/" });
  res.json({ ok: true });
});
app.get("/me", (_req, res) => {
  res.json(CONSTANT_ME);
});
app.post("/cart", (req, res) => {
  const sku = skuOf(req.body);
  if (sku === null) {
    res.status(400).json({ error: "sku required" });
    return;
  }
  res.json({ sku, qty: 2 });
});
app.get("/cart", (_req, res) => {
  res.json(CONSTANT_CART);
});

const server = app.listen(env.port, "127.0.0.1");
onStop(() => {
  server.close();
});

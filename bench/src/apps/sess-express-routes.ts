/** The routes of the sess Express apps: per-field writes, cart lines incremented atomically. */
import type { Express } from "express";
import type { SessionMiddleware } from "@sess/express";
import { cartSummary, payloadFor, skuOf, usernameOf } from "../shared.js";
import { cartLinesOf, meOfSession, storeLogin, type Data } from "./sess-data.js";

export function sessRoutes(app: Express, sessions: SessionMiddleware<Data>): void {
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });
  app.post("/login", (req, res) => {
    const username = usernameOf(req.body);
    if (username === null) {
      res.status(400).json({ error: "username required" });
      return;
    }
    const payload = payloadFor(username);
    storeLogin(sessions.login(req, payload.userId), payload);
    res.json({ ok: true });
  });
  app.get("/me", (req, res) => {
    const session = sessions.of(req);
    if (session.userId === null) {
      res.status(401).json({ error: "not logged in" });
      return;
    }
    res.json(meOfSession(session));
  });
  app.post("/cart", (req, res) => {
    const sku = skuOf(req.body);
    if (sku === null) {
      res.status(400).json({ error: "sku required" });
      return;
    }
    const session = sessions.of(req);
    if (session.userId === null) {
      res.status(401).json({ error: "not logged in" });
      return;
    }
    const qty = session.increment(`cart:${sku}`);
    res.json({ sku, qty });
  });
  app.get("/cart", (req, res) => {
    const session = sessions.of(req);
    if (session.userId === null) {
      res.status(401).json({ error: "not logged in" });
      return;
    }
    res.json(cartSummary(cartLinesOf(session.all())));
  });
}

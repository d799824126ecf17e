/** The routes of the express-session apps: the session is one object, written back whole when changed. */
import type { Express } from "express";
import type { CartLine, Profile } from "../shared.js";
import { addToCartArray, cartSummary, meOf, payloadFor, skuOf, usernameOf } from "../shared.js";

declare module "express-session" {
  interface SessionData {
    userId: string;
    profile: Profile;
    cart: CartLine[];
  }
}

export function blobRoutes(app: Express): void {
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });
  app.post("/login", (req, res, next) => {
    const username = usernameOf(req.body);
    if (username === null) {
      res.status(400).json({ error: "username required" });
      return;
    }
    // The pattern express-session documents: a new session id on login, then store the user.
    req.session.regenerate((error) => {
      if (error) {
        next(error);
        return;
      }
      const { userId, cart, ...profile } = payloadFor(username);
      req.session.userId = userId;
      req.session.profile = profile;
      req.session.cart = cart;
      res.json({ ok: true });
    });
  });
  app.get("/me", (req, res) => {
    const { userId, profile } = req.session;
    if (userId === undefined || profile === undefined) {
      res.status(401).json({ error: "not logged in" });
      return;
    }
    res.json(meOf(userId, profile));
  });
  app.post("/cart", (req, res) => {
    const sku = skuOf(req.body);
    if (sku === null) {
      res.status(400).json({ error: "sku required" });
      return;
    }
    if (req.session.userId === undefined) {
      res.status(401).json({ error: "not logged in" });
      return;
    }
    const { cart, qty } = addToCartArray(req.session.cart ?? [], sku);
    req.session.cart = cart;
    res.json({ sku, qty });
  });
  app.get("/cart", (req, res) => {
    if (req.session.userId === undefined) {
      res.status(401).json({ error: "not logged in" });
      return;
    }
    res.json(cartSummary(req.session.cart ?? []));
  });
}

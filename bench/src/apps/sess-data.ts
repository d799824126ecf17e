/** The session data of the sess apps: the profile as separate fields, one integer field per cart line. */
import type { Session } from "@sess/core";
import type { CartLine, LoginPayload, Preferences } from "../shared.js";

export interface Data {
  username: string;
  email: string;
  role: string;
  tenant: string;
  preferences: Preferences;
  [cartLine: `cart:${string}`]: number;
}

export const CART_PREFIX = "cart:";

/** The cart lines of a session's fields (`cart:<sku>` → quantity). */
export function cartLinesOf(fields: Readonly<Record<string, unknown>>): CartLine[] {
  const lines: CartLine[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith(CART_PREFIX) && typeof value === "number") lines.push({ sku: name.slice(CART_PREFIX.length), qty: value });
  }
  return lines;
}

/** What a login stores (the session already bound to the user): the profile field by field, one field per cart line. */
export function storeLogin(session: Session<Data>, payload: LoginPayload): void {
  const { cart, preferences, ...profile } = payload;
  session.set("username", profile.username);
  session.set("email", profile.email);
  session.set("role", profile.role);
  session.set("tenant", profile.tenant);
  session.set("preferences", preferences);
  for (const line of cart) session.set(`cart:${line.sku}`, line.qty);
}

/** What GET /me answers for a logged-in session. */
export function meOfSession(session: Session<Data>): Record<string, unknown> {
  return {
    userId: session.userId,
    username: session.get("username"),
    email: session.get("email"),
    role: session.get("role"),
    tenant: session.get("tenant"),
    preferences: session.get("preferences"),
  };
}

/** The session data of the sess apps: the profile as separate fields, one integer field per cart line. */
import type { CartLine, Preferences } from "../shared.js";

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

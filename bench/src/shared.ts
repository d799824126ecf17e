/**
 * What every benchmark app shares: the login payload (~400 bytes of JSON), the product catalog, the
 * environment the runner passes, and the small helpers the apps use identically.
 */
import { randomBytes } from "node:crypto";

export interface Preferences {
  theme: string;
  locale: string;
  currency: string;
  timezone: string;
  newsletter: boolean;
  pageSize: number;
  notifications: { email: boolean; sms: boolean; push: boolean };
}

export interface CartLine {
  sku: string;
  qty: number;
}

/** What a login stores, apart from the user id the session is bound to. */
export interface Profile {
  username: string;
  email: string;
  role: string;
  tenant: string;
  preferences: Preferences;
}

export interface LoginPayload extends Profile {
  userId: string;
  cart: CartLine[];
}

/** The catalog POST /cart picks from in workload B (lines are updated in place, carts stay bounded). */
export const CATALOG = ["SKU-100231", "SKU-100232", "SKU-100233", "SKU-200417", "SKU-200418", "SKU-300922", "SKU-300923", "SKU-410001"];

/** The realistic payload a login stores: user id, username, role, tenant, a 3-item cart, preferences. */
export function payloadFor(username: string): LoginPayload {
  const digits = username.replace(/\D/g, "").padStart(6, "0");
  return {
    userId: `usr_${digits}_7f3a9c2e`,
    username,
    email: `${username}@example-shop.test`,
    role: "customer",
    tenant: "acme-retail-eu-west-1",
    preferences: {
      theme: "dark",
      locale: "en-GB",
      currency: "EUR",
      timezone: "Europe/Berlin",
      newsletter: true,
      pageSize: 25,
      notifications: { email: true, sms: false, push: true },
    },
    cart: [
      { sku: "SKU-100231", qty: 1 },
      { sku: "SKU-200417", qty: 2 },
      { sku: "SKU-300922", qty: 1 },
    ],
  };
}

/** What GET /me answers: the profile (bare apps answer this constant, same size). */
export function meOf(userId: string, profile: Profile): Record<string, unknown> {
  return { userId, ...profile };
}

export const CONSTANT_PAYLOAD = payloadFor("user000000");
export const CONSTANT_ME = meOf(CONSTANT_PAYLOAD.userId, CONSTANT_PAYLOAD);
export const CONSTANT_CART = { lines: CONSTANT_PAYLOAD.cart, items: 4 };

/** Blob stores: add one unit of `sku` to the cart array (in place when the line exists). */
export function addToCartArray(cart: CartLine[], sku: string): { cart: CartLine[]; qty: number } {
  const next = cart.map((line) => ({ ...line }));
  const line = next.find((entry) => entry.sku === sku);
  if (line) {
    line.qty += 1;
    return { cart: next, qty: line.qty };
  }
  next.push({ sku, qty: 1 });
  return { cart: next, qty: 1 };
}

export function cartSummary(lines: CartLine[]): { lines: CartLine[]; items: number } {
  return { lines, items: lines.reduce((sum, line) => sum + line.qty, 0) };
}

/** A valid sku from a request body, or null. */
export function skuOf(body: unknown): string | null {
  const sku = (body as { sku?: unknown } | null)?.sku;
  return typeof sku === "string" && /^[A-Za-z0-9_-]{1,40}$/.test(sku) ? sku : null;
}

/** A valid username from a request body, or null. */
export function usernameOf(body: unknown): string | null {
  const username = (body as { username?: unknown } | null)?.username;
  return typeof username === "string" && /^[a-z0-9_]{1,40}$/.test(username) ? username : null;
}

/** A cookie value of the same length as a sess token, for the bare apps' fake logins. */
export function fakeToken(): string {
  return randomBytes(38).toString("base64url").slice(0, 51);
}

export interface AppEnv {
  port: number;
  redisUrl: string;
  redisHost: string;
  redisPort: number;
}

export function appEnv(): AppEnv {
  const port = Number(process.env.PORT);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (!Number.isInteger(port) || port <= 0) throw new Error("PORT is required");
  const url = new URL(redisUrl);
  return { port, redisUrl, redisHost: url.hostname, redisPort: Number(url.port) };
}

/**
 * The sess apps' key prefix and near cache: with BENCH_NEAR_CACHE=1 (the "near cache" apps) the
 * driver keeps a near cache of 10,000 sessions for up to 10 minutes, under its own prefix.
 */
export function sessStore(prefix: string): { prefix: string; nearCache?: { maxEntries: number; maxAge: number } } {
  return process.env.BENCH_NEAR_CACHE === "1" ? { prefix: `${prefix}-nc`, nearCache: { maxEntries: 10_000, maxAge: 600_000 } } : { prefix };
}

/** Reads a JSON request body (Koa apps: the same few lines in each, no body-parser dependency). */
export async function readJson(req: AsyncIterable<Buffer>, limit = 16_384): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error("body too large"), { status: 413 });
    chunks.push(chunk);
  }
  if (size === 0) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw Object.assign(new Error("invalid JSON"), { status: 400 });
  }
}

/** Exits cleanly when the runner stops the app. */
export function onStop(close: () => Promise<void> | void): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    Promise.resolve()
      .then(close)
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("disconnect", stop);
}

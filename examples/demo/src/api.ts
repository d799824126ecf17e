/**
 * The demo's HTTP API, free of any framework: a route table, JSON body reading and error mapping.
 * `express-app.ts` and `koa-app.ts` only wire requests into it.
 *
 * Data layout (one session field each, so concurrent requests never overwrite each other):
 *   username, tenant         set at login
 *   cart:<sku>               quantity, grown with an atomic increment
 *   pref:<key>               one preference value per top-level key
 * Declared indexes: `tenant` (the tenant field) and `cartSku` (the <sku> of every cart:<sku> field),
 * answered by GET /admin/tenants/:tenant/count and GET /admin/carts/:sku.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { SessionError, createSessionManager, type IndexPage, type Session, type SessionManager } from "@sess/core";
import { legacySource } from "./migrate.js";
import { createMetrics } from "./metrics.js";
import { pageRoutes } from "./page.js";
import type { Settings } from "./settings.js";
import type { Store } from "./store.js";

export interface DemoData {
  username: string;
  tenant: string;
  [cartLine: `cart:${string}`]: number;
  [preference: `pref:${string}`]: unknown;
}

export type DemoSession = Session<DemoData>;

/** A failure with the HTTP status and message the client sees. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with the content type (the web page's files, /metrics). */
  text?: { type: string; content: string };
}

export interface Call {
  params: Record<string, string>;
  header(name: string): string | undefined;
  /** The parsed JSON body (read on demand). */
  body(): Promise<unknown>;
}

export interface SessionCall extends Call {
  session: DemoSession;
}

interface RouteBase {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
}
interface PlainRoute extends RouteBase {
  session: false;
  handle(call: Call): Promise<Reply>;
}
interface SessionRoute extends RouteBase {
  session: true;
  handle(call: SessionCall): Promise<Reply>;
}
export type Route = PlainRoute | SessionRoute;

export interface Demo {
  manager: SessionManager<DemoData>;
  store: Store;
  trustProxy: boolean;
  /** The route for a request, with its path parameters; an HttpError (404/405) when there is none. */
  match(method: string, url: string): { route: Route; params: Record<string, string> };
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_BODY = 64 * 1024;
/** How much of an oversized body is still read (and dropped) before the 413. */
const MAX_DRAIN = 8 * 1024 * 1024;
/** Pages of 1,000 sessions /admin/carts/:sku reads at most for its usernames. */
const MAX_ADMIN_PAGES = 20;

export function createDemo(settings: Omit<Settings, "port" | "host" | "redisUrl" | "driver">, store: Store): Demo {
  const manager = createSessionManager<DemoData>({
    driver: store.driver,
    idleTimeout: settings.idleTimeout * 1000,
    absoluteTimeout: settings.absoluteTimeout * 1000,
    ...(settings.maxPerUser === undefined ? {} : { maxSessionsPerUser: settings.maxPerUser }),
    ...(settings.operationTimeout === undefined ? {} : { operationTimeout: settings.operationTimeout }),
    cookie: { secure: "auto" },
    // Cross-session queries for the admin routes: sessions per tenant, sessions holding a sku.
    indexes: { tenant: { field: "tenant" }, cartSku: { fieldPrefix: "cart:" } },
    ...(settings.migrate && store.fromConnectRedis ? { legacy: legacySource(settings.migrate, store.fromConnectRedis) } : {}),
  });

  const admin = (handle: (call: Call) => Promise<Reply>) => async (call: Call) => {
    if (settings.adminToken === undefined) throw new HttpError(404, "not found");
    if (!sameSecret(bearer(call.header("authorization")), settings.adminToken)) {
      throw new HttpError(401, "admin routes need Authorization: Bearer <ADMIN_TOKEN>");
    }
    return handle(call);
  };

  const metrics = settings.metrics ? createMetrics() : null;
  const routes: Route[] = [
    ...pageRoutes(),
    {
      method: "GET",
      path: "/health",
      session: false,
      async handle() {
        const health = await manager.health();
        return health.ok
          ? { status: 200, body: { ok: true, store: store.kind, latency: health.latency } }
          : { status: 503, body: { ok: false } };
      },
    },
    {
      method: "POST",
      path: "/login",
      session: true,
      async handle({ session, body }) {
        const input = object(await body());
        const username = name(input.username, "username");
        const tenant = input.tenant === undefined ? "default" : name(input.tenant, "tenant");
        session.login(username);
        session.set("username", username);
        session.set("tenant", tenant);
        return { status: 200, body: { username, tenant } };
      },
    },
    {
      method: "GET",
      path: "/me",
      session: true,
      async handle({ session }) {
        loggedIn(session);
        const { cart, preferences } = contents(session);
        return {
          status: 200,
          body: {
            username: session.get("username"),
            tenant: session.get("tenant"),
            cart,
            preferences,
            createdAt: iso(session.createdAt),
            expiresAt: iso(session.expiresAt),
          },
        };
      },
    },
    {
      method: "POST",
      path: "/cart",
      session: true,
      async handle({ session, body }) {
        const input = object(await body());
        const sku = name(input.sku, "sku");
        const qty = input.qty === undefined ? 1 : input.qty;
        if (!Number.isSafeInteger(qty) || (qty as number) < 1 || (qty as number) > 1000) {
          throw new HttpError(400, "qty must be a whole number from 1 to 1000");
        }
        session.increment(`cart:${sku}`, qty as number);
        return { status: 200, body: { cart: contents(session).cart } };
      },
    },
    {
      method: "PATCH",
      path: "/preferences",
      session: true,
      async handle({ session, body }) {
        loggedIn(session);
        const input = object(await body());
        for (const [key, value] of Object.entries(input)) {
          const field = `pref:${name(key, "preference key")}` as const;
          if (value === null) session.unset(field);
          else session.set(field, value);
        }
        return { status: 200, body: { preferences: contents(session).preferences } };
      },
    },
    {
      method: "POST",
      path: "/logout",
      session: true,
      async handle({ session }) {
        session.destroy();
        return { status: 204 };
      },
    },
    {
      method: "POST",
      path: "/logout-all",
      session: true,
      async handle({ session }) {
        if (session.userId !== null) await manager.endUserSessions(session.userId);
        session.destroy();
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/sessions",
      session: true,
      async handle({ session }) {
        const userId = loggedIn(session);
        const list = await manager.listUserSessions(userId);
        return {
          status: 200,
          body: list.map((meta) => ({
            id: meta.id,
            createdAt: iso(meta.createdAt),
            lastSeenAt: iso(meta.lastSeenAt),
            userAgent: meta.userAgent,
            current: meta.id === session.id,
          })),
        };
      },
    },
    {
      method: "DELETE",
      path: "/sessions/:id",
      session: true,
      async handle({ session, params }) {
        const userId = loggedIn(session);
        const id = params.id!;
        if (id === session.id) {
          session.destroy();
          return { status: 204 };
        }
        if (!(await manager.endSession(id, { userId }))) throw new HttpError(404, "no such session among yours");
        return { status: 204 };
      },
    },
    {
      method: "POST",
      path: "/password",
      session: true,
      async handle({ session }) {
        loggedIn(session);
        // One call: at commit this session gets a new token and the user's other sessions end.
        session.regenerate({ endOtherSessions: true });
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/admin/tenants/:tenant/count",
      session: false,
      handle: admin(async ({ params }) => {
        const tenant = name(params.tenant, "tenant");
        return { status: 200, body: { tenant, count: await manager.count("tenant", tenant) } };
      }),
    },
    {
      method: "GET",
      path: "/admin/carts/:sku",
      session: false,
      handle: admin(async ({ params }) => {
        const sku = name(params.sku, "sku");
        const count = await manager.count("cartSku", sku);
        // The users whose sessions hold the sku (anonymous carts are counted but have no username).
        const usernames = new Set<string>();
        let offset: number | null = 0;
        for (let pages = 0; offset !== null && pages < MAX_ADMIN_PAGES; pages += 1) {
          const page: IndexPage = await manager.find("cartSku", sku, { offset, limit: 1000 });
          for (const meta of page.sessions) if (meta.userId !== null) usernames.add(meta.userId);
          offset = page.next;
        }
        return { status: 200, body: { sku, count, usernames: [...usernames].sort() } };
      }),
    },
    {
      method: "POST",
      path: "/admin/users/:username/revoke",
      session: false,
      handle: admin(async ({ params }) => {
        const username = name(params.username, "username");
        return { status: 200, body: { revoked: await manager.endUserSessions(username) } };
      }),
    },
  ];

  if (metrics !== null) {
    routes.push({
      method: "GET",
      path: "/metrics",
      session: false,
      async handle() {
        return { status: 200, text: { type: "text/plain; version=0.0.4; charset=utf-8", content: await metrics.render() } };
      },
    });
  }

  const compiled = routes.map((route) => ({ route, pattern: compile(route.path) }));

  return {
    manager,
    store,
    trustProxy: settings.trustProxy,
    match(method, url) {
      const path = url.split("?")[0]!;
      let allowed = false;
      for (const { route, pattern } of compiled) {
        const found = pattern.exec(path);
        if (!found) continue;
        if (route.method !== method.toUpperCase()) {
          allowed = true;
          continue;
        }
        const params: Record<string, string> = {};
        for (const [key, value] of Object.entries(found.groups ?? {})) params[key] = decodePathSegment(value);
        return { route, params };
      }
      throw allowed ? new HttpError(405, "method not allowed") : new HttpError(404, "not found");
    },
    async close() {
      await metrics?.close();
      await manager.close();
      await store.close();
    },
  };
}

/** The JSON error answer for anything a route or the session layer threw; never a stack trace. */
export function errorReply(error: unknown, log: (line: string) => void = console.error): Reply {
  if (error instanceof HttpError) return { status: error.status, body: { error: error.message } };
  if (error instanceof SessionError) {
    if (error.status >= 500) log(`session error: ${error.message}`);
    const message = error.status === 503 ? "session store unavailable, try again" : error.message;
    return { status: error.status, body: { error: message } };
  }
  log(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { status: 500, body: { error: "internal error" } };
}

/**
 * Reads a JSON request body (at most 64 KiB) from a Node request or a Web body stream. Empty → `{}`;
 * malformed → 400; larger → 413, answered once the client has sent it all (up to 8 MiB more), so a
 * client still sending reads the 413 instead of a reset connection.
 */
export async function readJson(body: AsyncIterable<Uint8Array> | null): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body ?? []) {
    size += chunk.length;
    if (size > MAX_BODY + MAX_DRAIN) break; // leaving the loop destroys the stream: past this, a reset is fair
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  if (size > MAX_BODY) throw new HttpError(413, "request body too large");
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

/** A path parameter, percent-decoded; malformed encoding (`%ZZ`, a cut UTF-8 sequence) is the client's error. */
function decodePathSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, "the path holds malformed percent-encoding");
  }
}

function compile(path: string): RegExp {
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, "(?<$1>[^/]+)");
  return new RegExp(`^${source}$`);
}

function object(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function name(value: unknown, what: string): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw new HttpError(400, `${what} must be 1 to 64 characters of A-Z a-z 0-9 _ . -`);
  }
  return value;
}

function loggedIn(session: DemoSession): string {
  if (session.userId === null) throw new HttpError(401, "not logged in");
  return session.userId;
}

function contents(session: DemoSession): { cart: Record<string, number>; preferences: Record<string, unknown> } {
  const cart: Array<[string, number]> = [];
  const preferences: Array<[string, unknown]> = [];
  for (const [field, value] of Object.entries(session.all())) {
    if (field.startsWith("cart:")) cart.push([field.slice(5), value as number]);
    else if (field.startsWith("pref:")) preferences.push([field.slice(5), value]);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays plain data.
  return { cart: Object.fromEntries(cart), preferences: Object.fromEntries(preferences) };
}

function iso(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

function bearer(header: string | undefined): string {
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "";
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

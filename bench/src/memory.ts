/**
 * `pnpm --filter @sess/bench memory`: MEMORY USAGE of one session holding the benchmark's login
 * payload, stored through sess (ioredis driver, manager defaults: the first 64 bytes of a 150-byte browser user
 * agent recorded) in the shapes an application may choose, next to the incumbents' JSON string of the
 * same payload, on a fresh redis-server with its default settings and then with
 * `hash-max-listpack-value 256`. Prints a Markdown table.
 */
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { createSessionManager, type RequestInfo } from "@sess/core";
import { createIoredisDriver } from "@sess/ioredis";
import { startRedisServer } from "@sess/redis-server";
import { payloadFor, type LoginPayload } from "./shared.js";

/** The same 150-byte browser user agent as the runner's listpack check. */
const USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.9 OPR/116.0.0.0 Vivaldi";

/** How a login's payload becomes session fields. */
interface Shape {
  label: string;
  /** Record the user agent (the default: its first 64 bytes). */
  userAgent: boolean;
  fields(payload: LoginPayload): Record<string, unknown>;
}

const cartFields = (payload: LoginPayload): Record<string, number> => Object.fromEntries(payload.cart.map((line) => [`cart:${line.sku}`, line.qty]));

function fieldByField({ userId: _userId, cart: _cart, preferences, ...profile }: LoginPayload): Record<string, unknown> {
  return { ...profile, ...Object.fromEntries(Object.entries(preferences).map(([name, value]) => [`pref:${name}`, value])) };
}

const SHAPES: Shape[] = [
  {
    // What the benchmark's sess apps store: `preferences` is one JSON value of about 170 bytes.
    label: "sess: profile fields, `preferences` as one value, one field per cart line (the benchmark apps)",
    userAgent: true,
    fields: ({ userId: _userId, cart: _cart, ...profile }) => ({ ...profile }),
  },
  { label: "sess: every value under 64 bytes (`preferences` field by field)", userAgent: true, fields: fieldByField },
  { label: "sess: every value under 64 bytes, `recordDevice: { userAgent: false }`", userAgent: false, fields: fieldByField },
];

function request(token: string | null): RequestInfo {
  return {
    header: (name) => (name === "cookie" && token !== null ? `sess=${token}` : name === "user-agent" ? USER_AGENT : undefined),
    secure: false,
  };
}

/** The token a commit's Set-Cookie carries. */
function tokenOf(headers: ReadonlyArray<[string, string]>): string {
  const cookie = headers.find(([name]) => name === "set-cookie")?.[1];
  const match = /^sess=([^;]+)/.exec(cookie ?? "");
  if (!match) throw new Error("the login set no session cookie");
  return match[1]!;
}

async function sessUsage(client: Redis, shape: Shape, payload: LoginPayload): Promise<{ usage: number; encoding: string }> {
  const prefix = `mem${Math.random().toString(36).slice(2, 8)}`;
  const manager = createSessionManager({ driver: createIoredisDriver({ client, prefix }), recordDevice: { userAgent: shape.userAgent } });
  const open = await manager.open(request(null));
  open.session.login(payload.userId);
  for (const [name, value] of Object.entries(shape.fields(payload))) open.session.set(name, value);
  for (const [name, qty] of Object.entries(cartFields(payload))) open.session.set(name, qty);
  const token = tokenOf((await open.commit()).headers);
  // 50 writes, as the runner's listpack check: the write ids and renewals are what grow.
  for (let i = 0; i < 50; i++) {
    const next = await manager.open(request(token));
    next.session.increment(`cart:${payload.cart[i % payload.cart.length]!.sku}`);
    await next.commit();
  }
  const [key] = await client.keys(`${prefix}:*:s:*`);
  if (key === undefined) throw new Error("no session key was written");
  const usage = Number(await client.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
  const encoding = String(await client.call("OBJECT", "ENCODING", key));
  await manager.close();
  return { usage, encoding };
}

/** What connect-redis and koa-redis keep: the session object as one JSON string (cookie metadata included for express-session). */
async function stringUsage(client: Redis, payload: LoginPayload, withCookie: boolean): Promise<number> {
  const { userId, ...rest } = payload;
  const cookie = { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000).toISOString(), secure: false, httpOnly: true, path: "/", sameSite: "lax" };
  const body = withCookie ? { cookie, userId, ...rest } : { userId, ...rest, _expire: Date.now() + 86_400_000, _maxAge: 86_400_000 };
  const key = withCookie ? "sess:AbCdEfGhIjKlMnOpQrStUvWxYz012345" : "koa:sess:AbCdEfGhIjKlMnOpQrStUvWxYz012345";
  await client.set(key, JSON.stringify(body), "PX", 86_400_000);
  return Number(await client.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
}

/** One measured shape: its label and, per `hash-max-listpack-value` setting, MEMORY USAGE and encoding. */
export interface MemoryShape {
  label: string;
  /** True for sess's shapes, false for the incumbents' strings. */
  sess: boolean;
  /** Every value of the session's own fields is under 64 bytes (the listpack target's case). */
  fits: boolean;
  bySetting: Record<string, { usage: number; encoding: string }>;
}

/** Stores the benchmark payload in every shape on a fresh redis-server, with the default `hash-max-listpack-value` and with 256. */
export async function measureMemoryShapes(): Promise<MemoryShape[]> {
  const server = await startRedisServer();
  const client = new Redis(server.url);
  try {
    const payload = payloadFor("user000001");
    const shapes = new Map<string, MemoryShape>();
    const add = (label: string, sess: boolean, fits: boolean, setting: string, usage: number, encoding: string): void => {
      const shape = shapes.get(label) ?? { label, sess, fits, bySetting: {} };
      shape.bySetting[setting] = { usage, encoding };
      shapes.set(label, shape);
    };
    for (const setting of ["64", "256"]) {
      await client.config("SET", "hash-max-listpack-value", setting);
      for (const shape of SHAPES) {
        const { usage, encoding } = await sessUsage(client, shape, payload);
        const fits = Object.values(shape.fields(payload)).every((value) => Buffer.byteLength(JSON.stringify(value)) <= 64);
        add(shape.label, true, fits, setting, usage, encoding);
      }
      add("express-session + connect-redis: one JSON string", false, false, setting, await stringUsage(client, payload, true), "string");
      add("koa-session + koa-redis: one JSON string", false, false, setting, await stringUsage(client, payload, false), "string");
    }
    return [...shapes.values()];
  } finally {
    client.disconnect();
    await server.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows: string[] = ["| stored as | hash-max-listpack-value 64 (default) | 256 |", "|---|---|---|"];
  for (const shape of await measureMemoryShapes()) {
    const cell = (setting: string) => {
      const measured = shape.bySetting[setting]!;
      return `${measured.usage} B (${measured.encoding})`;
    };
    rows.push(`| ${shape.label} | ${cell("64")} | ${cell("256")} |`);
  }
  console.log(rows.join("\n"));
}

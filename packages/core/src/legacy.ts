/**
 * Taking over the sessions of express-session + connect-redis and koa-session + koa-redis: a
 * request that carries no sess token but a validly signed legacy cookie has its legacy session
 * converted into a sess session (issued at commit), exactly once, and the legacy cookie cleared.
 *
 * Exactly once, and nothing lost when the new session cannot be stored: the legacy key is first
 * *claimed* in one atomic script (its JSON is checked, then the value is replaced by a claim that
 * holds the original, a deadline and a random nonce, keeping the key's TTL). The commit that stores
 * the sess session then deletes the claimed key; a commit that fails puts the original back. A
 * process that dies in between leaves a claim whose deadline passes, after which the next request
 * claims it again. A parallel request that finds a live claim gets no session and may not create
 * one (its commit refuses a write with CONFLICT), so the browser ends with the one converted session.
 * A cookie with a bad signature costs no Redis call; an unknown sid or a blob that is not a JSON
 * object is no session, and no Redis write.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { configError } from "./errors.js";
import { readCookie } from "./cookie.js";

/** What the legacy source needs of a Redis client: ioredis (`call`) or node-redis (`sendCommand`). */
export type LegacyRedisClient =
  | { call(command: string, ...args: string[]): Promise<unknown> }
  | { sendCommand(args: string[]): Promise<unknown> };

/** A legacy session, as the old middleware stored it (parsed JSON). */
export type LegacySession = Record<string, unknown>;

export interface LegacyOptions {
  /** The Redis client the legacy store wrote to (ioredis or node-redis; Redis 6.2 or later). */
  client: LegacyRedisClient;
  /**
   * The sess fields of a legacy session. Default: every top-level key becomes a field of the same
   * name, except the legacy middleware's own (`cookie` for express-session, `_expire`, `_maxAge`
   * and `_session` for koa-session).
   */
  fields?: (legacy: LegacySession) => Record<string, unknown>;
  /** The user the converted session is bound to (as `login(userId)`), or null. Default: `passport.user` when it is a string or a number. */
  userOf?: (legacy: LegacySession) => string | null;
  /** Path of the legacy cookie, for the clearing cookie. Default "/". */
  cookiePath?: string;
  /** Domain of the legacy cookie, for the clearing cookie. Default: none (host-only). */
  cookieDomain?: string;
}

export interface ConnectRedisOptions extends LegacyOptions {
  /** express-session's `secret`: one, or several (every one is accepted, as express-session does). */
  secret: string | string[];
  /** connect-redis's `prefix`. Default "sess:". */
  prefix?: string;
  /** express-session's `name`. Default "connect.sid". */
  cookie?: string;
}

export interface KoaRedisOptions extends LegacyOptions {
  /** The Koa app's `app.keys` (Keygrip, SHA-1 HMAC: every key is accepted). */
  keys: string[];
  /** koa-session's `prefix` is part of the cookie value already; this is a key prefix of the Redis client (ioredis `keyPrefix`). Default "". */
  prefix?: string;
  /** koa-session's `key`. Default "koa.sess". */
  cookie?: string;
}

/** A source of legacy sessions, for the `legacy` option of the manager and the adapters. */
export interface LegacySource {
  readonly kind: "connect-redis" | "koa-redis";
  /** The Redis key of the request's legacy session when its cookie is validly signed; no I/O. */
  keyOf(cookieHeader: string | undefined): string | null;
  claim(key: string, now: number, hold: number): Promise<Claim>;
  /** The sess fields, user and absolute deadline (null: none known) of a claimed session; null when it cannot be converted. */
  convert(legacy: LegacySession, ttl: number, now: number): Converted | null;
  /** Set-Cookie values clearing the legacy cookie(s). */
  readonly clearing: string[];
}

export type Claim =
  | { status: "none" }
  | { status: "busy" }
  | { status: "claimed"; legacy: LegacySession; ttl: number; finish(): Promise<void>; abandon(): Promise<void> };

export interface Converted {
  fields: Record<string, unknown>;
  userId: string | null;
  expiresBy: number | null;
}

/**
 * KEYS[1] the legacy key. ARGV[1] nonce, ARGV[2] now (ms), ARGV[3] claim deadline (ms).
 * Returns false (no key, or not a JSON object), {"busy"} (a live claim), or {"claimed", original, pttl}.
 */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local original = v
if string.sub(v, 1, 17) == '{"sessMigrating":' then
  local ok, m = pcall(cjson.decode, v)
  if not ok or type(m) ~= 'table' then return false end
  if tonumber(m.sessMigrating) > tonumber(ARGV[2]) then return {'busy'} end
  original = m.original
end
local ok, parsed = pcall(cjson.decode, original)
if not ok or type(parsed) ~= 'table' or string.sub(original, 1, 1) ~= '{' then return false end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], '{"sessMigrating":' .. ARGV[3] .. ',"nonce":' .. cjson.encode(ARGV[1]) .. ',"original":' .. cjson.encode(original) .. '}', 'KEEPTTL')
return {'claimed', original, tostring(ttl)}
`;

/** KEYS[1] the legacy key. ARGV[1] nonce. ARGV[2] "delete", or "restore" and ARGV[3] the original. Acts only on this claim. */
const SETTLE = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 17) ~= '{"sessMigrating":' then return 0 end
local ok, m = pcall(cjson.decode, v)
if not ok or type(m) ~= 'table' or m.nonce ~= ARGV[1] then return 0 end
if ARGV[2] == 'delete' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL') end
return 1
`;

function evaluate(client: LegacyRedisClient, script: string, key: string, args: string[]): Promise<unknown> {
  const command = ["EVAL", script, "1", key, ...args];
  if ("call" in client && typeof client.call === "function") return client.call(command[0]!, ...command.slice(1));
  return (client as { sendCommand(args: string[]): Promise<unknown> }).sendCommand(command);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

function checkCommon(options: LegacyOptions): void {
  const client = options.client as unknown as Record<string, unknown> | null;
  if (client === null || typeof client !== "object" || (typeof client.call !== "function" && typeof client.sendCommand !== "function")) {
    throw configError("legacy.client", "expected an ioredis or node-redis client (the one the legacy store wrote to)");
  }
  for (const name of ["fields", "userOf"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") throw configError(`legacy.${name}`, "expected a function (legacy) => …");
  }
}

function secretsOf(value: unknown, name: string): string[] {
  const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : null;
  if (list === null || list.length === 0 || list.some((secret) => typeof secret !== "string" || secret.length === 0)) {
    throw configError(name, "expected a non-empty string or a non-empty array of non-empty strings");
  }
  return list as string[];
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function decode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

function clearingCookie(name: string, options: LegacyOptions): string {
  const domain = options.cookieDomain === undefined ? "" : `; Domain=${options.cookieDomain}`;
  return `${name}=; Path=${options.cookiePath ?? "/"}${domain}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly`;
}

const DEFAULT_DROPPED: Record<LegacySource["kind"], readonly string[]> = {
  "connect-redis": ["cookie"],
  "koa-redis": ["_expire", "_maxAge", "_session"],
};

function defaultUser(legacy: LegacySession): string | null {
  const user = (legacy.passport as { user?: unknown } | undefined)?.user;
  return typeof user === "string" || typeof user === "number" ? String(user) : null;
}

function createSource(
  kind: LegacySource["kind"],
  options: LegacyOptions,
  keyOf: (cookieHeader: string | undefined) => string | null,
  clearing: string[],
  dataExpiry: (legacy: LegacySession) => number | null,
): LegacySource {
  const dropped = DEFAULT_DROPPED[kind];
  const fieldsOf =
    options.fields ?? ((legacy: LegacySession) => Object.fromEntries(Object.entries(legacy).filter(([name]) => !dropped.includes(name))));
  const userOf = options.userOf ?? defaultUser;
  return {
    kind,
    keyOf,
    clearing,
    async claim(key, now, hold) {
      const nonce = randomBytes(16).toString("base64url");
      const reply = await evaluate(options.client, CLAIM, key, [nonce, String(now), String(now + hold)]);
      if (!Array.isArray(reply)) return { status: "none" };
      if (text(reply[0]) === "busy") return { status: "busy" };
      const original = text(reply[1]);
      const settle = (how: "delete" | "restore") =>
        evaluate(options.client, SETTLE, key, how === "delete" ? [nonce, how] : [nonce, how, original]).then(() => undefined);
      return {
        status: "claimed",
        legacy: JSON.parse(original) as LegacySession,
        ttl: Number(text(reply[2])),
        finish: () => settle("delete"),
        abandon: () => settle("restore"),
      };
    },
    convert(legacy, ttl, now) {
      const fields = fieldsOf(legacy);
      const userId = userOf(legacy);
      if (fields === null || typeof fields !== "object" || (userId !== null && typeof userId !== "string")) return null;
      const deadlines = [ttl > 0 ? now + ttl : null, dataExpiry(legacy)].filter((at): at is number => at !== null && Number.isFinite(at));
      const expiresBy = deadlines.length === 0 ? null : Math.min(...deadlines);
      if (expiresBy !== null && expiresBy <= now) return null;
      return { fields, userId, expiresBy };
    },
  };
}

/**
 * express-session + connect-redis: the `connect.sid` cookie (`s:<sid>.<signature>`, HMAC-SHA256
 * in base64 without padding, checked against every secret in constant time), the JSON under
 * `<prefix><sid>`. The legacy expiry is the earlier of the key's TTL and `cookie.expires`.
 */
export function fromConnectRedis(options: ConnectRedisOptions): LegacySource {
  if (options === null || typeof options !== "object") throw configError("legacy", "expected the options of fromConnectRedis({ client, secret })");
  checkCommon(options);
  const secrets = secretsOf(options.secret, "legacy.secret");
  const prefix = options.prefix ?? "sess:";
  const name = options.cookie ?? "connect.sid";
  if (typeof prefix !== "string") throw configError("legacy.prefix", "expected a string (connect-redis's prefix, \"sess:\" by default)");
  if (typeof name !== "string" || name.length === 0) throw configError("legacy.cookie", "expected the cookie name (\"connect.sid\" by default)");
  const keyOf = (cookieHeader: string | undefined): string | null => {
    for (const raw of readCookie(cookieHeader, name)) {
      const value = decode(raw);
      if (value === null || !value.startsWith("s:")) continue;
      const signed = value.slice(2);
      const dot = signed.lastIndexOf(".");
      if (dot <= 0) continue;
      const sid = signed.slice(0, dot);
      const signature = signed.slice(dot + 1);
      if (secrets.some((secret) => equal(createHmac("sha256", secret).update(sid).digest("base64").replace(/=+$/, ""), signature))) {
        return prefix + sid;
      }
    }
    return null;
  };
  const dataExpiry = (legacy: LegacySession): number | null => {
    const expires = (legacy.cookie as { expires?: unknown } | undefined)?.expires;
    return typeof expires === "string" ? Date.parse(expires) : null;
  };
  return createSource("connect-redis", options, keyOf, [clearingCookie(name, options)], dataExpiry);
}

/**
 * koa-session + koa-redis: the `koa.sess` cookie holding the external key, signed by Keygrip in
 * `koa.sess.sig` (SHA-1 HMAC of `koa.sess=<value>`, URL-safe base64, checked against every key),
 * the JSON under the external key. The legacy expiry is the earlier of the key's TTL and `_expire`.
 */
export function fromKoaRedis(options: KoaRedisOptions): LegacySource {
  if (options === null || typeof options !== "object") throw configError("legacy", "expected the options of fromKoaRedis({ client, keys })");
  checkCommon(options);
  const keys = secretsOf(options.keys, "legacy.keys");
  const prefix = options.prefix ?? "";
  const name = options.cookie ?? "koa.sess";
  if (typeof prefix !== "string") throw configError("legacy.prefix", "expected a string (\"\" by default)");
  if (typeof name !== "string" || name.length === 0) throw configError("legacy.cookie", "expected the cookie name (\"koa.sess\" by default)");
  const keyOf = (cookieHeader: string | undefined): string | null => {
    const signatures = readCookie(cookieHeader, `${name}.sig`);
    for (const value of readCookie(cookieHeader, name)) {
      if (value.length === 0) continue;
      const valid = keys.some((key) => {
        const digest = createHmac("sha1", key).update(`${name}=${value}`).digest("base64url");
        return signatures.some((signature) => equal(digest, signature));
      });
      if (valid) return prefix + value;
    }
    return null;
  };
  const dataExpiry = (legacy: LegacySession): number | null => (typeof legacy._expire === "number" ? legacy._expire : null);
  return createSource("koa-redis", options, keyOf, [clearingCookie(name, options), clearingCookie(`${name}.sig`, options)], dataExpiry);
}

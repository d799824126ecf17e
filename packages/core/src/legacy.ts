/**
 * Taking over the sessions of express-session + connect-redis and koa-session + koa-redis: a
 * request that carries no sess token but a validly signed legacy cookie has its legacy session
 * converted into a sess session (issued at commit), exactly once, and the legacy cookie cleared.
 *
 * Exactly once, and nothing lost when the new session cannot be stored: the legacy key is first
 * *claimed* in one atomic script (lua/claim-1.lua of @sess/redis-shared, bound to the legacy store's
 * client by `fromConnectRedis` and `fromKoaRedis` of the driver packages: this module does no I/O;
 * its JSON is checked, then the value is replaced by a claim that
 * holds the original, a deadline and a random nonce, keeping the key's TTL). The commit that stores
 * the sess session then deletes the claimed key; a commit that fails puts the original back. A
 * process that dies in between leaves a claim whose deadline passes, after which the next request
 * claims it again. A parallel request that finds a live claim gets no session and may not create
 * one (its commit refuses a write with CONFLICT), so the browser ends with the one converted session.
 * A cookie with a bad signature costs no Redis call; an unknown sid or a blob that is not a JSON
 * object is no session, and no Redis write.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { configError } from "./errors.js";
import { readCookie } from "./cookie.js";

/** A legacy session, as the old middleware stored it (parsed JSON). */
export type LegacySession = Record<string, unknown>;

/** What every legacy source takes, apart from the client (which the driver packages bind). */
export interface LegacyOptions {
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

export interface ConnectRedisSourceOptions extends LegacyOptions {
  /** express-session's `secret`: one, or several (every one is accepted, as express-session does). */
  secret: string | string[];
  /** connect-redis's `prefix`. Default "sess:". */
  prefix?: string;
  /** express-session's `name`. Default "connect.sid". */
  cookie?: string;
}

export interface KoaRedisSourceOptions extends LegacyOptions {
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
 * The store side of a conversion: claims the legacy session under `key` for `hold` ms (bound by the
 * driver packages to the legacy store's client: @sess/redis-shared's legacy.ts).
 */
export type LegacyClaim = (key: string, now: number, hold: number) => Promise<Claim>;

function checkCommon(options: LegacyOptions, factory: string): void {
  if (options === null || typeof options !== "object") throw configError("legacy", `expected the options of ${factory}`);
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

/** What differs between the legacy middlewares. */
interface Format {
  kind: LegacySource["kind"];
  /** The factory, for messages. */
  factory: string;
  /** The name of the option holding the secrets. */
  secretsOption: string;
  defaultPrefix: string;
  defaultCookie: string;
  /** The legacy key's sid or external key of a signed cookie, or null. */
  sidOf(name: string, secrets: string[], cookieHeader: string | undefined): string | null;
  /** Names of the cookies to clear, from the cookie's name. */
  cookies(name: string): string[];
  /** The legacy session's own expiry (ms since the epoch), or null. */
  dataExpiry(legacy: LegacySession): number | null;
}

function createSource(
  options: LegacyOptions & { prefix?: string; cookie?: string },
  secretsValue: unknown,
  claim: LegacyClaim,
  format: Format,
): LegacySource {
  checkCommon(options, format.factory);
  if (typeof claim !== "function") throw configError("legacy", `${format.factory}: expected a claim function`);
  const secrets = secretsOf(secretsValue, `legacy.${format.secretsOption}`);
  const prefix: unknown = options.prefix ?? format.defaultPrefix;
  const name: unknown = options.cookie ?? format.defaultCookie;
  if (typeof prefix !== "string") throw configError("legacy.prefix", `expected a string (${JSON.stringify(format.defaultPrefix)} by default)`);
  if (typeof name !== "string" || name.length === 0) throw configError("legacy.cookie", `expected the cookie name (${JSON.stringify(format.defaultCookie)} by default)`);
  const dropped = DEFAULT_DROPPED[format.kind];
  const fieldsOf =
    options.fields ?? ((legacy: LegacySession) => Object.fromEntries(Object.entries(legacy).filter(([field]) => !dropped.includes(field))));
  const userOf = options.userOf ?? defaultUser;
  return {
    kind: format.kind,
    keyOf(cookieHeader) {
      const sid = format.sidOf(name, secrets, cookieHeader);
      return sid === null ? null : prefix + sid;
    },
    clearing: format.cookies(name).map((cookie) => clearingCookie(cookie, options)),
    claim,
    convert(legacy, ttl, now) {
      const fields = fieldsOf(legacy);
      const userId = userOf(legacy);
      if (fields === null || typeof fields !== "object" || (userId !== null && typeof userId !== "string")) return null;
      const deadlines = [ttl > 0 ? now + ttl : null, format.dataExpiry(legacy)].filter((at): at is number => at !== null && Number.isFinite(at));
      const expiresBy = deadlines.length === 0 ? null : Math.min(...deadlines);
      if (expiresBy !== null && expiresBy <= now) return null;
      return { fields, userId, expiresBy };
    },
  };
}

/** express-session's signed cookie value `s:<sid>.<signature>`: the sid when the signature matches a secret. */
function connectSid(name: string, secrets: string[], cookieHeader: string | undefined): string | null {
  for (const raw of readCookie(cookieHeader, name)) {
    const value = decode(raw);
    if (value === null || !value.startsWith("s:")) continue;
    const signed = value.slice(2);
    const dot = signed.lastIndexOf(".");
    if (dot <= 0) continue;
    const sid = signed.slice(0, dot);
    const signature = signed.slice(dot + 1);
    if (secrets.some((secret) => equal(createHmac("sha256", secret).update(sid).digest("base64").replace(/=+$/, ""), signature))) return sid;
  }
  return null;
}

/** koa-session's external key in `<name>`, when Keygrip's signature in `<name>.sig` matches a key. */
function koaExternalKey(name: string, keys: string[], cookieHeader: string | undefined): string | null {
  const signatures = readCookie(cookieHeader, `${name}.sig`);
  for (const value of readCookie(cookieHeader, name)) {
    if (value.length === 0) continue;
    const valid = keys.some((key) => {
      const digest = createHmac("sha1", key).update(`${name}=${value}`).digest("base64url");
      return signatures.some((signature) => equal(digest, signature));
    });
    if (valid) return value;
  }
  return null;
}

const CONNECT_REDIS: Format = {
  kind: "connect-redis",
  factory: "fromConnectRedis({ client, secret })",
  secretsOption: "secret",
  defaultPrefix: "sess:",
  defaultCookie: "connect.sid",
  sidOf: connectSid,
  cookies: (name) => [name],
  dataExpiry(legacy) {
    const expires = (legacy.cookie as { expires?: unknown } | undefined)?.expires;
    return typeof expires === "string" ? Date.parse(expires) : null;
  },
};

const KOA_REDIS: Format = {
  kind: "koa-redis",
  factory: "fromKoaRedis({ client, keys })",
  secretsOption: "keys",
  defaultPrefix: "",
  defaultCookie: "koa.sess",
  sidOf: koaExternalKey,
  cookies: (name) => [name, `${name}.sig`],
  dataExpiry: (legacy) => (typeof legacy._expire === "number" ? legacy._expire : null),
};

/**
 * express-session + connect-redis: the `connect.sid` cookie (`s:<sid>.<signature>`, HMAC-SHA256
 * in base64 without padding, checked against every secret in constant time), the JSON under
 * `<prefix><sid>`, claimed through `claim`. The legacy expiry is the earlier of the key's TTL and
 * `cookie.expires`. Applications call `fromConnectRedis` of `@sess/ioredis` or `@sess/node-redis`,
 * which bind `claim` to their client.
 */
export function connectRedisSource(options: ConnectRedisSourceOptions, claim: LegacyClaim): LegacySource {
  return createSource(options, options?.secret, claim, CONNECT_REDIS);
}

/**
 * koa-session + koa-redis: the `koa.sess` cookie holding the external key, signed by Keygrip in
 * `koa.sess.sig` (SHA-1 HMAC of `koa.sess=<value>`, URL-safe base64, checked against every key),
 * the JSON under the external key, claimed through `claim`. The legacy expiry is the earlier of the
 * key's TTL and `_expire`. Applications call `fromKoaRedis` of `@sess/ioredis` or `@sess/node-redis`.
 */
export function koaRedisSource(options: KoaRedisSourceOptions, claim: LegacyClaim): LegacySource {
  return createSource(options, options?.keys, claim, KOA_REDIS);
}

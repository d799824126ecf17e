import { configError } from "./errors.js";
import { describe } from "./describe.js";

export interface CookieOptions {
  /** Cookie name. Default "sess"; "__Host-" is put in front when the cookie is Secure (see `hostPrefix`). */
  name?: string;
  /**
   * true: always Secure (the cookie is not sent over plain HTTP; adapters warn once when they see one).
   * false: never Secure. "auto" (default): Secure when the request is secure.
   */
  secure?: boolean | "auto";
  /** Default "lax". "none" requires `secure: true`. */
  sameSite?: "lax" | "strict" | "none";
  /** Default "/". Must be "/" while the `__Host-` prefix is used. */
  path?: string;
  /** Default none (host-only cookie). Setting it turns the `__Host-` prefix off. */
  domain?: string;
  /** Put "__Host-" in front of the name of a Secure cookie. Default true (false when `domain` is set). */
  hostPrefix?: boolean;
  /**
   * true (default): the cookie carries Max-Age/Expires equal to the session's store expiry, renewed
   * with it. false: a browser-session cookie (no Max-Age); the store expiry still applies.
   */
  persistent?: boolean;
}

export interface CookieConfig {
  name: string;
  secure: boolean | "auto";
  sameSite: "Lax" | "Strict" | "None";
  path: string;
  domain: string | undefined;
  hostPrefix: boolean;
  persistent: boolean;
}

/** Browsers cap cookie lifetimes at 400 days. */
export const MAX_COOKIE_LIFETIME = 400 * 24 * 60 * 60_000;

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ATTRIBUTE_VALUE = /^[\x21-\x3a\x3c-\x7e]+$/; // printable ASCII except ";"

export function createCookieConfig(options: CookieOptions = {}): CookieConfig {
  const name = options.name ?? "sess";
  if (typeof name !== "string" || !TOKEN_CHARS.test(name)) {
    throw configError("cookie.name", `expected a cookie-name token (letters, digits, !#$%&'*+-.^_\`|~), got ${describe(name)}`);
  }
  if (/^__(host|secure)-/i.test(name)) {
    throw configError("cookie.name", `give the name without a "__Host-"/"__Secure-" prefix; sess adds "__Host-" itself`);
  }
  const secure = options.secure ?? "auto";
  if (secure !== true && secure !== false && secure !== "auto") {
    throw configError("cookie.secure", `expected true, false or "auto", got ${describe(secure)}`);
  }
  const sameSiteInput = options.sameSite ?? "lax";
  const sameSite = ({ lax: "Lax", strict: "Strict", none: "None" } as const)[sameSiteInput];
  if (sameSite === undefined) {
    throw configError("cookie.sameSite", `expected "lax", "strict" or "none", got ${describe(sameSiteInput)}`);
  }
  if (sameSite === "None" && secure !== true) {
    throw configError("cookie.sameSite", `"none" requires cookie.secure: true (browsers reject SameSite=None without Secure)`);
  }
  const path = options.path ?? "/";
  if (typeof path !== "string" || !path.startsWith("/") || !ATTRIBUTE_VALUE.test(path)) {
    throw configError("cookie.path", `expected a path starting with "/" without ";" or control characters, got ${describe(path)}`);
  }
  const domain = options.domain;
  if (domain !== undefined && (typeof domain !== "string" || !/^\.?[A-Za-z0-9.-]+$/.test(domain))) {
    throw configError("cookie.domain", `expected a host name, got ${describe(domain)}`);
  }
  const hostPrefix = options.hostPrefix ?? domain === undefined;
  if (hostPrefix && (domain !== undefined || path !== "/")) {
    throw configError("cookie.hostPrefix", `the "__Host-" prefix requires path "/" and no domain; set hostPrefix: false`);
  }
  const persistent = options.persistent ?? true;
  if (typeof persistent !== "boolean") {
    throw configError("cookie.persistent", `expected a boolean, got ${describe(persistent)}`);
  }
  return { name, secure, sameSite, path, domain, hostPrefix, persistent };
}

/** Whether the cookie is Secure for a request, and so which name it carries. */
export function isSecureCookie(config: CookieConfig, requestIsSecure: boolean): boolean {
  return config.secure === "auto" ? requestIsSecure : config.secure;
}

export function cookieName(config: CookieConfig, secure: boolean): string {
  return secure && config.hostPrefix ? `__Host-${config.name}` : config.name;
}

function attributes(config: CookieConfig, secure: boolean): string {
  let out = `; Path=${config.path}`;
  if (config.domain !== undefined) out += `; Domain=${config.domain}`;
  out += "; HttpOnly";
  if (secure) out += "; Secure";
  out += `; SameSite=${config.sameSite}`;
  return out;
}

/** The Set-Cookie value carrying `token`, expiring with the session when the cookie is persistent. */
export function serializeSessionCookie(
  config: CookieConfig,
  secure: boolean,
  token: string,
  expiresAt: number,
  now: number,
): string {
  let out = `${cookieName(config, secure)}=${token}${attributes(config, secure)}`;
  if (config.persistent) {
    const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
    out += `; Max-Age=${maxAge}; Expires=${new Date(now + maxAge * 1000).toUTCString()}`;
  }
  return out;
}

/** The Set-Cookie value that removes the session cookie: same name and attributes, expired. */
export function serializeClearingCookie(config: CookieConfig, secure: boolean): string {
  return `${cookieName(config, secure)}=${attributes(config, secure)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}

/**
 * Every value of the cookie `name` in a Cookie header, in order. Values are returned raw (sess
 * tokens need no decoding); a header of many cookies is scanned without building a map.
 */
export function readCookie(header: string | undefined, name: string): string[] {
  const found: string[] = [];
  if (!header) return found;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq !== -1 && eq < end && trimHttpWhitespace(header.slice(start, eq)) === name) {
      found.push(trimHttpWhitespace(header.slice(eq + 1, end)));
    }
    start = end + 1;
  }
  return found;
}

/** Strips HTTP's optional white space (SP, HTAB) only: `String.prototype.trim` would also strip NBSP, U+2028, U+FEFF… */
export function trimHttpWhitespace(text: string): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  // Nothing to strip (every request's cookie value, usually): no regular expression run.
  if (first !== 32 && first !== 9 && last !== 32 && last !== 9) return text;
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

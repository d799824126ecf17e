/**
 * The two ways a token travels: the session cookie and a request header (`Authorization: Bearer`
 * or a named header). Reads a request's candidate tokens and builds the response headers that
 * issue a token or clear it, for whichever transport the request used.
 */
import type { CookieConfig } from "./cookie.js";
import {
  cookieName,
  isSecureCookie,
  readCookie,
  serializeClearingCookie,
  serializeSessionCookie,
  trimHttpWhitespace,
} from "./cookie.js";
import { describe } from "./describe.js";
import { configError } from "./errors.js";
import { isToken } from "./token.js";

export interface HeaderOptions {
  /**
   * Request header carrying the token. Default "authorization", read as `Authorization: Bearer <token>`;
   * any other name is read as the bare token.
   */
  name?: string;
  /** Response header that carries a newly issued token (empty when the session ended). Default "session-token". */
  responseHeader?: string;
}

/** The checked header transport. */
export interface HeaderConfig {
  name: string;
  bearer: boolean;
  responseHeader: string;
}

/** What the manager needs from a request. Adapters build it from `req` or `ctx`. */
export interface RequestInfo {
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** Whether the request reached the app over HTTPS (adapters decide, honouring their trust-proxy setting). */
  secure: boolean;
  /** Client address, stored only with `recordDevice.ip`. */
  ip?: string | undefined;
}

/** Response headers to add, in order. */
export type ResponseHeaders = Array<[name: string, value: string]>;

/** Where a request's token came from. */
export type TokenSource = "cookie" | "header";

/** The tokens of one request, in the order they are tried, and the transport that carried them (null: none). */
export interface RequestTokens {
  tokens: string[];
  source: TokenSource | null;
}

/** The transports of one manager, built once from its options. */
export interface Transport {
  /** Whether the request's cookie is Secure; warns (once per manager) about setups that lose sessions. */
  secure(request: RequestInfo): boolean;
  /**
   * The request's well-formed tokens, in the order they are tried. A header that does not hold a
   * sess token (Basic credentials, another service's bearer token) is ignored, so it never hides
   * a cookie. Every well-formed cookie value is a candidate (at most MAX_COOKIE_TOKENS): without
   * the `__Host-` prefix a sibling domain can toss a cookie of the same name in front of the real one.
   */
  read(request: RequestInfo, secure: boolean): RequestTokens;
  /** The headers that hand `token` to the client over the transport the request used. */
  issue(source: TokenSource | null, secure: boolean, token: string, expiresAt: number, now: number): ResponseHeaders;
  /** The headers that make the client forget its token (none when the request carried no token). */
  clear(source: TokenSource | null, secure: boolean): ResponseHeaders;
}

/** Well-formed session cookie values of one request tried at most (one store call each). */
const MAX_COOKIE_TOKENS = 4;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

export function createHeaderConfig(options: HeaderOptions | boolean | undefined): HeaderConfig | null {
  if (options === undefined || options === false) return null;
  if (options !== true && (options === null || typeof options !== "object")) {
    throw configError("header", `expected true, false or { name, responseHeader }, got ${describe(options)}`);
  }
  const settings = options === true ? {} : options;
  const name = (settings.name ?? "authorization").toLowerCase();
  if (!HEADER_NAME.test(name) || name === "cookie") {
    throw configError("header.name", `expected an HTTP header name other than "cookie", got ${describe(settings.name)}`);
  }
  const responseHeader = (settings.responseHeader ?? "session-token").toLowerCase();
  if (!HEADER_NAME.test(responseHeader) || responseHeader === "set-cookie") {
    throw configError("header.responseHeader", `expected an HTTP header name, got ${describe(settings.responseHeader)}`);
  }
  return { name, bearer: name === "authorization", responseHeader };
}

/** The credentials of `Bearer <token>`; only SP and HTAB count as white space around them. */
export function bearerValue(raw: string): string {
  const match = /^[ \t]*Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(raw);
  return match?.[1] ?? "";
}

/** The transports of a manager: `cookie`, `header` or both (checked by the manager options). */
export function createTransport(cookie: CookieConfig | null, header: HeaderConfig | null, warn: (message: string) => void): Transport {
  let warnedInsecure = false;
  let warnedProxy = false;
  return {
    secure(request) {
      const secure = cookie ? isSecureCookie(cookie, request.secure) : request.secure;
      if (cookie && secure && !request.secure && !warnedInsecure) {
        warnedInsecure = true;
        warn(
          "the session cookie is Secure but this request came over plain HTTP: browsers drop Secure cookies set over HTTP, " +
            "so sessions will not stick. Behind a TLS-terminating proxy, enable the adapter's trustProxy option; " +
            "for local HTTP development, set cookie.secure to \"auto\".",
        );
      }
      if (cookie?.secure === "auto" && !request.secure && !warnedProxy && /^\s*https\s*(,|$)/i.test(request.header("x-forwarded-proto") ?? "")) {
        warnedProxy = true;
        warn(
          "a request came with X-Forwarded-Proto: https but is treated as plain HTTP, so the session cookie is issued " +
            "without Secure. Behind a TLS-terminating proxy, enable the adapter's trustProxy option.",
        );
      }
      return secure;
    },
    read(request, secure) {
      if (header) {
        const raw = request.header(header.name);
        if (raw !== undefined) {
          const value = header.bearer ? bearerValue(raw) : trimHttpWhitespace(raw);
          if (isToken(value)) return { tokens: [value], source: "header" };
        }
      }
      if (cookie) {
        const values = readCookie(request.header("cookie"), cookieName(cookie, secure));
        // One cookie of that name (the common case): no filter, Set and slice copies.
        if (values.length === 1) return { tokens: isToken(values[0]) ? values : [], source: "cookie" };
        if (values.length > 1) {
          return { tokens: [...new Set(values.filter(isToken))].slice(0, MAX_COOKIE_TOKENS), source: "cookie" };
        }
      }
      return { tokens: [], source: null };
    },
    issue(source, secure, token, expiresAt, now) {
      if (source === "header" || !cookie) {
        return [[header!.responseHeader, token], ["cache-control", "no-store"]];
      }
      return [
        ["set-cookie", serializeSessionCookie(cookie, secure, token, expiresAt, now)],
        ["cache-control", "no-store"],
      ];
    },
    clear(source, secure) {
      if (source === "header") return [[header!.responseHeader, ""], ["cache-control", "no-store"]];
      if (source === "cookie" && cookie) {
        return [["set-cookie", serializeClearingCookie(cookie, secure)], ["cache-control", "no-store"]];
      }
      return [];
    },
  };
}

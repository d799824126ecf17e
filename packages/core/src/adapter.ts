/**
 * `@sess/core/adapter`: the entry for authors of framework adapters (not for applications).
 *
 * What every framework adapter shares: its options, the manager it opens sessions with, the
 * request reader over `node:http`, the response header writer, and the login/logout helpers.
 * Adapters add only their framework's wiring (where the session lives, when the commit runs).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { SessionError, configError } from "./errors.js";
import { currentSession } from "./context.js";
import type { OpenSession, SessionManager } from "./manager.js";
import { createSessionManager } from "./manager.js";
import type { SessionManagerOptions } from "./manager-options.js";
import type { RequestInfo, ResponseHeaders } from "./transport.js";
import { ADAPTER_KEYS, checkOptionNames } from "./options.js";
import type { Session, SessionData, UntypedData } from "./session.js";

export interface AdapterOptions {
  /**
   * Trust `X-Forwarded-Proto` from a TLS-terminating proxy: `https` there makes the request secure
   * (Secure, `__Host-` cookie). Default false: only a TLS socket makes a request secure.
   */
  trustProxy?: boolean;
  /**
   * Run each request's remaining middleware and handler in an `AsyncLocalStorage` scope holding its
   * session, so `currentSession()` (and `sessions.current()`) work in code that is not handed
   * `req`/`ctx`. Default false (the scope costs a little on every request).
   */
  asyncContext?: boolean;
}

/** Either the core options (the middleware builds its manager) or an existing `manager`, plus `trustProxy`. */
export type SessionMiddlewareOptions<T extends SessionData = UntypedData> =
  | (SessionManagerOptions & AdapterOptions & { manager?: undefined })
  | ({ manager: SessionManager<T> } & AdapterOptions);

/** The helpers both adapters expose on their middleware, keyed by `req` (Express) or `ctx` (Koa). */
export interface SessionHelpers<K, T extends SessionData> {
  /** The manager the middleware opens sessions with (user listings, revocation, `close()`). */
  readonly manager: SessionManager<T>;
  /** The typed session of a request the middleware handled. */
  of(key: K): Session<T>;
  /** Logs `userId` in: a new token at commit, data kept unless `keepData: false`, session bound to the user. */
  login(key: K, userId: string, options?: { keepData?: boolean }): Session<T>;
  /** Ends the request's session: deleted at commit, and the response clears the cookie. */
  logout(key: K): void;
  /** Ends every session of the request's user (this one included). Resolves how many others were ended. */
  logoutEverywhere(key: K): Promise<number>;
  /**
   * Opens the session of a `node:http` request the middleware does not handle (a WebSocket upgrade,
   * another entry point): one store call at most, same token rules as the middleware. Read it
   * directly; after writing, `await commit()` and send its headers yourself if the response allows.
   */
  openSession(req: IncomingMessage): Promise<OpenSession<T>>;
  /** The session of the request being handled (needs `asyncContext: true`); throws outside one. */
  current(): Session<T>;
}

export interface AdapterCore<K extends object, T extends SessionData> {
  helpers: SessionHelpers<K, T>;
  /** The validated `trustProxy` option, for adapters that read requests other than `node:http` ones. */
  trustProxy: boolean;
  /** Whether requests run in a `currentSession()` scope. */
  asyncContext: boolean;
  /** Opens the session of `req` and remembers it under `key`. */
  open(key: K, req: IncomingMessage, ip: IpSource): ReturnType<SessionManager<T>["open"]>;
  /** Opens the session of a request described by `request` (a Web `Request`, say) and remembers it under `key`. */
  openInfo(key: K, request: RequestInfo): ReturnType<SessionManager<T>["open"]>;
}

/** How an adapter's requests are built, as far as where the `session` accessor may hang goes. */
export interface AdapterShape {
  /**
   * Every request object (`key`) of one application is made from a prototype that application owns
   * alone (Koa's `app.context`): the `session` accessor is defined once on that prototype instead of
   * on each request. Not for frameworks whose request prototype is shared across applications or
   * changes during a request (Express moves `req` between prototypes in mounted applications).
   * Default false.
   */
  accessorOnPrototype?: boolean;
}

/** Builds the shared part of an adapter. `where` names the thing sessions hang on, for messages ("request", "context"). */
export function createAdapterCore<K extends object, T extends SessionData>(
  options: SessionMiddlewareOptions<T>,
  where: string,
  shape: AdapterShape = {},
): AdapterCore<K, T> {
  if (options === null || typeof options !== "object") throw configError("options", "expected an object");
  const { trustProxy = false, asyncContext = false } = options;
  if (typeof trustProxy !== "boolean") {
    throw configError("trustProxy", `expected a boolean, got ${typeof trustProxy}`);
  }
  if (typeof asyncContext !== "boolean") {
    throw configError("asyncContext", `expected a boolean, got ${typeof asyncContext}`);
  }
  checkOptionNames(options, null, ADAPTER_KEYS);
  let manager: SessionManager<T>;
  if (options.manager !== undefined) {
    const extra = Object.keys(options).find((key) => !(ADAPTER_KEYS as readonly string[]).includes(key));
    if (extra !== undefined) {
      throw configError(extra, "with an existing manager the middleware takes only trustProxy and asyncContext: give the other options to createSessionManager(…)");
    }
    manager = options.manager;
  } else {
    const { trustProxy: _trustProxy, manager: _manager, asyncContext: _asyncContext, ...core } = options;
    manager = createSessionManager<T>(core);
  }
  // The session hangs on `key` under a symbol of this middleware, read by one accessor shared by
  // every request (no closure and no WeakMap entry per request).
  const slot = Symbol("sess.session");
  const refuseReplacement = (): never => {
    throw new TypeError(
      `${where}.session cannot be replaced: to end the session call sessions.logout(${where === "context" ? "ctx" : "req"}); to write, session.set(name, value)`,
    );
  };
  const accessor: PropertyDescriptor = {
    configurable: true,
    enumerable: true,
    get(this: Record<symbol, Session<T> | undefined>) {
      return this[slot];
    },
    // Replacing it (`req.session = null`, the cookie-session / koa-session way to log out) would end nothing.
    set: refuseReplacement,
  };
  // The same accessor on an application's request prototype (`shape.accessorOnPrototype`): defining
  // an accessor costs V8 a descriptor and a slow path on every request, a prototype's only once. A
  // request of that application this middleware did not open keeps `session` as a plain property.
  const prototypeAccessor: PropertyDescriptor = {
    configurable: true,
    enumerable: false,
    get: accessor.get,
    set(this: Record<symbol, Session<T> | undefined>, value: unknown) {
      if (this[slot] !== undefined) refuseReplacement();
      Object.defineProperty(this, "session", { value, writable: true, enumerable: true, configurable: true });
    },
  };
  /** The prototype this middleware's accessor was last found on. */
  let lastHolder: object | null = null;

  /** Whether `prototype` holds this middleware's accessor, defining it there when it has no `session` of its own. */
  function holds(prototype: object): boolean {
    const own = Object.getOwnPropertyDescriptor(prototype, "session");
    if (own !== undefined) return own.set === prototypeAccessor.set; // another middleware's or koa-session's: not taken
    if (!Object.isExtensible(prototype)) return false;
    Object.defineProperty(prototype, "session", prototypeAccessor);
    return true;
  }

  /** Makes `key.session` read this middleware's slot. */
  function hangAccessor(key: object): void {
    if (shape.accessorOnPrototype === true && !Object.hasOwn(key, "session")) {
      const prototype: object | null = Object.getPrototypeOf(key);
      if (prototype !== null && prototype === lastHolder) return;
      if (prototype !== null && prototype !== Object.prototype && holds(prototype)) {
        lastHolder = prototype;
        return;
      }
    }
    Object.defineProperty(key, "session", accessor);
  }

  function of(key: K): Session<T> {
    const session = (key as Record<symbol, Session<T> | undefined>)[slot];
    if (!session) {
      throw new Error(`this ${where} has no session: use sessionMiddleware(…) before the code that reads it`);
    }
    return session;
  }

  async function openInfo(key: K, request: RequestInfo) {
    const opened = await manager.open(request);
    (key as Record<symbol, Session<T>>)[slot] = opened.session;
    hangAccessor(key);
    return opened;
  }

  return {
    trustProxy,
    asyncContext,
    open: (key, req, ip) => openInfo(key, requestInfo(req, trustProxy, ip)),
    openInfo,
    helpers: {
      manager,
      of,
      login(key, userId, loginOptions) {
        const session = of(key);
        session.login(userId, loginOptions);
        return session;
      },
      logout(key) {
        of(key).destroy();
      },
      async logoutEverywhere(key) {
        const session = of(key);
        const userId = session.userId;
        const ended = userId === null ? 0 : await manager.endUserSessions(userId, { exceptId: session.id });
        session.destroy();
        return ended;
      },
      openSession: (req) => manager.open(requestInfo(req, trustProxy)),
      current: () => currentSession<T>(),
    },
  };
}

/**
 * The client address an adapter knows: the address itself, or an object whose `ip` is read only
 * when the manager needs it (Express's `req` and Koa's `ctx`, whose `ip` getters parse
 * X-Forwarded-For: only new sessions and IP binding use it). Without one, the socket's address.
 */
export type IpSource = string | { readonly ip?: string | undefined } | undefined;

/** What the manager needs of a `node:http` request: a class, so a request costs one object and no closure. */
class NodeRequestInfo implements RequestInfo {
  readonly secure: boolean;
  readonly #req: IncomingMessage;
  readonly #ip: IpSource;

  constructor(req: IncomingMessage, trustProxy: boolean, ip: IpSource) {
    this.#req = req;
    this.#ip = ip;
    this.secure = isSecureRequest(req, trustProxy);
  }

  header(name: string): string | undefined {
    return headerValue(this.#req.headers[name]);
  }

  get ip(): string | undefined {
    const source = this.#ip;
    return (typeof source === "object" ? source.ip : source) ?? this.#req.socket.remoteAddress;
  }
}

/** What the manager needs of a `node:http` request. */
export function requestInfo(req: IncomingMessage, trustProxy: boolean, ip?: IpSource): RequestInfo {
  return new NodeRequestInfo(req, trustProxy, ip);
}

function isSecureRequest(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  return trustProxy && isForwardedHttps(headerValue(req.headers["x-forwarded-proto"]));
}

/** Whether an `X-Forwarded-Proto` value (its first hop) says https. Only consulted with `trustProxy`. */
export function isForwardedHttps(proto: string | undefined): boolean {
  return proto !== undefined && proto.split(",")[0]!.trim().toLowerCase() === "https";
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Adds the session's headers to a response whose head is not sent yet; Set-Cookie joins any the app set. */
export function appendResponseHeaders(res: ServerResponse, headers: ResponseHeaders): void {
  if (headers.length > 0 && res.headersSent) {
    throw new SessionError(
      "CONFLICT",
      "the response headers were sent before the session was committed; send the response through the framework",
    );
  }
  for (const [name, value] of headers) {
    if (name === "set-cookie") {
      const previous = res.getHeader("set-cookie");
      const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
      res.setHeader("set-cookie", [...list, value]);
    } else {
      res.setHeader(name, value);
    }
  }
}

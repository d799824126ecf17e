import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  SessionError,
  createSessionManager,
  type CommitResult,
  type ResponseHeaders,
  type Session,
  type SessionData,
  type UntypedData,
  type SessionErrorWithHeaders,
  type SessionManager,
  type SessionManagerOptions,
} from "@sess/core";


export interface AdapterOptions {
  /**
   * Trust `X-Forwarded-Proto` from a TLS-terminating proxy: `https` there makes the request secure
   * (Secure, `__Host-` cookie). Default false: only a TLS socket makes a request secure.
   */
  trustProxy?: boolean;
}

/** Either the core options (the middleware builds its manager) or an existing `manager`, plus `trustProxy`. */
export type SessionMiddlewareOptions<T extends SessionData = UntypedData> =
  | (SessionManagerOptions & AdapterOptions & { manager?: undefined })
  | ({ manager: SessionManager<T> } & AdapterOptions);

type Next = (error?: unknown) => void;

export interface SessionMiddleware<T extends SessionData = UntypedData> {
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
  /** The manager the middleware opens sessions with (user listings, revocation, `close()`). */
  readonly manager: SessionManager<T>;
  /** The typed session of a request this middleware handled (also set as `req.session`). */
  of(req: IncomingMessage): Session<T>;
  /** Logs `userId` in: a new token at commit, data kept unless `keepData: false`, session bound to the user. */
  login(req: IncomingMessage, userId: string, options?: { keepData?: boolean }): Session<T>;
  /** Ends the request's session: deleted at commit, and the response clears the cookie. */
  logout(req: IncomingMessage): void;
  /** Ends every session of the request's user (this one included). Resolves how many others were ended. */
  logoutEverywhere(req: IncomingMessage): Promise<number>;
}

/**
 * Express middleware (Express 4 and 5). Opens the request's session (no store call without a
 * token), exposes it as `req.session` and through `of(req)`, and commits it before the response
 * headers are sent, whichever way the handler answers (`res.json`, `res.send`, `res.end`,
 * `res.redirect`, `res.write` streams). Store failures reach `next(error)` as a `SessionError`
 * (`status` 503) and no session cookie is sent.
 */
export function sessionMiddleware<T extends SessionData = UntypedData>(
  options: SessionMiddlewareOptions<T>,
): SessionMiddleware<T> {
  const { trustProxy = false } = options;
  if (typeof trustProxy !== "boolean") {
    throw new SessionError("CONFIG_INVALID", `invalid option "trustProxy": expected a boolean, got ${typeof trustProxy}`);
  }
  let manager: SessionManager<T>;
  if (options.manager !== undefined) {
    manager = options.manager;
  } else {
    const { trustProxy: _trustProxy, manager: _manager, ...core } = options;
    manager = createSessionManager<T>(core);
  }
  const sessions = new WeakMap<IncomingMessage, Session<T>>();

  function of(req: IncomingMessage): Session<T> {
    const session = sessions.get(req);
    if (!session) {
      throw new Error("this request has no session: mount sessionMiddleware(…) before the route that reads it");
    }
    return session;
  }

  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const secure = isSecure(req, trustProxy);
    manager
      .open({
        header: (name) => headerValue(req.headers[name]),
        secure,
        ip: (req as { ip?: string }).ip ?? req.socket.remoteAddress,
      })
      .then(
        ({ session, commit }) => {
          sessions.set(req, session);
          (req as { session?: Session<T> }).session = session;
          holdUntilCommitted(res, commit, next);
          next();
        },
        (error: unknown) => next(error),
      );
  };

  return Object.assign(middleware, {
    manager,
    of,
    login(req: IncomingMessage, userId: string, loginOptions?: { keepData?: boolean }) {
      const session = of(req);
      session.login(userId, loginOptions);
      return session;
    },
    logout(req: IncomingMessage) {
      of(req).destroy();
    },
    async logoutEverywhere(req: IncomingMessage) {
      const session = of(req);
      const userId = session.userId;
      const ended = userId === null ? 0 : await manager.endUserSessions(userId, { exceptId: session.id });
      session.destroy();
      return ended;
    },
  });
}

function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  if (!trustProxy) return false;
  const proto = headerValue(req.headers["x-forwarded-proto"]);
  return proto !== undefined && proto.split(",")[0]!.trim().toLowerCase() === "https";
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Holds every call that would send the head (writeHead, write, end, flushHeaders) until the
 * session is committed, then adds the session headers and replays the calls in order. On a
 * commit failure the handler's response is dropped (headers cleared) and the error goes to
 * `next`, so the app's error handling answers instead.
 */
function holdUntilCommitted(res: ServerResponse, commit: () => Promise<CommitResult>, next: Next): void {
  const original = {
    writeHead: res.writeHead,
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  };
  const held: Array<() => void> = [];
  let started = false;
  let heldWrite = false;
  let lastWrite = true;

  const restore = () => {
    res.writeHead = original.writeHead;
    res.write = original.write;
    res.end = original.end;
    res.flushHeaders = original.flushHeaders;
  };

  const hold = (call: () => void) => {
    held.push(call);
    if (started) return;
    started = true;
    commit().then(
      (result) => {
        restore();
        addHeaders(res, result.headers);
        for (const call of held) call();
        if (heldWrite && lastWrite) res.emit("drain");
      },
      (error: unknown) => {
        restore();
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 200;
        const headers = (error as SessionErrorWithHeaders).headers;
        if (headers) addHeaders(res, Object.entries(headers));
        next(error);
      },
    );
  };

  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    hold(() => {
      (original.writeHead as (...a: unknown[]) => ServerResponse).apply(res, mergeSetCookie(res, args));
    });
    return res;
  } as ServerResponse["writeHead"];

  res.write = function (this: ServerResponse, ...args: unknown[]) {
    heldWrite = true;
    hold(() => {
      lastWrite = (original.write as (...a: unknown[]) => boolean).apply(res, args);
    });
    return false; // ask streams to wait for "drain", emitted once the held writes went out
  } as ServerResponse["write"];

  res.end = function (this: ServerResponse, ...args: unknown[]) {
    hold(() => {
      (original.end as (...a: unknown[]) => ServerResponse).apply(res, args);
    });
    return res;
  } as ServerResponse["end"];

  res.flushHeaders = function (this: ServerResponse) {
    hold(() => original.flushHeaders.call(res));
  };
}

function addHeaders(res: ServerResponse, headers: ResponseHeaders): void {
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

/** `writeHead(status, [message], headers)` would overwrite our Set-Cookie with the handler's: merge them. */
function mergeSetCookie(res: ServerResponse, args: unknown[]): unknown[] {
  const last = args[args.length - 1];
  if (last === null || typeof last !== "object" || Array.isArray(last)) return args;
  const ours = res.getHeader("set-cookie");
  if (ours === undefined) return args;
  const headers: OutgoingHttpHeaders = { ...(last as OutgoingHttpHeaders) };
  const key = Object.keys(headers).find((name) => name.toLowerCase() === "set-cookie");
  if (key === undefined) return args;
  const theirs = headers[key];
  delete headers[key];
  const list = Array.isArray(ours) ? ours : [String(ours)];
  headers["set-cookie"] = [...(Array.isArray(theirs) ? theirs : theirs === undefined ? [] : [String(theirs)]), ...list];
  return [...args.slice(0, -1), headers];
}

export {
  SessionError,
  isSessionError,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  type UntypedData,
} from "@sess/core";

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import {
  runWithSession,
  type OpenSession,
  type SessionData,
  type SessionErrorWithHeaders,
  type UntypedData,
} from "@sess/core";
import {
  appendResponseHeaders,
  createAdapterCore,
  type SessionHelpers,
  type SessionMiddlewareOptions,
} from "@sess/core/adapter";

type Next = (error?: unknown) => void;

export interface SessionMiddleware<T extends SessionData = UntypedData> extends SessionHelpers<IncomingMessage, T> {
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
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
  const adapter = createAdapterCore<IncomingMessage, T>(options, "request");
  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    adapter.open(req, req, req as { ip?: string }).then(
      (opened) => {
        // A read (the common case) needs nothing at commit: the response goes out untouched, and is
        // wrapped only if the handler changes the session.
        if (!opened.idleUntilChange(() => holdOnChange(res, opened, next))) holdUntilCommitted(res, opened, next);
        if (adapter.asyncContext) runWithSession(opened.session, () => next());
        else next();
      },
      (error: unknown) => next(error),
    );
  };
  return Object.assign(middleware, adapter.helpers);
}

type Committable = Pick<OpenSession<SessionData>, "commit" | "commitNow">;

/** The first change to a session whose response was not held: hold it now, or, with its head already out, fail the change. */
function holdOnChange(res: ServerResponse, opened: Committable, next: Next): void {
  if (!res.headersSent) {
    holdUntilCommitted(res, opened, next);
    return;
  }
  // Committed now, the change throws CONFLICT (it could not be sent). A renewal that came due
  // meanwhile still reaches the store, its cookie too late for this response.
  if (opened.commitNow() === null) void opened.commit().catch(() => undefined);
}

/**
 * Holds every call that would send the head (writeHead, write, end, flushHeaders) until the
 * session is committed, then adds the session headers and replays the calls in order. On a
 * commit failure the handler's response is dropped (headers cleared) and the error goes to
 * `next`, so the app's error handling answers instead.
 */
function holdUntilCommitted(res: ServerResponse, opened: Committable, next: Next): void {
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

  const hold = (call: () => void, status = res.statusCode) => {
    if (!started) {
      // Read-only requests (the common case) need no store call: send at once, nothing held.
      const ready = opened.commitNow({ status });
      if (ready) {
        restore();
        appendResponseHeaders(res, ready.headers);
        call();
        return;
      }
    }
    held.push(call);
    if (started) return;
    started = true;
    opened.commit({ status }).then(
      (result) => {
        restore();
        try {
          appendResponseHeaders(res, result.headers);
        } catch (error) {
          next(error); // the head left by a path sess cannot hold (a raw socket write)
          return;
        }
        for (const call of held) call();
        if (heldWrite && lastWrite) res.emit("drain");
      },
      (error: unknown) => {
        restore();
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 200;
        const headers = (error as SessionErrorWithHeaders).headers;
        if (headers) appendResponseHeaders(res, Object.entries(headers));
        next(error);
      },
    );
  };

  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    hold(
      () => {
        (original.writeHead as (...a: unknown[]) => ServerResponse).apply(res, mergeSetCookie(res, args));
      },
      typeof args[0] === "number" ? args[0] : res.statusCode,
    );
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

export { sessionErrorHandler, type SessionErrorHandler } from "./errors.js";
export {
  SessionError,
  isSessionError,
  currentSession,
  type SessionErrorBody,
  type Session,
  type SessionManager,
  type SessionManagerOptions,
  type UntypedData,
} from "@sess/core";
export type { AdapterOptions, SessionMiddlewareOptions } from "@sess/core/adapter";

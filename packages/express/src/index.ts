import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import {
  runWithSession,
  type OpenSession,
  type ResponseHeaders,
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

/** The response methods that send the head, wrapped while a commit is pending. */
type Method = "writeHead" | "write" | "end" | "flushHeaders";
type AnyMethod = (...args: unknown[]) => unknown;

/**
 * Holds every call that would send the head (writeHead, write, end, flushHeaders) until the
 * session is committed, then adds the session headers and replays the calls in order. On a
 * commit failure the handler's response is dropped (headers cleared) and the error goes to
 * `next`, so the app's error handling answers instead. Only a response whose session changed is
 * held. The wrappers are closures over the hold: the response gets its four methods and nothing
 * else. Express sets the prototype of every response, and under Node 20 and 22 V8 then takes a slow
 * path for each property added to it (about 1.5 µs each here, against a few ns for a closure).
 */
class Hold {
  readonly #res: ServerResponse;
  readonly #opened: Committable;
  readonly #next: Next;
  readonly #original: Record<Method, AnyMethod>;
  readonly #held: Array<[Method, unknown[]]> = [];
  #started = false;
  #heldWrite = false;
  #lastWrite = true;
  /** How the hold ended: the calls went out ("sent"), or the response went to the error handler ("dropped"). */
  #over: "sent" | "dropped" | null = null;

  constructor(res: ServerResponse, opened: Committable, next: Next) {
    this.#res = res;
    this.#opened = opened;
    this.#next = next;
    this.#original = {
      writeHead: res.writeHead as AnyMethod,
      write: res.write as AnyMethod,
      end: res.end as AnyMethod,
      flushHeaders: res.flushHeaders as AnyMethod,
    };
  }

  /** The wrappers' part: hold the call, answering what the method would. */
  writeHead(args: unknown[]): ServerResponse {
    this.hold("writeHead", args, typeof args[0] === "number" ? args[0] : this.#res.statusCode);
    return this.#res;
  }

  write(args: unknown[]): boolean {
    this.hold("write", args, this.#res.statusCode);
    // While held, ask streams to wait for "drain", emitted once the held writes went out.
    return this.#over === "sent" ? this.#lastWrite : false;
  }

  end(args: unknown[]): ServerResponse {
    this.hold("end", args, this.#res.statusCode);
    return this.#res;
  }

  hold(method: Method, args: unknown[], status: number): void {
    if (this.#over !== null) {
      // A wrapper kept by reference and called after the hold ended: the response is the
      // handler's again (pass the call on) or the error handler's (leave it alone).
      if (this.#over === "sent") this.#call(method, args);
      return;
    }
    if (method === "write") this.#heldWrite = true;
    if (!this.#started) {
      // A change that needs no store call (a refused write answered with an error) sends at once.
      const ready = this.#opened.commitNow({ status });
      if (ready) {
        this.#restore();
        this.#over = "sent";
        appendResponseHeaders(this.#res, ready.headers);
        this.#call(method, args);
        return;
      }
    }
    this.#held.push([method, args]);
    if (this.#started) return;
    this.#started = true;
    this.#opened.commit({ status }).then(
      (result) => this.#committed(result.headers),
      (error: unknown) => this.#failed(error),
    );
  }

  #committed(headers: ResponseHeaders): void {
    this.#restore();
    try {
      appendResponseHeaders(this.#res, headers);
    } catch (error) {
      this.#over = "dropped";
      this.#next(error); // the head left by a path sess cannot hold (a raw socket write)
      return;
    }
    this.#over = "sent";
    for (const [method, args] of this.#held) this.#call(method, args);
    if (this.#heldWrite && this.#lastWrite) this.#res.emit("drain");
  }

  #failed(error: unknown): void {
    const res = this.#res;
    this.#restore();
    this.#over = "dropped";
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 200;
    const headers = (error as SessionErrorWithHeaders).headers;
    if (headers) appendResponseHeaders(res, Object.entries(headers));
    this.#next(error);
  }

  #call(method: Method, args: unknown[]): void {
    const res = this.#res;
    const original = this.#original[method];
    if (method === "writeHead") original.apply(res, mergeSetCookie(res, args));
    else if (method === "write") this.#lastWrite = original.apply(res, args) as boolean;
    else original.apply(res, args);
  }

  #restore(): void {
    const res = this.#res;
    const original = this.#original;
    res.writeHead = original.writeHead as ServerResponse["writeHead"];
    res.write = original.write as ServerResponse["write"];
    res.end = original.end as ServerResponse["end"];
    res.flushHeaders = original.flushHeaders as ServerResponse["flushHeaders"];
  }
}

function holdUntilCommitted(res: ServerResponse, opened: Committable, next: Next): void {
  const hold = new Hold(res, opened, next);
  res.writeHead = ((...args: unknown[]) => hold.writeHead(args)) as ServerResponse["writeHead"];
  res.write = ((...args: unknown[]) => hold.write(args)) as ServerResponse["write"];
  res.end = ((...args: unknown[]) => hold.end(args)) as ServerResponse["end"];
  res.flushHeaders = () => hold.hold("flushHeaders", [], res.statusCode);
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

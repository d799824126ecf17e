import type { IncomingMessage } from "node:http";
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import fastifyPlugin from "fastify-plugin";
import { isSessionError, runWithSession, sessionErrorResponse, type OpenSession, type ResponseHeaders, type SessionData, type UntypedData } from "@sess/core";
import { createAdapterCore, requestInfo, type SessionHelpers, type SessionMiddlewareOptions } from "@sess/core/adapter";

export interface SessionPlugin<T extends SessionData = UntypedData>
  extends Omit<SessionHelpers<FastifyRequest, T>, "openSession">,
    FastifyPluginCallback {
  /**
   * Opens the session of a request the plugin does not handle: the raw `node:http` request of a
   * WebSocket upgrade (`server.on("upgrade")`), or a Fastify request of a route outside the plugin's
   * context (`@fastify/websocket`'s handlers, say). One store call at most, same token rules as the
   * plugin. Read it directly; after writing, `await commit()` and send its headers yourself if the
   * response allows.
   */
  openSession(request: IncomingMessage | FastifyRequest): Promise<OpenSession<T>>;
}

/**
 * A Fastify 5 plugin (wrapped with fastify-plugin: its hooks apply to the instance it is registered
 * on and that instance's children, never to siblings). An `onRequest` hook opens the request's
 * session (no store call without a token) and exposes it as `request.session` and through
 * `of(request)`; an `onSend` hook commits it and adds its headers before the reply is sent, whatever
 * the handler answered with (a returned value, `reply.send`, a stream, `reply.redirect`). Store
 * failures go to Fastify's error handling as a `SessionError` (`status` 503) and no session cookie
 * is sent.
 */
export function sessionPlugin<T extends SessionData = UntypedData>(options: SessionMiddlewareOptions<T>): SessionPlugin<T> {
  const adapter = createAdapterCore<FastifyRequest, T>(options, "request");
  /** Sessions opened and not yet committed. A reply sent twice (the error reply after a failed commit) commits once. */
  const pending = new WeakMap<FastifyRequest, OpenSession<T>>();

  const plugin = (instance: FastifyInstance, _options: unknown, done: (error?: Error) => void): void => {
    // `null as never`: a project that also has @fastify/session installed types `request.session` as its own.
    if (!instance.hasRequestDecorator("session")) instance.decorateRequest("session", null as never);

    instance.addHook("onRequest", (request, _reply, next) => {
      adapter.open(request, request.raw, request.ip).then(
        (opened) => {
          pending.set(request, opened);
          if (adapter.asyncContext) runWithSession(opened.session, next);
          else next();
        },
        (error: unknown) => next(error as Error),
      );
    });

    instance.addHook("onSend", (request, reply, payload, next) => {
      const opened = pending.get(request);
      if (opened === undefined) {
        next(null, payload);
        return;
      }
      pending.delete(request);
      // The reply's status tells a request whose write was refused to commit none of its changes.
      const outcome = { status: reply.statusCode };
      // Read-only requests (the common case) need no store call: answered without waiting a turn.
      const ready = opened.commitNow(outcome);
      if (ready) {
        addHeaders(reply, ready.headers);
        next(null, payload);
        return;
      }
      opened.commit(outcome).then(
        (result) => {
          addHeaders(reply, result.headers);
          next(null, payload);
        },
        (error: unknown) => {
          // The handler's answer is dropped: Fastify's error handling answers with the error's
          // status and `headers` (the clearing cookie of an ended session), never a session cookie.
          for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
          reply.code((error as { status?: number }).status ?? 500);
          (payload as { destroy?: () => void } | null)?.destroy?.();
          next(error as Error);
        },
      );
    });
    done();
  };

  const wrapped = fastifyPlugin(plugin, { fastify: "5.x", name: "@sess/fastify" });
  return Object.assign(wrapped, adapter.helpers, {
    openSession(request: IncomingMessage | FastifyRequest) {
      return "raw" in request
        ? adapter.helpers.manager.open(requestInfo(request.raw, adapter.trustProxy, request.ip))
        : adapter.helpers.openSession(request);
    },
  });
}

/** A Fastify error handler, for `app.setErrorHandler(…)`. */
export type SessionErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * The ready-made Fastify error handler for sessions, for `app.setErrorHandler(sessionErrorHandler())`:
 * a `SessionError` is answered with its status, its headers (the clearing cookie of an ended
 * session), `Cache-Control: no-store`, `Retry-After: 1` when the store is down, and a JSON body
 * `{ error: code, message }` with no stack and no internal detail. Any other error goes to
 * `fallback` when given, else to the parent context's error handler (Fastify's default at the root).
 */
export function sessionErrorHandler(fallback?: SessionErrorHandler): SessionErrorHandler {
  return function sessionErrors(error, request, reply) {
    if (!isSessionError(error)) {
      if (fallback) return fallback(error, request, reply);
      throw error;
    }
    const response = sessionErrorResponse(error);
    return reply.code(response.status).headers(response.headers).type("application/json; charset=utf-8").send(response.body);
  };
}

/** Adds the session's headers (Fastify appends a Set-Cookie to any cookie the app set). */
function addHeaders(reply: FastifyReply, headers: ResponseHeaders): void {
  for (const [name, value] of headers) reply.header(name, value);
}

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

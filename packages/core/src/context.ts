/**
 * The request's session outside the handler's arguments (service layers, loggers): adapters created
 * with `asyncContext: true` run the rest of the request inside an `AsyncLocalStorage` scope holding
 * its session, and `currentSession()` reads it. Off by default: an `AsyncLocalStorage` scope costs
 * a little on every request and every promise.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Session, SessionData, UntypedData } from "./session.js";

const storage = new AsyncLocalStorage<object>();

/** Runs `fn` with `session` as the current session (what adapters do with `asyncContext: true`). */
export function runWithSession<T extends SessionData, R>(session: Session<T>, fn: () => R): R {
  return storage.run(session, fn);
}

/**
 * The session of the request being handled. Throws when called outside a request of a middleware
 * created with `asyncContext: true`.
 */
export function currentSession<T extends SessionData = UntypedData>(): Session<T> {
  const session = storage.getStore();
  if (session === undefined) {
    throw new Error(
      "currentSession() found no session: call it while a request is handled by a sessionMiddleware created with asyncContext: true",
    );
  }
  return session as unknown as Session<T>;
}

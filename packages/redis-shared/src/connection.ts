/**
 * The client's last connection error, for the `cause` of "client not ready" errors. Watched through
 * `events.errorMonitor`, which sees every 'error' event without handling it: a client without an
 * 'error' listener behaves exactly as before (the application still owns error handling).
 */
import { errorMonitor } from "node:events";

interface Observable {
  on(event: string | symbol, listener: (value: unknown) => void): unknown;
  off?(event: string | symbol, listener: (value: unknown) => void): unknown;
}

/**
 * Watches the client: `lastError` reads the last 'error' it emitted since it was last ready (null
 * when none); `unwatch` removes the listeners (the driver's `close()`), so drivers made and closed
 * on one client leave nothing behind.
 */
export function watchConnectionErrors(client: unknown): { lastError: () => unknown; unwatch: () => void } {
  let last: unknown = null;
  const emitter = client as Partial<Observable> | null;
  if (!emitter || typeof emitter.on !== "function") return { lastError: () => last, unwatch: () => {} };
  const onError = (error: unknown) => {
    last = error;
  };
  const onReady = () => {
    last = null;
  };
  emitter.on(errorMonitor, onError);
  emitter.on("ready", onReady);
  return {
    lastError: () => last,
    unwatch: () => {
      emitter.off?.(errorMonitor, onError);
      emitter.off?.("ready", onReady);
    },
  };
}

/** A connection error's message; Node's AggregateError (one error per address tried) has an empty one. */
export function connectionErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== "") return error.message;
  const inner = (error as { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.map(connectionErrorText).join("; ");
  return (error as { code?: string }).code ?? error.name;
}

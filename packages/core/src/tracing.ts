/**
 * Tracing channels (`node:diagnostics_channel`) for every store operation the manager runs.
 *
 * Subscribers (an APM agent, `@sess/opentelemetry`, a test) receive the standard TracingChannel
 * events (`start`, `end`, `asyncStart`, `asyncEnd`, `error`) with a `StoreTrace` as the context.
 * The context never carries a token, a field name or a session value: only the public session id,
 * the operation, the driver's name and, once settled, the outcome and error code (as `result`, the
 * outcome; as `error`, a SessionError with only the code in its message).
 * With no subscriber the operation runs untraced, at no cost.
 */
import { tracingChannel } from "node:diagnostics_channel";
import { SessionError, type SessionErrorCode } from "./errors.js";

/** The store operations the manager runs, by the channel that traces them. */
export const CHANNELS = {
  /** `load`: read the request's session. */
  "sess:load": ["load"],
  /** `create`, `update`, `rotate`: write the request's session. */
  "sess:commit": ["create", "update", "rotate"],
  /** `destroy`: delete the request's own session (logout, binding mismatch). */
  "sess:destroy": ["destroy"],
  /** `endSession`, `endUserSessions`: end sessions other than the request's. */
  "sess:end": ["endSession", "endUserSessions"],
  /** `listUserSessions`, `countIndex`, `findIndex`: read-only queries across sessions. */
  "sess:query": ["listUserSessions", "countIndex", "findIndex"],
} as const;

export type ChannelName = keyof typeof CHANNELS;
export type StoreOperation = (typeof CHANNELS)[ChannelName][number];

/** What a subscriber is told about one store operation. Mutated in place as it settles. */
export interface StoreTrace {
  operation: StoreOperation;
  /** The driver's name ("memory", "ioredis", "node-redis"). */
  driver: string;
  /** The public id of the session operated on, or null for user-wide operations and queries. */
  sessionId: string | null;
  /** Set when the operation settles: "ok" (found, written), "none" (nothing found or changed), "error". */
  outcome?: "ok" | "none" | "error";
  /** With outcome "error": the SessionError code the request sees. */
  errorCode?: SessionErrorCode;
}

const channelOf = new Map<StoreOperation, ReturnType<typeof tracingChannel<StoreTrace, StoreTrace>>>();
for (const [name, operations] of Object.entries(CHANNELS)) {
  const channel = tracingChannel<StoreTrace, StoreTrace>(name);
  for (const operation of operations) channelOf.set(operation, channel);
}

/** "none" for results that say nothing was there or nothing changed (null, false, 0). */
function outcomeOf(result: unknown): "ok" | "none" {
  return result === null || result === false || result === 0 ? "none" : "ok";
}

/** Whether anyone subscribes to the operation's channel (then `traced` publishes it). */
export function isTraced(operation: StoreOperation): boolean {
  return channelOf.get(operation)!.hasSubscribers;
}

/**
 * Runs `run` traced on the operation's channel when anyone subscribes, else just runs it.
 * A TracingChannel hands subscribers what the traced function resolved (`result`) or threw
 * (`error`): they get the outcome and a causeless SessionError naming the code, never the stored
 * session (its data) nor the driver's error (whose cause can quote the command and its values).
 */
export function traced<V>(operation: StoreOperation, driver: string, sessionId: string | null, run: () => Promise<V>): Promise<V> {
  const channel = channelOf.get(operation)!;
  if (!channel.hasSubscribers) return run();
  const trace: StoreTrace = { operation, driver, sessionId };
  let value: V;
  let failure: unknown;
  return channel
    .tracePromise(async () => {
      try {
        value = await run();
      } catch (error) {
        failure = error;
        const code = error instanceof SessionError ? error.code : "STORE_UNAVAILABLE";
        trace.outcome = "error";
        trace.errorCode = code;
        throw new SessionError(code, `session store ${operation} failed (${code})`);
      }
      return (trace.outcome = outcomeOf(value));
    }, trace)
    .then(
      () => value,
      () => Promise.reject(failure),
    );
}

/**
 * OpenTelemetry for sess: subscribes to the tracing channels `@sess/core` publishes every store
 * operation on (`sess:load`, `sess:commit`, `sess:destroy`, `sess:end`, `sess:query`) and to its
 * session events (`sess:event`), and turns them into spans and metrics through `@opentelemetry/api`
 * only. What it records never holds a token or a session value: the channels do not carry them.
 */
import { channel as eventChannel, tracingChannel } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import {
  SpanKind,
  SpanStatusCode,
  context,
  metrics,
  trace,
  type Attributes,
  type MeterProvider,
  type Span,
  type TracerProvider,
} from "@opentelemetry/api";
import { CHANNELS, EVENT_CHANNEL, type SessionEvent, type StoreTrace } from "@sess/core";

export interface SessionInstrumentationOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Record a span per store operation. Default true. */
  spans?: boolean;
  /** Record the metrics. Default true. */
  metrics?: boolean;
}

export interface SessionInstrumentation {
  /** Stops recording (unsubscribes from every channel). */
  close(): void;
}

const SCOPE = "@sess/opentelemetry";

/**
 * Starts recording. Spans are named `sess.<operation>` (`sess.load`, `sess.update`, …) with the
 * attributes `sess.operation`, `sess.driver`, `sess.session.id` (the public id, when there is one),
 * `sess.outcome` and, on failure, `error.type` (the SessionError code). Metrics:
 * `sess.operations` (counter by operation and outcome), `sess.store.duration` (histogram, seconds),
 * `sess.sessions.created` and `sess.sessions.ended` (counters; ended by `sess.reason` and
 * `sess.operation`, from the `sess:event` channel).
 */
export function instrumentSessions(options: SessionInstrumentationOptions = {}): SessionInstrumentation {
  const tracer = options.spans === false ? null : (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = options.metrics === false ? null : (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const operations = meter?.createCounter("sess.operations", { description: "Session store operations, by operation and outcome" });
  const duration = meter?.createHistogram("sess.store.duration", {
    description: "Time a session store operation took, deadline included",
    unit: "s",
    // Store calls take from a fraction of a millisecond (loopback) to the deadline (1 s by default).
    advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  });
  const created = meter?.createCounter("sess.sessions.created", { description: "Sessions stored for the first time" });
  const ended = meter?.createCounter("sess.sessions.ended", {
    description: "Sessions ended, by why (logout, end, user, limit, binding, expired) and the operation that ended them",
  });

  const started = new WeakMap<StoreTrace, { at: number; span: Span | null }>();
  const handlers = {
    // The outcome is read once the operation settled (asyncEnd follows error, too).
    end() {},
    asyncStart() {},
    error() {},
    start(message: unknown) {
      const run = message as StoreTrace;
      const attributes: Attributes = { "sess.operation": run.operation, "sess.driver": run.driver };
      if (run.sessionId !== null) attributes["sess.session.id"] = run.sessionId;
      const span = tracer?.startSpan(`sess.${run.operation}`, { kind: SpanKind.INTERNAL, attributes }, context.active()) ?? null;
      started.set(run, { at: performance.now(), span });
    },
    asyncEnd(message: unknown) {
      const run = message as StoreTrace;
      const begun = started.get(run);
      if (begun === undefined) return;
      started.delete(run);
      const outcome = run.outcome ?? "error";
      const attributes: Attributes = { "sess.operation": run.operation, "sess.outcome": outcome };
      if (run.errorCode !== undefined) attributes["error.type"] = run.errorCode;
      operations?.add(1, attributes);
      duration?.record((performance.now() - begun.at) / 1000, attributes);
      if (outcome !== "error") {
        if (run.operation === "create" && outcome === "ok") created?.add(1);
      }
      const span = begun.span;
      if (span !== null) {
        span.setAttribute("sess.outcome", outcome);
        if (run.errorCode !== undefined) {
          span.setAttribute("error.type", run.errorCode);
          span.setStatus({ code: SpanStatusCode.ERROR, message: run.errorCode });
        }
        span.end();
      }
    },
  };
  const channels = Object.keys(CHANNELS).map((name) => tracingChannel(name));
  for (const channel of channels) channel.subscribe(handlers);
  const events = eventChannel(EVENT_CHANNEL);
  const onEvent = (message: unknown) => {
    const event = message as SessionEvent;
    if (event.type === "ended") ended?.add(event.count, { "sess.reason": event.reason, "sess.operation": event.operation });
  };
  if (ended !== undefined) events.subscribe(onEvent);
  let open = true;
  return {
    close() {
      if (!open) return;
      open = false;
      for (const channel of channels) channel.unsubscribe(handlers);
      if (ended !== undefined) events.unsubscribe(onEvent);
    },
  };
}

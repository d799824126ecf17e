import { channel, tracingChannel } from "node:diagnostics_channel";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { InMemorySpanExporter, BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { AggregationTemporality, type DataPoint, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import {
  CHANNELS,
  EVENT_CHANNEL,
  createSessionManager,
  newToken,
  sessionIdOf,
  type RequestInfo,
  type SessionDriver,
  type SessionEvent,
  type SessionManager,
  type SessionManagerOptions,
} from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { createIoredisDriver } from "@sess/ioredis";
import { createNodeRedisDriver } from "@sess/node-redis";
import { instrumentSessions, type SessionInstrumentation } from "../src/index.js";

const SECRET = "card-4242-4242";

let io: Redis;
let node: ReturnType<typeof createClient>;
beforeAll(async () => {
  io = new Redis(inject("redisUrl"), { lazyConnect: true });
  await io.connect();
  node = createClient({ url: inject("redisUrl") });
  await node.connect();
});
afterAll(async () => {
  io?.disconnect();
  await node?.close();
});

const prefix = () => `otel${Math.random().toString(36).slice(2, 10)}`;
const drivers: Array<[string, () => SessionDriver]> = [
  ["memory", () => createMemoryDriver()],
  ["ioredis", () => createIoredisDriver({ client: io, prefix: prefix() })],
  ["node-redis", () => createNodeRedisDriver({ client: node, prefix: prefix() })],
];

function request(token?: string, userAgent = "otel-test"): RequestInfo {
  return {
    header: (name) => (name === "cookie" && token ? `sess=${token}` : name === "user-agent" ? userAgent : undefined),
    secure: false,
    ip: "203.0.113.77",
  };
}

function tokenOf(headers: Array<[string, string]>): string {
  const cookie = headers.find(([name]) => name === "set-cookie")?.[1];
  const token = /^sess=([^;]+)/.exec(cookie ?? "")?.[1];
  if (!token) throw new Error("no session cookie was issued");
  return token;
}

/** A login, a write, a rotation, queries, a logout and a user-wide end; returns every token issued. */
async function lifecycle(manager: SessionManager<Record<string, unknown>>): Promise<string[]> {
  const tokens: string[] = [];
  let open = await manager.open(request());
  open.session.set("card", SECRET);
  open.session.login("user-1");
  tokens.push(tokenOf((await open.commit()).headers));

  open = await manager.open(request(tokens[0]));
  open.session.set("theme", "dark");
  await open.commit();

  open = await manager.open(request(tokens[0]));
  open.session.regenerate();
  tokens.push(tokenOf((await open.commit()).headers));

  await manager.listUserSessions("user-1");
  await manager.count("tenant", "acme");

  open = await manager.open(request());
  open.session.login("user-1");
  tokens.push(tokenOf((await open.commit()).headers));

  open = await manager.open(request(tokens[1]));
  open.session.destroy();
  await open.commit();

  expect(await manager.endUserSessions("user-1")).toBe(1);
  return tokens;
}

const USER = "uid-7f3a9c";
const AGENT = "agent-zqx/9";
const VALUES = [SECRET, "sku-998877", "pref-midnight"];

/**
 * Produces every kind of session event on `driver`: created, rotated (login, regenerate), ended
 * (logout, end, user, limit, binding, expired), conflict and unavailable. Returns every token issued.
 */
async function everyEvent(driver: SessionDriver, onEvent: (event: SessionEvent) => void): Promise<string[]> {
  const options: SessionManagerOptions = { driver, onEvent, bind: { userAgent: true }, recordDevice: { userAgent: true, ip: true }, maxSessionsPerUser: 2 };
  const manager = createSessionManager<Record<string, unknown>>(options);
  const tokens: string[] = [];
  const commit = async (open: Awaited<ReturnType<typeof manager.open>>) => {
    const token = tokenOf((await open.commit()).headers);
    tokens.push(token);
    return token;
  };
  let open = await manager.open(request(undefined, AGENT));
  open.session.set("card", SECRET);
  const anonymous = await commit(open); // created
  open = await manager.open(request(anonymous, AGENT));
  open.session.login(USER);
  open.session.set("cart", "sku-998877");
  const first = await commit(open); // rotated: login
  open = await manager.open(request(first, AGENT));
  open.session.regenerate();
  open.session.set("theme", "pref-midnight");
  const second = await commit(open); // rotated: regenerate
  const slow = await manager.open(request(second, AGENT));
  open = await manager.open(request(undefined, AGENT));
  open.session.login(USER);
  await commit(open); // ended below with the user's other sessions
  expect(await manager.endSession(sessionIdOf(second))).toBe(true); // ended: end
  slow.session.set("card", SECRET);
  await expect(slow.commit()).rejects.toMatchObject({ code: "CONFLICT" }); // conflict
  open = await manager.open(request(undefined, AGENT));
  open.session.login(USER);
  const fourth = await commit(open);
  open = await manager.open(request(fourth, AGENT));
  open.session.regenerate({ endOtherSessions: true }); // ended: user (third)
  const fifth = await commit(open);
  expect((await manager.open(request(fifth, "another-agent/1"))).session.isNew).toBe(true); // ended: binding
  open = await manager.open(request(undefined, AGENT));
  open.session.login(USER);
  open.session.set("card", SECRET);
  const sixth = await commit(open);
  // A manager whose clock is ahead of the one the driver judges by (this driver is not told the manager's now).
  const behind: SessionDriver = Object.assign(Object.create(driver) as SessionDriver, { load: (id: string) => driver.load(id) });
  const ahead = createSessionManager({ ...options, driver: behind, clock: () => Date.now() + 13 * 3_600_000 });
  expect((await ahead.open(request(sixth, AGENT))).session.isNew).toBe(true); // ended: expired
  open = await manager.open(request(sixth, AGENT));
  open.session.destroy(); // ended: logout
  await open.commit();
  for (let i = 0; i < 3; i++) {
    open = await manager.open(request(undefined, AGENT));
    open.session.login(USER);
    open.session.set("card", SECRET);
    await commit(open); // the third: ended: limit
    await new Promise((resolve) => setTimeout(resolve, 5)); // the oldest is told by its login time
  }
  expect(await manager.endUserSessions(USER)).toBe(2); // ended: user
  const refused = Object.assign(new Error(`ECONNRESET while reading ${sixth}: ${SECRET}`), { code: "ECONNRESET", command: { args: [...VALUES, sixth] } });
  const failing = new Proxy(driver, { get: (target, property, receiver) => (property === "load" ? () => Promise.reject(refused) : Reflect.get(target, property, receiver)) });
  await expect(createSessionManager({ ...options, driver: failing }).open(request(sixth, AGENT))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" }); // unavailable
  await manager.close();
  return tokens;
}

describe.each(drivers)("instrumentSessions() with the %s driver", (_name, createDriver) => {
  let instrumentation: SessionInstrumentation;
  let spans: InMemorySpanExporter;
  let metricExporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;

  beforeAll(() => {
    spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    instrumentation = instrumentSessions({ tracerProvider, meterProvider });
  });
  afterEach(() => {
    spans.reset();
    metricExporter.reset();
  });
  afterAll(() => {
    instrumentation.close();
  });

  async function collected() {
    await reader.forceFlush();
    const metrics = metricExporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    const points = (name: string): Array<DataPoint<unknown>> =>
      metrics.filter((metric) => metric.descriptor.name === name).flatMap((metric): Array<DataPoint<unknown>> => metric.dataPoints);
    return { metrics, points };
  }

  it("records a span per store operation, named by operation, with the public session id", async () => {
    const manager = createSessionManager({ driver: createDriver(), indexes: { tenant: { field: "tenant" } } });
    const tokens = await lifecycle(manager);
    await manager.close();
    const finished: ReadableSpan[] = spans.getFinishedSpans();
    const names = finished.map((span) => span.name);
    for (const name of ["sess.create", "sess.load", "sess.update", "sess.rotate", "sess.listUserSessions", "sess.countIndex", "sess.destroy", "sess.endUserSessions"]) {
      expect(names).toContain(name);
    }
    const created = finished.find((span) => span.name === "sess.create")!;
    expect(created.attributes).toMatchObject({
      "sess.operation": "create",
      "sess.driver": manager.driver.name,
      "sess.session.id": sessionIdOf(tokens[0]!),
      "sess.outcome": "ok",
    });
    const rotated = finished.find((span) => span.name === "sess.rotate")!;
    expect(rotated.attributes["sess.session.id"]).toBe(sessionIdOf(tokens[0]!));
    expect(finished.every((span) => span.endTime[0] > 0 && span.status.code !== 2)).toBe(true);
  });

  it("counts operations, created and ended sessions, and store latency", async () => {
    const manager = createSessionManager({ driver: createDriver(), indexes: { tenant: { field: "tenant" } } });
    await lifecycle(manager);
    await manager.close();
    const { points } = await collected();
    const sum = (name: string, where: Record<string, string> = {}) =>
      points(name)
        .filter((point) => Object.entries(where).every(([key, value]) => point.attributes[key] === value))
        .reduce((total, point) => total + (point.value as number), 0);
    expect(sum("sess.sessions.created")).toBeGreaterThanOrEqual(2);
    expect(sum("sess.sessions.ended", { "sess.operation": "destroy" })).toBeGreaterThanOrEqual(1);
    expect(sum("sess.sessions.ended", { "sess.operation": "endUserSessions" })).toBeGreaterThanOrEqual(1);
    expect(sum("sess.sessions.ended", { "sess.reason": "logout", "sess.operation": "destroy" })).toBeGreaterThanOrEqual(1);
    expect(sum("sess.sessions.ended", { "sess.reason": "user", "sess.operation": "endUserSessions" })).toBeGreaterThanOrEqual(1);
    expect(sum("sess.operations", { "sess.operation": "load", "sess.outcome": "ok" })).toBeGreaterThanOrEqual(3);
    const latency = points("sess.store.duration").find((point) => point.attributes["sess.operation"] === "update");
    expect(latency).toBeDefined();
    expect((latency!.value as { count: number }).count).toBeGreaterThanOrEqual(1);
    expect((latency!.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toContain(0.001); // seconds, not milliseconds
  });

  it("counts sessions ended by reason, one data point per reason and operation", async () => {
    const ended = async () => {
      const { points } = await collected();
      metricExporter.reset();
      return new Map(points("sess.sessions.ended").map((point) => [`${String(point.attributes["sess.reason"])}/${String(point.attributes["sess.operation"])}`, point.value as number]));
    };
    const before = await ended(); // the counters are cumulative across this file's tests
    await everyEvent(createDriver(), () => {});
    const after = await ended();
    const added = Object.fromEntries([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)]).filter(([, value]) => value !== 0));
    expect(added).toEqual({
      "end/endSession": 1,
      "user/endUserSessions": 3, // one by regenerate({ endOtherSessions }), two by endUserSessions
      "limit/create": 1,
      "binding/destroy": 1,
      "expired/load": 1,
      "logout/destroy": 1,
    });
  });

  it("never lets a token, a session value, a user id or a user agent reach an event, a channel message, a span or a metric", async () => {
    const seen: unknown[] = [];
    const fromEvents: SessionEvent[] = [];
    const remember = (message: unknown) => seen.push(message); // kept by reference: a trace context gains its result later
    const handlers = { start: remember, end: remember, asyncStart: remember, asyncEnd: remember, error: remember };
    const traces = Object.keys(CHANNELS).map((name) => tracingChannel(name));
    for (const traced of traces) traced.subscribe(handlers);
    channel(EVENT_CHANNEL).subscribe(remember);
    let tokens: string[];
    try {
      tokens = await everyEvent(createDriver(), (event) => fromEvents.push(event));
    } finally {
      for (const traced of traces) traced.unsubscribe(handlers);
      channel(EVENT_CHANNEL).unsubscribe(remember);
    }
    expect(new Set(fromEvents.map((event) => (event.type === "ended" ? `ended:${event.reason}` : event.type)))).toEqual(
      new Set(["created", "rotated", "conflict", "unavailable", "ended:end", "ended:user", "ended:limit", "ended:binding", "ended:expired", "ended:logout"]),
    );
    const { metrics } = await collected();
    const recorded = inspect(
      {
        events: fromEvents,
        channels: seen,
        spans: spans.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events })),
        metrics,
      },
      { depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity, breakLength: Infinity },
    );
    expect(seen.length).toBeGreaterThan(40);
    expect(recorded).toContain(sessionIdOf(tokens[0]!)); // public ids are there: the scan reads the real payloads
    for (const token of tokens) expect(recorded).not.toContain(token);
    for (const value of [...VALUES, USER, AGENT, "203.0.113"]) expect(recorded).not.toContain(value);
  });

  it("never records a token or a session value in a span or a metric", async () => {
    const manager = createSessionManager({ driver: createDriver(), indexes: { tenant: { field: "tenant" } } });
    const tokens = await lifecycle(manager);
    await manager.close();
    const { metrics } = await collected();
    const recorded = JSON.stringify({
      spans: spans.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events })),
      metrics,
    });
    expect(recorded.length).toBeGreaterThan(100);
    for (const token of tokens) expect(recorded).not.toContain(token);
    expect(recorded).not.toContain(SECRET);
    expect(recorded).not.toContain("dark");
  });
});

describe("instrumentSessions() when the store fails", () => {
  it("marks the span as an error with the SessionError code, for a failure and for the deadline", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const instrumentation = instrumentSessions({ tracerProvider, metrics: false });
    try {
      const memory = createMemoryDriver();
      const failing: SessionDriver = { ...memory, name: "failing", load: () => Promise.reject(new Error("connection refused")) };
      const frozen: SessionDriver = { ...memory, name: "frozen", load: () => new Promise(() => undefined) };
      const token = newToken();
      for (const driver of [failing, frozen]) {
        const manager = createSessionManager({ driver, operationTimeout: 50 });
        await expect(manager.open(request(token))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      }
      const loads = spans.getFinishedSpans().filter((span) => span.name === "sess.load");
      expect(loads.map((span) => span.attributes["sess.driver"])).toEqual(["failing", "frozen"]);
      for (const span of loads) {
        expect(span.status.code).toBe(2);
        expect(span.attributes).toMatchObject({ "sess.outcome": "error", "error.type": "STORE_UNAVAILABLE" });
      }
    } finally {
      instrumentation.close();
    }
  });

  it("stops recording after close()", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    instrumentSessions({ tracerProvider, metrics: false }).close();
    const manager = createSessionManager({ driver: createMemoryDriver(), indexes: { tenant: { field: "tenant" } } });
    await lifecycle(manager);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});

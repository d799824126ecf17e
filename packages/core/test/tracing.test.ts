import { tracingChannel } from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { CHANNELS, createSessionManager, newToken, sessionIdOf, type RequestInfo, type StoreTrace } from "../src/index.js";
import { createMemoryDriver } from "../src/memory.js";

const request = (token?: string): RequestInfo => ({
  header: (name) => (name === "cookie" && token ? `sess=${token}` : undefined),
  secure: false,
});

type Seen = { channel: string; event: string; trace: StoreTrace & { result?: unknown; error?: unknown } };

function listen(): { seen: Seen[]; stop(): void } {
  const seen: Seen[] = [];
  const subscriptions = Object.keys(CHANNELS).map((name) => {
    const channel = tracingChannel(name);
    const record = (event: string) => (message: unknown) => seen.push({ channel: name, event, trace: { ...(message as Seen["trace"]) } });
    const handlers = {
      start: record("start"),
      end: record("end"),
      asyncStart: record("asyncStart"),
      asyncEnd: record("asyncEnd"),
      error: record("error"),
    };
    channel.subscribe(handlers);
    return () => channel.unsubscribe(handlers);
  });
  return { seen, stop: () => subscriptions.forEach((stop) => stop()) };
}

describe("the sess tracing channels", () => {
  let stop = () => {};
  afterEach(() => stop());

  it("publish start and settle events for each store operation, on the channel of its kind", async () => {
    const listener = listen();
    stop = listener.stop;
    const manager = createSessionManager({ driver: createMemoryDriver() });
    let open = await manager.open(request());
    open.session.set("n", 1);
    const cookie = (await open.commit()).headers.find(([name]) => name === "set-cookie")![1];
    const token = /^sess=([^;]+)/.exec(cookie)![1]!;
    open = await manager.open(request(token));
    open.session.destroy();
    await open.commit();
    expect(await manager.endSession(sessionIdOf(newToken()))).toBe(false);

    const settled = listener.seen.filter((seen) => seen.event === "asyncEnd");
    expect(settled.map((seen) => [seen.channel, seen.trace.operation, seen.trace.outcome])).toEqual([
      ["sess:commit", "create", "ok"],
      ["sess:load", "load", "ok"],
      ["sess:destroy", "destroy", "ok"],
      ["sess:end", "endSession", "none"],
    ]);
    const id = sessionIdOf(token);
    expect(settled.slice(0, 3).map((seen) => seen.trace.sessionId)).toEqual([id, id, id]);
    expect(settled.every((seen) => seen.trace.driver === "memory")).toBe(true);
    expect(JSON.stringify(listener.seen)).not.toContain(token);
  });

  it("carry the SessionError code of a store that fails or misses the deadline", async () => {
    const listener = listen();
    stop = listener.stop;
    const memory = createMemoryDriver();
    const manager = createSessionManager({ driver: { ...memory, load: () => new Promise(() => undefined) }, operationTimeout: 20 });
    await expect(manager.open(request(newToken()))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    const failed = listener.seen.filter((seen) => seen.event === "error");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.trace).toMatchObject({ operation: "load", outcome: "error", errorCode: "STORE_UNAVAILABLE" });
  });

  it("publish nothing and change nothing when no one subscribes", async () => {
    for (const name of Object.keys(CHANNELS)) expect(tracingChannel(name).hasSubscribers).toBe(false);
    const manager = createSessionManager({ driver: createMemoryDriver() });
    const open = await manager.open(request());
    open.session.set("n", 1);
    expect((await open.commit()).headers.some(([name]) => name === "set-cookie")).toBe(true);
  });
});

/**
 * The near cache's staleness window, measured across two processes on one Redis (loopback).
 *
 * Process A (this one) changes a session: it ends it (`destroy`, a logout) or updates a field. As
 * soon as A's write is answered, it tells process B (a child, messages over IPC), which holds the
 * session in its near cache, to load it; B answers whether it saw the old state (stale) and when
 * its cache dropped the entry. Invalidation latency = the drop in B minus the answer to A's write
 * (negative: B had the invalidation before A had its answer). 1,000 trials per driver and protocol.
 *
 *   pnpm --filter @sess/bench staleness [trials]
 */
import { fork } from "node:child_process";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { newToken, sessionIdOf } from "@sess/core";
import type { NewSession, SessionChange } from "@sess/core";
import { createIoredisDriver } from "@sess/ioredis";
import type { IoredisDriver } from "@sess/ioredis";
import { createNodeRedisDriver } from "@sess/node-redis";
import type { NodeRedisDriver } from "@sess/node-redis";
import { startRedisServer } from "@sess/redis-server";
import { Redis } from "ioredis";
import { createClient } from "redis";

type Driver = IoredisDriver | NodeRedisDriver;
type Kind = "end" | "update";
export interface Configuration {
  driver: "ioredis" | "node-redis";
  resp: 2 | 3;
}

export const CONFIGURATIONS: readonly Configuration[] = [
  { driver: "ioredis", resp: 3 },
  { driver: "ioredis", resp: 2 },
  { driver: "node-redis", resp: 3 },
  { driver: "node-redis", resp: 2 },
];
const NEAR_CACHE = { maxEntries: 10_000, maxAge: 60_000 };
const PREFIX = "stale";
const SELF = fileURLToPath(import.meta.url);
/** The bench package's folder: the reader process runs from there, where `tsx` resolves. */
const BENCH_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Wall-clock time in ms with sub-ms precision, comparable between the two processes. */
const clock = () => performance.timeOrigin + performance.now();

async function connect(configuration: Configuration, url: string): Promise<{ driver: Driver; close: () => void }> {
  if (configuration.driver === "ioredis") {
    const client = new Redis(url, configuration.resp === 2 ? { protocol: 2 } : {});
    const driver = createIoredisDriver({ client, prefix: PREFIX, nearCache: NEAR_CACHE });
    await driver.ready();
    return { driver, close: () => client.disconnect() };
  }
  const client = await createClient(configuration.resp === 2 ? { url, RESP: 2 } : { url }).connect();
  const driver = createNodeRedisDriver({ client, prefix: PREFIX, nearCache: NEAR_CACHE });
  return { driver, close: () => client.destroy() };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function session(): NewSession {
  const now = Date.now();
  return { fields: { v: "0" }, createdAt: now, lastSeenAt: now, expiresAt: now + 600_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null };
}

function change(value: string): SessionChange {
  const now = Date.now();
  return { set: { v: value }, remove: [], increment: {}, expiresAt: now + 600_000, lastSeenAt: now };
}

// ---- process B: loads from its near cache when told to ----

type ToReader = { type: "warm"; id: string } | { type: "check"; id: string; kind: Kind } | { type: "stop" };
type FromReader = { type: "ready" } | { type: "warm"; cached: boolean } | { type: "checked"; stale: boolean; droppedAt: number | null };

async function reader(configuration: Configuration, url: string): Promise<void> {
  const { driver, close } = await connect(configuration, url);
  await until(() => driver.nearCacheStats()?.live === true);
  const send = (message: FromReader) => process.send!(message);
  let droppedAt: number | null = null;
  let watching = false;
  /** Watches for the entry to leave the cache (B holds one session at a time), every turn of the event loop. */
  const watch = () => {
    if (!watching) return;
    if (driver.nearCacheStats()!.entries === 0) {
      droppedAt = clock();
      watching = false;
      return;
    }
    setImmediate(watch);
  };
  process.on("message", (message: ToReader) => {
    void (async () => {
      if (message.type === "stop") {
        await driver.close();
        close();
        process.exit(0);
      }
      if (message.type === "warm") {
        for (let i = 0; i < 20 && driver.nearCacheStats()!.entries === 0; i++) {
          await driver.load(message.id);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        const cached = driver.nearCacheStats()!.entries === 1;
        droppedAt = null;
        watching = cached;
        if (cached) setImmediate(watch);
        send({ type: "warm", cached });
        return;
      }
      const record = await driver.load(message.id);
      const stale = message.kind === "end" ? record !== null : record?.fields.v !== "1";
      await until(() => !watching, 2_000).catch(() => undefined);
      send({ type: "checked", stale, droppedAt });
    })();
  });
  send({ type: "ready" });
}

// ---- process A: the coordinator and the writer ----

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Result of `measure`: trials counted per kind, stale answers per kind, trials skipped, latency percentiles (ms). */
export interface StalenessResult {
  configuration: Configuration;
  counted: Record<Kind, number>;
  stale: Record<Kind, number>;
  uncached: number;
  p50: number;
  p99: number;
  max: number;
}

/** Runs `trials` trials (half end, half update) of `configuration` against the Redis at `url`, reader in a child process. */
export async function measure(configuration: Configuration, url: string, trials: number): Promise<StalenessResult> {
  const child = fork(SELF, ["reader", JSON.stringify(configuration), url], { cwd: BENCH_ROOT, execArgv: ["--import", "tsx"] });
  const replies: FromReader[] = [];
  let wake: (() => void) | null = null;
  let exited: string | null = null;
  child.on("message", (message: FromReader) => {
    replies.push(message);
    wake?.();
  });
  child.on("exit", (code, signal) => {
    exited = `the reader process exited (${signal ?? `code ${code}`})`;
    wake?.();
  });
  const next = async (): Promise<FromReader> => {
    while (replies.length === 0) {
      if (exited !== null) throw new Error(exited);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return replies.shift()!;
  };
  await next(); // ready
  const { driver, close } = await connect(configuration, url);
  const latencies: number[] = [];
  const stale: Record<Kind, number> = { end: 0, update: 0 };
  const counted: Record<Kind, number> = { end: 0, update: 0 };
  let uncached = 0;
  for (let trial = 0; trial < trials; trial++) {
    const kind: Kind = trial % 2 === 0 ? "end" : "update";
    const id = sessionIdOf(newToken());
    await driver.create(id, session());
    child.send({ type: "warm", id } satisfies ToReader);
    const warm = await next();
    if (warm.type !== "warm" || !warm.cached) {
      uncached++;
      continue;
    }
    if (kind === "end") await driver.destroy(id);
    else await driver.update(id, change("1"));
    const answered = clock();
    child.send({ type: "check", id, kind } satisfies ToReader);
    const checked = await next();
    if (checked.type !== "checked") throw new Error("unexpected reply");
    counted[kind]++;
    if (checked.stale) stale[kind]++;
    if (checked.droppedAt !== null) latencies.push(checked.droppedAt - answered);
    if (kind === "update") await driver.destroy(id);
  }
  child.send({ type: "stop" } satisfies ToReader);
  await driver.close();
  close();
  latencies.sort((a, b) => a - b);
  return { configuration, counted, stale, uncached, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN };
}

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 1_000);
  const server = await startRedisServer();
  try {
    console.log(`near cache staleness: ${trials} trials per configuration (half end, half update), Redis ${server.url}`);
    for (const configuration of CONFIGURATIONS) {
      const result = await measure(configuration, server.url, trials);
      const name = `${configuration.driver} RESP${configuration.resp}`;
      const total = result.counted.end + result.counted.update;
      console.log(
        `${name.padEnd(16)} trials ${total}: stale after end ${result.stale.end}/${result.counted.end}, after update ${result.stale.update}/${result.counted.update}; ` +
          `invalidation latency (B's drop minus A's answer) p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, max ${result.max.toFixed(3)} ms` +
          (result.uncached > 0 ? `; ${result.uncached} trials skipped (not cached in B)` : ""),
      );
    }
  } finally {
    await server.stop();
  }
}

// Run as a script (not imported by the test): the coordinator, or the reader it forks.
if (process.argv[1] !== undefined && resolvePath(process.argv[1]) === SELF) {
  if (process.argv[2] === "reader") await reader(JSON.parse(process.argv[3]!) as Configuration, process.argv[4]!);
  else await main();
}

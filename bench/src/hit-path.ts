/**
 * sess's own cost per near-cache hit, in process: the Koa middleware (ioredis, near cache) around a
 * handler that reads the benchmark's `GET /me` fields (`userId` and five `get`s), then its commit,
 * with no HTTP server and no framework. 50 requests in flight per turn, over 200 logged-in sessions
 * (every read after the first of each session is a hit: no Redis command).
 *
 * `--read`: a read without the near cache, as the benchmark's `GET /me` takes it when nothing is
 * cached: each request loads its session from Redis (one `HGETALL`), reads the same fields and
 * commits (renewal not due: nothing is sent). What is counted then includes the ioredis client.
 *
 * `--write`: the write path instead, as the benchmark's `POST /cart` takes it, without the near
 * cache: each request loads its session from Redis (`HGETALL`), adds 1 to one of four cart lines
 * (`session.increment`) and commits it (one script call). What is counted then includes the ioredis
 * client, whose share does not change with sess's code.
 *
 * It measures what the throughput runs cannot separate from the framework and the machine's noise:
 * compare two versions of the code by running this on each, alternately.
 *
 * - By default: the process's CPU time (user + system, garbage collection included) per read, for
 *   each round; on a shared machine these move by ±30% from one round to the next.
 * - `--instructions`: the instructions executed per read, counted by valgrind's callgrind over one
 *   round after a warm-up (`node --single-threaded`, so compilation and GC happen in the counted
 *   thread at the same points every run): within 1% from run to run, whatever else the machine does.
 *   Needs valgrind (`callgrind_control` on the PATH).
 *
 * Usage: node --import tsx src/hit-path.ts [--redis=redis://127.0.0.1:port] [--rounds=N] [--requests=N] [--instructions] [--read | --write]
 * Without --redis it starts its own redis-server on a free port.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { sessionMiddleware } from "@sess/koa";
import { createIoredisDriver } from "@sess/ioredis";
import { startRedisServer } from "@sess/redis-server";
import { payloadFor } from "./shared.js";
import { meOfSession, storeLogin, type Data } from "./apps/sess-data.js";
import { contextOf, cookieOf } from "./in-process.js";

const argv = process.argv.slice(2);
const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(option("rounds") ?? 9);
const requests = Number(option("requests") ?? (argv.includes("--instructions") ? 5_000 : 40_000));
/** Set in the process valgrind runs: the folder of the files it and its parent signal each other with. */
const signals = option("signals");
const writes = argv.includes("--write");
/** `--read`: reads that load from Redis (no near cache). */
const uncached = writes || argv.includes("--read");
/** What one request is, in the figures printed. */
const unit = writes ? "write" : uncached ? "read from Redis" : "cached read";
const SESSIONS = 200;
const IN_FLIGHT = 50;

/** Runs `body` with a Redis URL: --redis, or a redis-server of its own. */
async function withRedis(body: (url: string) => Promise<void>): Promise<void> {
  const given = option("redis");
  if (given !== undefined) return body(given);
  const server = await startRedisServer();
  try {
    await body(server.url);
  } finally {
    await server.stop();
  }
}

async function until(file: string, what: string): Promise<void> {
  for (let waited = 0; !existsSync(file); waited += 50) {
    if (waited > 600_000) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

/** The measuring process: logins, a warm-up, then timed rounds (or, under callgrind, one counted round). */
async function measure(url: string): Promise<void> {
  const client = new Redis(url);
  await once(client, "ready");
  const sessions = sessionMiddleware<Data>({
    operationTimeout: 600_000, // under valgrind a turn of 50 requests can take seconds
    driver: createIoredisDriver({
      client,
      prefix: `hit-${process.pid}`,
      ...(uncached ? {} : { nearCache: { maxEntries: 10_000, maxAge: 600_000 } }),
    }),
  });
  try {
    const cookies: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const ctx = contextOf(undefined);
      const payload = payloadFor(`user${i}`);
      await sessions(ctx, async () => storeLogin(sessions.login(ctx, payload.userId), payload));
      cookies.push(cookieOf(ctx));
    }
    let answered = 0;
    const one = async (i: number): Promise<void> => {
      const ctx = contextOf(cookies[i % SESSIONS]);
      await sessions(ctx, async () => {
        if (writes) {
          const session = sessions.of(ctx);
          if (session.userId === null) return; // the benchmark's POST /cart: 401, nothing written
          session.increment(`cart:sku-${i % 4}`);
          answered++;
          return;
        }
        const me = meOfSession(sessions.of(ctx));
        if (me.userId !== null) answered++;
      });
    };
    const run = async (count: number): Promise<void> => {
      for (let done = 0; done < count; done += IN_FLIGHT) {
        const batch: Promise<void>[] = [];
        for (let j = 0; j < IN_FLIGHT; j++) batch.push(one(done + j));
        await Promise.all(batch);
      }
    };
    await run(Math.max(requests / 2, 20_000)); // warm-up: every function optimized before counting
    answered = 0;
    if (signals !== undefined) {
      writeFileSync(join(signals, "ready"), "");
      await until(join(signals, "go"), "the parent to start counting");
      await run(requests);
      writeFileSync(join(signals, "done"), String(answered));
      await until(join(signals, "end"), "the parent to stop counting");
      return;
    }
    const perRequest: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const start = process.cpuUsage();
      await run(requests);
      const used = process.cpuUsage(start);
      perRequest.push(((used.user + used.system) * 1_000) / requests);
    }
    if (answered !== rounds * requests) throw new Error(`${rounds * requests - answered} requests found no logged-in session`);
    const sorted = [...perRequest].sort((a, b) => a - b);
    process.stdout.write(
      `CPU per ${unit}: min ${sorted[0]!.toFixed(0)} ns, median ${sorted[sorted.length >> 1]!.toFixed(0)} ns ` +
        `(rounds: ${perRequest.map((ns) => ns.toFixed(0)).join(" ")})\n`,
    );
  } finally {
    await sessions.manager.close();
    client.disconnect();
  }
}

/** `--instructions`: this file under callgrind, instrumented only while it runs the counted round. */
async function countInstructions(url: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sess-hit-path-"));
  try {
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${join(dir, "callgrind.out")}`, process.execPath,
        "--single-threaded", "--import", "tsx", "src/hit-path.ts", `--redis=${url}`, `--requests=${requests}`, `--signals=${dir}`,
        ...(writes ? ["--write"] : uncached ? ["--read"] : [])],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, "exit");
    await Promise.race([until(join(dir, "ready"), "the warm-up"), exited.then(() => Promise.reject(new Error(`valgrind exited: ${stderr.slice(-2000)}`)))]);
    const control = (state: "on" | "off") => execFileSync("callgrind_control", ["-i", state, String(child.pid)], { stdio: "ignore" });
    control("on");
    writeFileSync(join(dir, "go"), "");
    await until(join(dir, "done"), "the counted round");
    control("off");
    writeFileSync(join(dir, "end"), "");
    const [code] = (await exited) as [number | null];
    if (code !== 0) throw new Error(`valgrind exited with ${code}: ${stderr.slice(-2000)}`);
    const answered = Number(readFileSync(join(dir, "done"), "utf8"));
    if (answered !== requests) throw new Error(`${requests - answered} requests found no logged-in session`);
    const out = readdirSync(dir).find((name) => name.startsWith("callgrind.out"))!;
    const totals = /^totals:\s*(\d+)/m.exec(readFileSync(join(dir, out), "utf8"));
    if (totals === null) throw new Error("callgrind wrote no totals");
    process.stdout.write(`instructions per ${unit}: ${Math.round(Number(totals[1]) / requests)} (${requests} counted)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await withRedis((url) => (signals === undefined && argv.includes("--instructions") ? countInstructions(url) : measure(url)));

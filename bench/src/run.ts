/**
 * The benchmark runner (`pnpm bench`, `pnpm --filter @sess/bench quick`).
 *
 * Starts its own redis-server on a free loopback port, every app as its own process, preloads
 * sessions through each app's POST /login, then drives workloads A and B with autocannon from a
 * separate process (warm-up, then measurement), reps interleaved across apps; runs the lost-write
 * race, the command probes, the driver micro-benchmark and the memory of the payload's stored shapes; writes results.json, RESULTS.md and
 * results.svg. Every process it started is stopped at the end, on failure and on SIGINT.
 *
 * Options: --quick, --apps=id,id (subset; bare apps are added), --no-micro,
 *          --node=<path> (the Node binary that runs the apps and the micro-benchmark),
 *          --profile=<app id> [--seconds=N] [--heap] [--workload=A|B|W] (run workload B, or the one given (W: 100% POST /cart), under `node --cpu-prof`, or the
 *          allocation sampler with --heap, and print the hot functions / allocation sites per request).
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { freePort, startRedisServer } from "@sess/redis-server";
import { APPS, bareOf, type AppSpec } from "./apps.js";
import { call, cookieHeader, newAgent, pool, waitForHealth, type Reply } from "./http.js";
import type { LoadMessage, LoadResult, RunRequest, Workload } from "./load.js";
import { cpuTimeNs, forkLoad, onCleanup, runScript, startApp, stopEverything, stopProcess, type AppProcess } from "./procs.js";
import { analyzeProfile, summarizeHeap, summarizeProfile } from "./profile.js";
import { resultSuffix, writeReport, type Results, type Sample, type RaceResult, type ProbeResult, type MemoryResult } from "./report.js";
import { measureMemoryShapes } from "./memory.js";
import { startRoundTripProxy, type RoundTripProxy } from "./roundtrips.js";
import { CATALOG } from "./shared.js";
import { nodeVersion, versions } from "./versions.js";

const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);

const quick = flag("quick");
// Full run: 14 apps x 2 workloads x 3 reps x (1 + 5 s) of load, plus preload, probes, race and
// micro-benchmark: about 12 minutes on the 2-core machine (bare apps store nothing: fewer logins).
const config = quick
  ? { mode: "quick", sessions: 1_000, bareSessions: 200, warmupSeconds: 1, touchEvery: true, seconds: 3, reps: 1, raceTrials: 5, raceWriters: 100, microMs: 400 }
  : { mode: "full", sessions: 4_000, bareSessions: 1_000, warmupSeconds: 1, touchEvery: true, seconds: 5, reps: 3, raceTrials: 5, raceWriters: 100, microMs: 1_000 };
/** The Node binary that runs the apps and the micro-benchmark (`--node=<path>`); the runner and load generator stay on this one. */
const appNode = option("node") ?? process.execPath;
const CONNECTIONS = 50;
const WORKLOADS: Workload[] = ["A", "B"];
/** Commands the runner itself sends (stats, sampling): not counted as the apps' commands. */
const ADMIN_COMMANDS = new Set(["info", "memory", "scan", "config", "client", "hello", "ping", "select", "command", "dbsize", "type", "object"]);

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function commandCalls(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info("commandstats");
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1]!.toLowerCase();
    if (!ADMIN_COMMANDS.has(name)) calls.set(name, Number(match[2]));
  }
  return calls;
}

function callsDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, value] of after) {
    const d = value - (before.get(name) ?? 0);
    if (d > 0) delta[name] = d;
  }
  return delta;
}

async function redisCpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info("cpu");
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  return user + sys;
}

async function usedMemory(admin: Redis): Promise<number> {
  const info = await admin.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** The load generator process and its IPC protocol. */
class LoadGenerator {
  readonly #child: ChildProcess;
  #waiting: ((message: LoadMessage) => void) | null = null;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (message: LoadMessage) => {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.(message);
    });
    child.once("exit", (code) => {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.({ type: "error", message: `load generator exited with ${String(code)}` });
    });
  }

  #next(): Promise<LoadMessage> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** Warm-up, then `measure()` is called between warm-up and measurement, then the result. */
  async run<T>(request: Omit<RunRequest, "type">, around: { before(): Promise<T>; }): Promise<{ result: LoadResult; before: T }> {
    const warm = this.#next();
    this.#child.send({ type: "run", ...request } satisfies RunRequest);
    const first = await warm;
    if (first.type !== "warm") throw new Error(first.type === "error" ? first.message : "unexpected message");
    const before = await around.before();
    const done = this.#next();
    this.#child.send({ type: "go" });
    const second = await done;
    if (second.type !== "result") throw new Error(second.type === "error" ? second.message : "unexpected message");
    return { result: second.result, before };
  }

  stop(): Promise<void> {
    return stopProcess(this.#child);
  }
}

interface Running {
  spec: AppSpec;
  proc: AppProcess;
  cookies: string[];
}

const agent = newAgent(64);

async function preload(app: Running, count: number, admin: Redis): Promise<MemoryResult> {
  const memoryBefore = await usedMemory(admin);
  const cookies = await pool(count, 16, async (i) => {
    let reply = await call(agent, app.proc.url, "POST", "/login", undefined, { username: `user${String(i).padStart(6, "0")}` });
    // A busy machine can push a store call past its deadline (503): not measured here, so tried again.
    for (let attempt = 1; reply.status === 503 && attempt < 3; attempt++) {
      reply = await call(agent, app.proc.url, "POST", "/login", undefined, { username: `user${String(i).padStart(6, "0")}` });
    }
    if (reply.status !== 200 || reply.cookies.length === 0) {
      throw new Error(`${app.spec.id}: POST /login answered ${reply.status} with ${reply.cookies.length} cookies: ${reply.body.slice(0, 200)}`);
    }
    return cookieHeader(reply.cookies);
  });
  app.cookies = cookies;
  const check = await call(agent, app.proc.url, "GET", "/me", cookies[0]);
  if (check.status !== 200) throw new Error(`${app.spec.id}: GET /me after login answered ${check.status}: ${check.body.slice(0, 200)}`);
  const memoryAfter = await usedMemory(admin);
  const memory: MemoryResult = { usedMemoryPerSession: (memoryAfter - memoryBefore) / count, memoryUsagePerKey: null, sampledKeys: 0, keyType: null };
  if (app.spec.sessionKeys !== null) {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await admin.scan(cursor, "MATCH", app.spec.sessionKeys, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0" && keys.length < 200);
    const sample = keys.slice(0, 200);
    let total = 0;
    for (const key of sample) total += Number(await admin.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
    memory.memoryUsagePerKey = sample.length > 0 ? total / sample.length : null;
    memory.sampledKeys = sample.length;
    if (sample.length > 0) {
      memory.keyType = `${await admin.type(sample[0]!)}, ${String(await admin.call("OBJECT", "ENCODING", sample[0]!))}`;
    }
  }
  return memory;
}

/** A desktop browser's user agent of 150 bytes: what the listpack check stores with a session. */
const BROWSER_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.9 OPR/116.0.0.0 Vivaldi";

async function sessionKeys(admin: Redis, pattern: string): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = "0";
  do {
    const [next, batch] = await admin.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    for (const key of batch) keys.add(key);
  } while (cursor !== "0");
  return keys;
}

/** A second instance of an app, its Redis connection through the counting proxy. */
interface ProbeInstance {
  proxy: RoundTripProxy;
  proc: AppProcess;
}

async function startProbeInstance(app: Running, redis: { host: string; port: number }, node: string): Promise<ProbeInstance> {
  const proxy = await startRoundTripProxy(redis.host, redis.port);
  const proc = startApp(benchDir, `${app.spec.id}.probe`, app.spec.file, await freePort(), proxy.url, [], node, app.spec.env);
  await waitForHealth(agent, proc.url, 60_000);
  return { proxy, proc };
}

/**
 * Commands and round trips per request, on a second instance of the app whose Redis connection goes
 * through the counting proxy (the measured instance stays direct). Requests are sequential, on
 * sessions logged in moments ago (renewal not due): fresh logins, reads, writes, logins over a
 * logged-in session (regenerate / rotate). MONITOR tells the commands the app sent from those run
 * inside its Lua scripts (commandstats counts both). Then one session logged in with a 150-byte
 * browser user agent takes 50 writes, and its key's encoding and MEMORY USAGE are read.
 */
async function probe(app: Running, { proxy, proc }: ProbeInstance, redisUrl: string, admin: Redis): Promise<ProbeResult> {
  const LOGINS = 20;
  const READS = 100;
  const WRITES = 50;
  const LONG_AGENT_WRITES = 50;
  const connection = new Redis(redisUrl);
  try {
    const monitor = await connection.monitor();
    const phases = ["login", "read", "write", "relogin"] as const;
    type Phase = (typeof phases)[number];
    let phase: Phase | null = null;
    const sent = Object.fromEntries(phases.map((name) => [name, {} as Record<string, number>])) as Record<Phase, Record<string, number>>;
    const inScript = Object.fromEntries(phases.map((name) => [name, {} as Record<string, number>])) as Record<Phase, Record<string, number>>;
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      const name = args[0]?.toLowerCase();
      if (phase === null || name === undefined || ADMIN_COMMANDS.has(name) || name === "monitor") return;
      const bucket = source === "lua" ? inScript[phase] : sent[phase];
      bucket[name] = (bucket[name] ?? 0) + 1;
    });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
    const enter = async (next: Phase | null) => {
      await settle();
      phase = next;
      proxy.phase(next);
    };
    const expect = (reply: Reply, what: string) => {
      if (reply.status !== 200) throw new Error(`${app.spec.id}: probe ${what} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
      return reply;
    };
    // One of each request first, not counted: a script's first run (FCALL, FUNCTION LOAD, FCALL) is not a steady state.
    const warm = cookieHeader(expect(await call(agent, proc.url, "POST", "/login", undefined, { username: "probe_warm" }), "POST /login").cookies);
    expect(await call(agent, proc.url, "GET", "/me", warm), "GET /me");
    expect(await call(agent, proc.url, "POST", "/cart", warm, { sku: CATALOG[0] }), "POST /cart");
    expect(await call(agent, proc.url, "POST", "/login", warm, { username: "probe_warm" }), "POST /login (logged in)");
    const cookies: string[] = [];
    await enter("login");
    for (let i = 0; i < LOGINS; i++) {
      const reply = expect(await call(agent, proc.url, "POST", "/login", undefined, { username: `probe${i}` }), "POST /login");
      cookies.push(cookieHeader(reply.cookies));
    }
    await enter("read");
    for (let i = 0; i < READS; i++) expect(await call(agent, proc.url, "GET", "/me", cookies[i % LOGINS]), "GET /me");
    await enter("write");
    for (let i = 0; i < WRITES; i++) {
      expect(await call(agent, proc.url, "POST", "/cart", cookies[i % LOGINS], { sku: CATALOG[i % CATALOG.length] }), "POST /cart");
    }
    await enter("relogin");
    for (let i = 0; i < LOGINS; i++) expect(await call(agent, proc.url, "POST", "/login", cookies[i], { username: `probe${i}` }), "POST /login (logged in)");
    await enter(null);
    monitor.disconnect();
    const roundTrips = proxy.counts();
    const per = (counted: Record<string, number>, n: number) => Object.fromEntries(Object.entries(counted).map(([name, count]) => [name, count / n]));
    const count: Record<Phase, number> = { login: LOGINS, read: READS, write: WRITES, relogin: LOGINS };
    const result: ProbeResult = {
      read: per(sent.read, READS),
      readScript: per(inScript.read, READS),
      write: per(sent.write, WRITES),
      writeScript: per(inScript.write, WRITES),
      login: per(sent.login, LOGINS),
      loginScript: per(inScript.login, LOGINS),
      relogin: per(sent.relogin, LOGINS),
      reloginScript: per(inScript.relogin, LOGINS),
      roundTrips: Object.fromEntries(phases.map((name) => [name, (roundTrips[name] ?? 0) / count[name]])) as Record<Phase, number>,
      longAgent: null,
    };
    if (app.spec.sessionKeys !== null) {
      const before = await sessionKeys(admin, app.spec.sessionKeys);
      const headers = { "user-agent": BROWSER_USER_AGENT };
      const login = expect(await call(agent, proc.url, "POST", "/login", undefined, { username: "probe_agent" }, headers), "POST /login");
      const cookie = cookieHeader(login.cookies);
      for (let i = 0; i < LONG_AGENT_WRITES; i++) {
        expect(await call(agent, proc.url, "POST", "/cart", cookie, { sku: CATALOG[i % CATALOG.length] }, headers), "POST /cart");
      }
      const fresh = [...(await sessionKeys(admin, app.spec.sessionKeys))].filter((key) => !before.has(key));
      if (fresh.length > 0) {
        // One key per session; should a layout use more, their encodings are listed and their sizes added.
        const encodings = new Set<string>();
        let memoryUsage = 0;
        let longestOwn: { field: string; bytes: number } | null = null;
        let longestMetadata: { field: string; bytes: number } | null = null;
        for (const key of fresh) {
          const type = await admin.type(key);
          encodings.add(`${type}, ${String(await admin.call("OBJECT", "ENCODING", key))}`);
          memoryUsage += Number(await admin.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
          if (type !== "hash") continue;
          for (const [field, value] of Object.entries(await admin.hgetall(key))) {
            const bytes = Buffer.byteLength(value);
            const longest = field.startsWith("$") ? longestMetadata : longestOwn;
            if (longest !== null && longest.bytes >= bytes) continue;
            if (field.startsWith("$")) longestMetadata = { field, bytes };
            else longestOwn = { field, bytes };
          }
        }
        result.longAgent = { userAgentBytes: BROWSER_USER_AGENT.length, writes: LONG_AGENT_WRITES, encoding: [...encodings].join(" + "), memoryUsage, longestOwn, longestMetadata };
      }
    }
    return result;
  } finally {
    connection.disconnect();
    await stopProcess(proc.child);
    await proxy.close();
  }
}

/** 100 concurrent POST /cart (distinct items) on one fresh session; items kept per trial. */
async function race(app: Running, trials: number, writers: number): Promise<RaceResult> {
  const kept: number[] = [];
  const statuses: Record<string, number> = {};
  for (let trial = 0; trial < trials; trial++) {
    const login = await call(agent, app.proc.url, "POST", "/login", undefined, { username: `racer${trial}` });
    const cookie = cookieHeader(login.cookies);
    const raceAgent = newAgent(writers);
    const replies = await Promise.all(
      Array.from({ length: writers }, (_, i) => call(raceAgent, app.proc.url, "POST", "/cart", cookie, { sku: `RACE-${trial}-${i}` })),
    );
    raceAgent.destroy();
    for (const reply of replies) statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
    const cart = await call(agent, app.proc.url, "GET", "/cart", cookie);
    const lines = (JSON.parse(cart.body) as { lines: { sku: string; qty: number }[] }).lines;
    kept.push(lines.filter((line) => line.sku.startsWith(`RACE-${trial}-`)).reduce((sum, line) => sum + line.qty, 0));
  }
  return { writers, kept, statuses };
}

async function main(): Promise<void> {
  const only = option("apps")?.split(",");
  const profileId = option("profile");
  let specs = APPS;
  if (profileId !== undefined) specs = APPS.filter((app) => app.id === profileId);
  else if (only) specs = APPS.filter((app) => only.includes(app.id) || (app.kind === "bare" && only.some((id) => bareOf(APPS.find((a) => a.id === id)!)?.id === app.id)));
  if (specs.length === 0) throw new Error(`no app matches ${profileId ?? only?.join(",") ?? ""}; apps: ${APPS.map((a) => a.id).join(", ")}`);

  const started = Date.now();
  const redis = await startRedisServer();
  onCleanup(() => redis.stop());
  log(`redis-server ${redis.url} (pid ${redis.pid})`);
  const admin = new Redis(redis.url, { lazyConnect: false });
  onCleanup(async () => {
    admin.disconnect();
  });

  const redisVersion = /redis_version:(\S+)/.exec(await admin.info("server"))?.[1] ?? "?";
  const profileDir = join(benchDir, "profiles");
  const running: Running[] = [];
  const extra: string[] =
    profileId === undefined ? [] : flag("heap") ? ["--import", "./src/heap-sampler.ts"] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  /** Starts an app; another free port when the chosen one was taken meanwhile (other processes share the machine). */
  const launch = async (spec: AppSpec): Promise<Running> => {
    for (let attempt = 1; ; attempt++) {
      const proc = startApp(benchDir, spec.id, spec.file, await freePort(), redis.url, extra, appNode, spec.env);
      const exited = new Promise<"exited">((resolve) => proc.child.once("exit", () => resolve("exited")));
      const outcome = await Promise.race([waitForHealth(agent, proc.url, 60_000).then(() => "up" as const), exited]).catch((error: unknown) => error);
      if (outcome === "up") return { spec, proc, cookies: [] };
      await stopProcess(proc.child);
      if (attempt >= 3) throw new Error(`${spec.id} did not start (see ${proc.logFile}): ${String(outcome)}`);
    }
  };
  // A few at a time: 14 processes compiling TypeScript at once on 2 cores can take a minute to answer.
  running.push(...(await pool(specs.length, 4, (i) => launch(specs[i]!))));
  log(`apps up on Node ${nodeVersion(appNode)}: ${running.map((app) => `${app.spec.id}:${app.proc.port}`).join(" ")}`);

  const memory: Record<string, MemoryResult> = {};
  for (const app of running) {
    const t = Date.now();
    const count = app.spec.kind === "bare" ? config.bareSessions : config.sessions;
    memory[app.spec.id] = await preload(app, count, admin);
    log(`preloaded ${count} sessions into ${app.spec.id} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }

  const load = new LoadGenerator(forkLoad(benchDir));

  if (profileId !== undefined) {
    const app = running[0]!;
    const seconds = Number(option("seconds") ?? 20);
    const workload = option("workload") ?? "B";
    if (workload !== "A" && workload !== "B" && workload !== "W") throw new Error(`--workload must be A, B or W, not ${workload}`);
    log(`profiling ${app.spec.id}: workload ${workload} for ${seconds} s under --cpu-prof`);
    const before = Date.now();
    const { result } = await load.run(
      { url: app.proc.url, cookies: app.cookies, workload, connections: CONNECTIONS, warmupSeconds: 0, touchEvery: false, seconds },
      { before: async () => undefined },
    );
    log(`${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms`);
    await load.stop();
    await stopProcess(app.proc.child);
    const requests = result.requests + config.sessions + 20;
    if (flag("heap")) {
      const heapFile = join(profileDir, `${app.proc.pid}.heapprofile`);
      process.stdout.write(summarizeHeap(heapFile, requests, 30));
      process.stdout.write(`\nheap profile: ${heapFile}\n`);
      return;
    }
    const profiles = readdirSync(profileDir)
      .filter((name) => name.endsWith(".cpuprofile"))
      .map((name) => join(profileDir, name))
      .filter((path) => statSync(path).mtimeMs >= before);
    if (profiles.length === 0) throw new Error("no .cpuprofile was written");
    // The profile covers the whole process: the preload logins count as requests too.
    process.stdout.write(summarizeProfile(profiles[0]!, 30, requests));
    const summaryPath = join(profileDir, `${app.spec.id}.summary.json`);
    writeFileSync(summaryPath, JSON.stringify({ app: app.spec.id, requests, rps: result.rps, ...analyzeProfile(profiles[0]!, 200) }));
    process.stdout.write(`\nprofile: ${profiles[0]!}\nsummary: ${summaryPath}\n`);
    return;
  }

  const probes: Record<string, ProbeResult> = {};
  const probed = running.filter((app) => app.spec.kind !== "bare");
  const instances = await pool(probed.length, 4, (i) => startProbeInstance(probed[i]!, redis, appNode));
  for (const [i, app] of probed.entries()) probes[app.spec.id] = await probe(app, instances[i]!, redis.url, admin);
  log("command probes done");

  const samples: Sample[] = [];
  const total = config.reps * WORKLOADS.length * running.length;
  for (let rep = 0; rep < config.reps; rep++) {
    for (const workload of WORKLOADS) {
      // Interleaved: every app once per rep, in a rotated order so no app always follows the same one.
      const order = running.map((_, i) => running[(i + rep) % running.length]!);
      for (const app of order) {
        const { result, before } = await load.run(
          { url: app.proc.url, cookies: app.cookies, workload, connections: CONNECTIONS, warmupSeconds: config.warmupSeconds, touchEvery: config.touchEvery, seconds: config.seconds },
          {
            before: async () => ({ cpu: cpuTimeNs(app.proc.pid), calls: await commandCalls(admin), redisCpu: await redisCpuSeconds(admin) }),
          },
        );
        const cpu = cpuTimeNs(app.proc.pid) - before.cpu;
        const calls = callsDelta(before.calls, await commandCalls(admin));
        const redisCpu = (await redisCpuSeconds(admin)) - before.redisCpu;
        // Commands the app sent vs commands its Lua scripts ran (commandstats counts both): as seen in the probe.
        const probed = probes[app.spec.id];
        const sentNames = new Set(probed ? [...Object.keys(probed.read), ...Object.keys(probed.write)] : Object.keys(calls));
        // A command both sent and run inside a script (sess's write script runs HGETALL): the script's
        // share is estimated from the probes' per-request script counts and the workload's read/write mix.
        const writeShare = workload === "B" ? 0.2 : 0;
        const scriptShare = (name: string) =>
          probed ? result.requests * ((1 - writeShare) * (probed.readScript[name] ?? 0) + writeShare * (probed.writeScript[name] ?? 0)) : 0;
        const sent = Object.entries(calls)
          .filter(([name]) => sentNames.has(name))
          .map(([name, n]) => [name, Math.max(0, n - scriptShare(name))] as const);
        const inScripts = Object.entries(calls).map(([name, n]) => [name, sentNames.has(name) ? n - sent.find(([other]) => other === name)![1] : n] as const);
        const commands = sent.reduce((sum, [, n]) => sum + n, 0);
        const sample: Sample = {
          app: app.spec.id,
          workload,
          rep,
          ...result,
          cpuUsPerRequest: cpu / 1000 / result.requests,
          redisCpuUsPerRequest: (redisCpu * 1e6) / result.requests,
          commandsPerRequest: commands / result.requests,
          commands: Object.fromEntries(sent.map(([name, n]) => [name, n / result.requests])),
          scriptCommandsPerRequest: inScripts.reduce((sum, [, n]) => sum + n, 0) / result.requests,
        };
        samples.push(sample);
        log(
          `[${samples.length}/${total}] ${workload} ${app.spec.id.padEnd(27)} ${sample.rps.toFixed(0).padStart(6)} req/s  p50 ${sample.p50} p99 ${sample.p99} ms  ` +
            `cpu ${sample.cpuUsPerRequest.toFixed(0)} µs/req  ${sample.commandsPerRequest.toFixed(2)} cmd/req` +
            (sample.non2xx + sample.errors > 0 ? `  NON-2XX ${sample.non2xx} ERRORS ${sample.errors}` : ""),
        );
      }
    }
  }
  await load.stop();

  const races: Record<string, RaceResult> = {};
  for (const app of running) {
    if (app.spec.kind === "bare") continue;
    races[app.spec.id] = await race(app, config.raceTrials, config.raceWriters);
    log(`race ${app.spec.id}: kept ${races[app.spec.id]!.kept.join(", ")} of ${config.raceWriters}`);
  }

  for (const app of running) await stopProcess(app.proc.child);

  let micro: Results["micro"] = null;
  if (!flag("no-micro")) {
    log("driver micro-benchmark…");
    micro = JSON.parse(await runScript(benchDir, "micro.ts", [`--redis=${redis.url}`, `--time=${config.microMs}`, "--json"], appNode)) as Results["micro"];
  }

  log("memory per stored shape…");
  const memoryShapes = await measureMemoryShapes();

  const results: Results = {
    mode: config.mode,
    date: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? "unknown" },
    versions: { ...versions(benchDir, redisVersion), "node (apps)": nodeVersion(appNode) },
    config: { ...config, connections: CONNECTIONS },
    apps: running.map((app) => app.spec),
    samples,
    probes,
    memory,
    races,
    micro,
    memoryShapes,
  };
  mkdirSync(benchDir, { recursive: true });
  const partial = only !== undefined;
  const jsonName = partial ? "results.partial.json" : `results${resultSuffix(results)}.json`;
  writeFileSync(join(benchDir, jsonName), `${JSON.stringify(results, null, 2)}\n`);
  const written = partial ? [] : writeReport(benchDir, results);
  log(`done in ${results.durationSeconds} s: ${[...written, jsonName].join(", ")}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    agent.destroy();
    await stopEverything();
  });

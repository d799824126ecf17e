/**
 * Turns results.json into RESULTS.md and results.svg. Run alone to regenerate them from the last
 * results.json: node --import tsx src/report.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AppSpec } from "./apps.js";
import type { LoadResult, Workload } from "./load.js";
import type { MemoryShape } from "./memory.js";
import type { MicroResult } from "./micro.js";

export interface Sample extends LoadResult {
  app: string;
  workload: Workload;
  rep: number;
  cpuUsPerRequest: number;
  redisCpuUsPerRequest: number;
  /** Commands the app sent to Redis, per request. */
  commandsPerRequest: number;
  /** Commands run inside the app's Lua scripts, per request. */
  scriptCommandsPerRequest: number;
  /** Commands sent per request, by command. */
  commands: Record<string, number>;
}

export interface ProbeResult {
  /** Commands per GET /me on sessions logged in moments ago (renewal not due), by command. */
  read: Record<string, number>;
  /** Commands run inside Lua scripts per GET /me. */
  readScript: Record<string, number>;
  /** Commands per POST /cart, by command. */
  write: Record<string, number>;
  /** Commands run inside Lua scripts per POST /cart. */
  writeScript: Record<string, number>;
  /** Commands per POST /login without a session, by command (absent in results of older runs). */
  login?: Record<string, number>;
  loginScript?: Record<string, number>;
  /** Commands per POST /login over a logged-in session (regenerate / rotate), by command. */
  relogin?: Record<string, number>;
  reloginScript?: Record<string, number>;
  /** Redis round trips per request, counted by a proxy on sequential requests. */
  roundTrips?: { login: number; read: number; write: number; relogin: number };
  /** One session logged in with a 150-byte browser user agent, after 50 writes; null when its key was not found. */
  longAgent?: {
    userAgentBytes: number;
    writes: number;
    encoding: string;
    memoryUsage: number;
    /** A hash key's longest value of the application's own fields and of the library's metadata ("$" names), in bytes, with the field's name. */
    longestOwn?: { field: string; bytes: number } | null;
    longestMetadata?: { field: string; bytes: number } | null;
  } | null;
}

export interface RaceResult {
  writers: number;
  kept: number[];
  statuses: Record<string, number>;
}

export interface MemoryResult {
  /** INFO used_memory growth during the preload, per session (includes indexes). */
  usedMemoryPerSession: number;
  /** Mean MEMORY USAGE of sampled session keys. */
  memoryUsagePerKey: number | null;
  sampledKeys: number;
  /** Type and encoding of a sampled key, e.g. "hash, hashtable". */
  keyType: string | null;
}

export interface Results {
  mode: string;
  date: string;
  durationSeconds: number;
  machine: { cores: number; cpu: string };
  versions: Record<string, string>;
  config: {
    sessions: number;
    /** Fake logins preloaded into the bare apps (older runs: as many as `sessions`). */
    bareSessions?: number;
    warmupSeconds: number;
    /** Every preloaded session read once before each warm-up (older runs: no). */
    touchEvery?: boolean;
    seconds: number;
    reps: number;
    raceTrials: number;
    raceWriters: number;
    microMs: number;
    connections: number;
  };
  apps: AppSpec[];
  samples: Sample[];
  probes: Record<string, ProbeResult>;
  memory: Record<string, MemoryResult>;
  races: Record<string, RaceResult>;
  micro: MicroResult | null;
  /** The benchmark payload stored in each shape on a fresh server (`src/memory.ts`); absent in older runs. */
  memoryShapes?: MemoryShape[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Row {
  app: AppSpec;
  workload: Workload;
  runs: number;
  rps: number;
  ratio: number;
  p50: number;
  p99: number;
  cpu: number;
  addedCpu: number;
  redisCpu: number;
  commands: number;
  scriptCommands: number;
  breakdown: Record<string, number>;
  failures: number;
}

export function rows(results: Results, workload: Workload): Row[] {
  const stats = (id: string) => {
    const samples = results.samples.filter((s) => s.app === id && s.workload === workload);
    const names = new Set(samples.flatMap((s) => Object.keys(s.commands)));
    return {
      runs: samples.length,
      rps: median(samples.map((s) => s.rps)),
      p50: median(samples.map((s) => s.p50)),
      p99: median(samples.map((s) => s.p99)),
      cpu: median(samples.map((s) => s.cpuUsPerRequest)),
      redisCpu: median(samples.map((s) => s.redisCpuUsPerRequest)),
      commands: median(samples.map((s) => s.commandsPerRequest)),
      scriptCommands: median(samples.map((s) => s.scriptCommandsPerRequest)),
      breakdown: Object.fromEntries([...names].map((name) => [name, median(samples.map((s) => s.commands[name] ?? 0))])),
      failures: samples.reduce((sum, s) => sum + s.non2xx + s.errors + s.timeouts, 0),
    };
  };
  return results.apps.map((app) => {
    const own = stats(app.id);
    const bareApp = results.apps.find((a) => a.framework === app.framework && a.kind === "bare");
    const bare = bareApp ? stats(bareApp.id) : null;
    return {
      app,
      workload,
      ...own,
      ratio: bare ? own.rps / bare.rps : Number.NaN,
      addedCpu: bare ? own.cpu - bare.cpu : Number.NaN,
    };
  });
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const pct = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(0)}%` : "n/a");
const breakdownText = (breakdown: Record<string, number>) =>
  Object.entries(breakdown)
    .filter(([, n]) => n >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name.toUpperCase()} ${n.toFixed(2)}`)
    .join(", ") || "none";
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

interface Target {
  what: string;
  measured: string;
  met: boolean | null;
}

/** Each sess app and what it is measured against in the same run: its incumbent, or the bare framework where none exists. */
export const PAIRINGS: ReadonlyArray<{ sess: string; against: string }> = [
  { sess: "sess-express-ioredis", against: "express-session-ioredis" },
  { sess: "sess-express-node-redis", against: "express-session-node-redis" },
  { sess: "sess-koa-ioredis", against: "koa-session-redis" },
  { sess: "sess-koa-node-redis", against: "koa-session-redis" },
  { sess: "sess-fastify-ioredis", against: "fastify-session-node-redis" },
  { sess: "sess-fastify-node-redis", against: "fastify-session-node-redis" },
  { sess: "sess-hono-ioredis", against: "bare-hono" },
  { sess: "sess-express-ioredis-near", against: "bare-express" },
  { sess: "sess-express-node-redis-near", against: "bare-express" },
  { sess: "sess-koa-ioredis-near", against: "bare-koa" },
  { sess: "sess-koa-node-redis-near", against: "bare-koa" },
];

interface Pairing {
  sess: AppSpec;
  against: AppSpec;
  a: { sess: Row; against: Row };
  b: { sess: Row; against: Row };
}

function pairings(results: Results): Pairing[] {
  const a = rows(results, "A");
  const b = rows(results, "B");
  const out: Pairing[] = [];
  for (const pair of PAIRINGS) {
    const find = (list: Row[], id: string) => list.find((r) => r.app.id === id && r.runs > 0);
    const [sa, oa, sb, ob] = [find(a, pair.sess), find(a, pair.against), find(b, pair.sess), find(b, pair.against)];
    if (!sa || !oa || !sb || !ob) continue;
    out.push({ sess: sa.app, against: oa.app, a: { sess: sa, against: oa }, b: { sess: sb, against: ob } });
  }
  return out;
}

const factorText = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a");

/**
 * `sess`'s req/s over `against`'s in each rep of `workload` where both ran: how far apart the
 * samples of one run are (on a machine whose speed moves, a ratio's reps differ widely).
 */
export function repRatios(results: Results, sess: string, against: string, workload: Workload): number[] {
  const out: number[] = [];
  const reps = [...new Set(results.samples.map((s) => s.rep))].sort((a, b) => a - b);
  for (const rep of reps) {
    const of = (app: string) => results.samples.find((s) => s.app === app && s.workload === workload && s.rep === rep);
    const [mine, theirs] = [of(sess), of(against)];
    if (mine && theirs && theirs.rps > 0) out.push(mine.rps / theirs.rps);
  }
  return out;
}

/** A ratio and, when the run had more than one rep, its value in each rep. */
function withReps(text: string, ratios: number[], format: (value: number) => string): string {
  return ratios.length > 1 ? `${text} (reps: ${ratios.map(format).join(", ")})` : text;
}
const roundTripText = (value: number | undefined) => (value === undefined ? "n/a" : value.toFixed(2));

/**
 * Round trips a sess app's probe measured: per read, per login (the worse of fresh and logged-in),
 * per commit of a write: the write request's round trips minus its load's (the `HGETALL`s it sent,
 * one round trip each on sequential requests; with a near cache some loads are served from memory).
 */
function probeRoundTrips(probe: ProbeResult | undefined): { read?: number; login?: number; commit?: number } {
  const trips = probe?.roundTrips;
  if (!trips) return {};
  const loads = probe.write.hgetall ?? trips.read;
  return { read: trips.read, login: Math.max(trips.login, trips.relogin), commit: trips.write - loads };
}

/** The targets of the benchmark, each next to what this run measured. */
export function targets(results: Results): Target[] {
  const out: Target[] = [];
  for (const p of pairings(results)) {
    const name = p.sess.label;
    const fa = p.a.sess.rps / p.a.against.rps;
    const fb = p.b.sess.rps / p.b.against.rps;
    const [ra, rb] = (["A", "B"] as const).map((w) => repRatios(results, p.sess.id, p.against.id, w));
    const factorA = withReps(factorText(fa), ra!, (r) => r.toFixed(2));
    const factorB = withReps(factorText(fb), rb!, (r) => r.toFixed(2));
    if (p.against.kind === "bare") {
      if (p.sess.env?.BENCH_NEAR_CACHE === "1") {
        out.push({ what: `${name}: ≥ 90% of ${p.against.label} on A`, measured: withReps(pct(fa), ra!, pct), met: fa >= 0.9 });
        out.push({
          what: `${name}: Redis commands per read on A (${results.config.touchEvery === true ? "each session read once before the warm-up, so renewals due are made there" : "every window starts cold: first loads and renewals included"})`,
          measured: `${p.a.sess.commands.toFixed(2)} (${breakdownText(p.a.sess.breakdown)})`,
          met: null,
        });
      } else {
        out.push({ what: `${name}: share of ${p.against.label} on A / B (no target)`, measured: `${withReps(pct(fa), ra!, pct)} / ${withReps(pct(fb), rb!, pct)}`, met: null });
      }
      continue;
    }
    const vs = p.against.label;
    if (p.sess.framework === "express") {
      out.push({ what: `${name}: ≥ 1.5× ${vs} on B`, measured: factorB, met: fb >= 1.5 });
      out.push({ what: `${name}: ≥ 1.3× ${vs} on A`, measured: factorA, met: fa >= 1.3 });
      const own = p.a.sess.addedCpu;
      const theirs = p.a.against.addedCpu;
      out.push({
        what: `${name}: server CPU added per read (A) ≤ half of ${vs}'s`,
        measured: `+${fmt(own)} µs vs +${fmt(theirs)} µs (${Number.isFinite(own / theirs) ? `${((own / theirs) * 100).toFixed(0)}%` : "n/a"})`,
        met: Number.isFinite(own) && Number.isFinite(theirs) ? own <= theirs / 2 : null,
      });
    } else if (p.sess.framework === "koa") {
      out.push({ what: `${name}: ≥ 1.3× ${vs} on A and on B`, measured: `${factorA} / ${factorB}`, met: fa >= 1.3 && fb >= 1.3 });
    } else {
      out.push({ what: `${name}: ≥ 1.5× ${vs} on B`, measured: factorB, met: fb >= 1.5 });
    }
  }
  for (const app of results.apps.filter((a) => a.kind === "sess")) {
    const probe = results.probes[app.id];
    const trips = probeRoundTrips(probe);
    const underLoad = rows(results, "A").find((r) => r.app.id === app.id && r.runs > 0);
    if (underLoad) {
      out.push({
        what: `${app.label}: ≤ 1.05 Redis round trips per read, renewal throttled (A, commands sent per request: an upper bound)`,
        measured: `${underLoad.commands.toFixed(2)} (${breakdownText(underLoad.breakdown)}); ${roundTripText(trips.read)} round trips on a fresh session`,
        met: underLoad.commands <= 1.05,
      });
    }
    if (trips.login !== undefined && probe?.roundTrips) {
      out.push({
        what: `${app.label}: ≤ 2 round trips per login (fresh, and over a logged-in session)`,
        measured: `${probe.roundTrips.login.toFixed(2)} / ${probe.roundTrips.relogin.toFixed(2)}`,
        met: trips.login <= 2.001,
      });
    }
    if (trips.commit !== undefined) {
      out.push({ what: `${app.label}: 1 round trip per plain write (commit: write request minus its load)`, measured: trips.commit.toFixed(2), met: trips.commit <= 1.001 });
    }
    const pair = PAIRINGS.find((candidate) => candidate.sess === app.id);
    const own = results.memory[app.id];
    const theirs = pair ? results.memory[pair.against] : undefined;
    if (own?.memoryUsagePerKey != null && theirs?.memoryUsagePerKey != null) {
      out.push({
        what: `${app.label}: MEMORY USAGE per session ≤ ${results.apps.find((a) => a.id === pair!.against)?.label ?? pair!.against}'s`,
        measured: `${fmt(own.memoryUsagePerKey)} B (${own.keyType ?? "?"}) vs ${fmt(theirs.memoryUsagePerKey)} B (${theirs.keyType ?? "?"})`,
        met: own.memoryUsagePerKey <= theirs.memoryUsagePerKey,
      });
    }
    const longAgent = probe?.longAgent;
    if (probe && probe.longAgent !== undefined) {
      out.push(listpackTarget(app.label, longAgent));
    }
    const race = results.races[app.id];
    if (race) {
      out.push({
        what: `${app.label}: race keeps ${race.writers} of ${race.writers} in every trial`,
        measured: race.kept.join(", "),
        met: race.kept.every((k) => k === race.writers),
      });
    }
  }
  for (const shape of results.memoryShapes ?? []) {
    const measured = shape.bySetting[String(LISTPACK_VALUE)];
    if (!shape.sess || !shape.fits || !measured) continue;
    out.push({
      what: `sess (ioredis, manager defaults), ${shape.label.replace(/^sess: /, "")}: listpack kept after a login and 50 writes with a 150-byte browser user agent (\`src/memory.ts\`, default server settings)`,
      measured: `${fmt(measured.usage)} B (${measured.encoding})`,
      met: measured.encoding === "listpack",
    });
  }
  return out;
}

/** Redis's default `hash-max-listpack-value`: a longer value turns a hash into a hashtable. */
const LISTPACK_VALUE = 64;

/**
 * The listpack target: a session whose own fields fit listpack stays listpack after 50 writes with
 * a 150-byte user agent, so sess's metadata never pushes it out. When the application's own value
 * is over the limit (the benchmark payload's `preferences`), the hash is a hashtable whatever sess
 * stores: the row says so, with sess's longest metadata value, and leaves the verdict to the
 * measurement of a session of fitting fields (`memoryShapes`).
 */
function listpackTarget(label: string, longAgent: ProbeResult["longAgent"]): Target {
  const what = `${label}: listpack kept after 50 writes with a 150-byte browser user agent (sess's metadata never pushes a session out)`;
  if (!longAgent) return { what, measured: "session key not found", met: false };
  const listpack = longAgent.encoding.split(" + ").every((encoding) => encoding.endsWith("listpack"));
  const own = longAgent.longestOwn;
  const meta = longAgent.longestMetadata;
  const sizes = (own ? `; longest own value ${fmt(own.bytes)} B (\`${own.field}\`)` : "") + (meta ? `, longest metadata value ${fmt(meta.bytes)} B (\`${meta.field}\`)` : "");
  const measured = `${longAgent.encoding}, ${fmt(longAgent.memoryUsage)} B${sizes}`;
  if (listpack) return { what, measured, met: true };
  if (own && own.bytes > LISTPACK_VALUE && meta && meta.bytes <= LISTPACK_VALUE) {
    return { what, measured: `${measured}: not this payload's case, its own value is over ${LISTPACK_VALUE} B (sess's fit; a session of fitting fields: the rows "every value under 64 bytes")`, met: null };
  }
  return { what, measured, met: false };
}

/** The earlier targets against the bare framework (kept for comparison across runs). */
export function bareTargets(results: Results): Target[] {
  const b = rows(results, "B");
  const out: Target[] = [];
  for (const [id, share] of [
    ["sess-express-ioredis", 0.85],
    ["sess-express-node-redis", 0.85],
    ["sess-koa-ioredis", 0.6],
  ] as const) {
    const sess = b.find((r) => r.app.id === id && r.runs > 0);
    if (!sess) continue;
    const bare = results.apps.find((a) => a.framework === sess.app.framework && a.kind === "bare");
    out.push({ what: `${sess.app.label}: ≥ ${(share * 100).toFixed(0)}% of ${bare?.label ?? "bare"} on B`, measured: pct(sess.ratio), met: sess.ratio >= share });
    if (sess.app.framework === "express") {
      out.push({ what: `${sess.app.label}: ≤ 110 µs added server CPU per request on B`, measured: `${fmt(sess.addedCpu)} µs`, met: sess.addedCpu <= 110 });
    }
  }
  return out;
}

/** Per pairing: ratios, added CPU, round trips, memory and encoding, side by side. */
function pairingTable(results: Results): string {
  return table(
    [
      "sess vs",
      "A (100% reads)",
      "B (80/20)",
      "server CPU added per request, A / B: sess vs the other",
      "round trips per read: sess vs the other",
      "per login (fresh / logged in)",
      "per write request (read + commit)",
      "MEMORY USAGE per session (encoding)",
      "after 50 writes, 150-byte user agent",
    ],
    pairings(results).map((p) => {
      const bare = p.against.kind === "bare";
      const own = results.probes[p.sess.id]?.roundTrips;
      const theirs = results.probes[p.against.id]?.roundTrips;
      const trips = (pick: (t: NonNullable<ProbeResult["roundTrips"]>) => string) =>
        `${own ? pick(own) : "n/a"} vs ${bare ? "—" : theirs ? pick(theirs) : "n/a"}`;
      const memory = (id: string) => {
        const m = results.memory[id];
        return m?.memoryUsagePerKey != null ? `${fmt(m.memoryUsagePerKey)} B (${m.keyType ?? "?"})` : "—";
      };
      const longAgent = (id: string) => {
        const l = results.probes[id]?.longAgent;
        return l ? `${fmt(l.memoryUsage)} B (${l.encoding})` : "n/a";
      };
      return [
        `${p.sess.label} vs ${p.against.label}`,
        factorText(p.a.sess.rps / p.a.against.rps),
        factorText(p.b.sess.rps / p.b.against.rps),
        `+${fmt(p.a.sess.addedCpu)} / +${fmt(p.b.sess.addedCpu)} µs vs ${bare ? "—" : `+${fmt(p.a.against.addedCpu)} / +${fmt(p.b.against.addedCpu)} µs`}`,
        trips((t) => t.read.toFixed(2)),
        trips((t) => `${t.login.toFixed(2)} / ${t.relogin.toFixed(2)}`),
        trips((t) => t.write.toFixed(2)),
        `${memory(p.sess.id)} vs ${memory(p.against.id)}`,
        `${longAgent(p.sess.id)} vs ${bare ? "—" : longAgent(p.against.id)}`,
      ];
    }),
  );
}

function table(header: string[], body: string[][]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...body.map((cells) => `| ${cells.join(" | ")} |`)].join("\n");
}

function workloadTable(results: Results, workload: Workload): string {
  return table(
    ["app", "req/s", "vs bare", "p50 ms", "p99 ms", "server CPU µs/req", "added over bare", "Redis cmds sent/req", "by command", "run in scripts/req", "Redis CPU µs/req"],
    rows(results, workload).map((r) => [
      r.app.label + (r.failures > 0 ? ` (${r.failures} non-2xx/errors)` : ""),
      fmt(r.rps),
      r.app.kind === "bare" ? "—" : pct(r.ratio),
      fmt(r.p50, 0),
      fmt(r.p99, 0),
      fmt(r.cpu),
      r.app.kind === "bare" ? "—" : `+${fmt(r.addedCpu)}`,
      fmt(r.commands, 2),
      breakdownText(r.breakdown),
      fmt(r.scriptCommands, 2),
      fmt(r.redisCpu, 1),
    ]),
  );
}

export function renderMarkdown(results: Results, notes: string | null): string {
  const v = results.versions;
  const c = results.config;
  const lines: string[] = [];
  lines.push("# sess benchmark results", "");
  lines.push(
    `Generated by \`pnpm bench${results.mode === "quick" ? ":quick" : ""}\` (${results.mode} run) on ${results.date.slice(0, 16).replace("T", " ")} UTC in ${results.durationSeconds} s. ` +
      `Machine: ${results.machine.cores} cores (${results.machine.cpu}); load generator, apps and Redis share them, ` +
      "and other work on the machine adds noise: compare ratios within one run, not absolute numbers across runs. " +
      `The apps ran on Node ${v["node (apps)"] ?? v.node}; the runner and the load generator on Node ${v.node}.`,
    "",
  );
  lines.push("![throughput, CPU per request and race results](results.svg)", "");
  const targetTable = (list: Target[]) => table(["target", "measured", "met"], list.map((t) => [t.what, t.measured, t.met === null ? "—" : t.met ? "yes" : "**no**"]));
  lines.push("## Targets", "");
  lines.push(
    "Ratios are sess's req/s over the other app's, medians of the same run; in brackets, the same ratio in each rep (the two apps' samples of that rep), which shows how far the run's samples agree. Round trips come from a counting proxy on sequential requests (see Method).",
    "",
  );
  lines.push(targetTable(targets(results)), "");
  lines.push("## sess against what it replaces, per pairing", "", pairingTable(results), "");
  lines.push("## Earlier targets, against the bare framework", "", targetTable(bareTargets(results)), "");
  lines.push("## Workload A: 100% GET /me", "", workloadTable(results, "A"), "");
  lines.push("## Workload B: 80% GET /me, 20% POST /cart", "", workloadTable(results, "B"), "");
  lines.push("## Per session: commands, memory, lost writes", "");
  lines.push(
    table(
      ["app", "cmds sent per read (fresh session)", "cmds sent per write (+ run in script)", "cmds sent per login: fresh / logged in (+ run in script)", "MEMORY USAGE per session key", "used_memory growth per session", `race: items kept of ${c.raceWriters} (${c.raceTrials} trials)`, "lost writes"],
      results.apps
        .filter((a) => a.kind !== "bare")
        .map((app) => {
          const probe = results.probes[app.id];
          const memory = results.memory[app.id];
          const race = results.races[app.id];
          const lost = race ? race.kept.reduce((s, k) => s + (race.writers - k), 0) : Number.NaN;
          return [
            app.label,
            probe ? `${sum(probe.read).toFixed(2)} (${breakdownText(probe.read)})` : "n/a",
            probe ? `${sum(probe.write).toFixed(2)} (${breakdownText(probe.write)})${sum(probe.writeScript) > 0 ? ` + ${sum(probe.writeScript).toFixed(2)} in script` : ""}` : "n/a",
            probe?.login && probe.relogin
              ? [
                  [probe.login, probe.loginScript ?? {}],
                  [probe.relogin, probe.reloginScript ?? {}],
                ]
                  .map(([own, script]) => `${sum(own!).toFixed(2)} (${breakdownText(own!)})${sum(script!) > 0 ? ` + ${sum(script!).toFixed(2)} in script` : ""}`)
                  .join(" / ")
              : "n/a",
            memory?.memoryUsagePerKey != null ? `${fmt(memory.memoryUsagePerKey)} B (${memory.keyType ?? "?"}, ${memory.sampledKeys} keys)` : "n/a",
            memory ? `${fmt(memory.usedMemoryPerSession)} B` : "n/a",
            race ? race.kept.join(", ") : "n/a",
            race ? `${lost} of ${race.writers * race.kept.length}` : "n/a",
          ];
        }),
    ),
    "",
  );
  if (results.memoryShapes && results.memoryShapes.length > 0) {
    lines.push("## Memory per stored shape", "");
    lines.push(
      "The benchmark's login payload stored one session at a time on a fresh redis-server (`src/memory.ts`): through sess (ioredis driver, manager defaults: the first 64 bytes of a 150-byte browser user agent recorded) after a login and 50 writes, in the shapes an application may choose, and as the incumbents' one JSON string. `MEMORY USAGE` and `OBJECT ENCODING`, with the default `hash-max-listpack-value` (64) and with 256.",
      "",
      table(
        ["stored as", "hash-max-listpack-value 64 (default)", "256"],
        results.memoryShapes.map((shape) => [
          shape.label,
          ...["64", "256"].map((setting) => {
            const measured = shape.bySetting[setting];
            return measured ? `${fmt(measured.usage)} B (${measured.encoding})` : "n/a";
          }),
        ]),
      ),
      "",
    );
  }
  if (results.micro) {
    lines.push("## Driver micro-benchmark (tinybench)", "");
    lines.push(
      `One session load and one commit, through the sess driver (\`load\` + \`update\`, and the whole manager path: open + increment + commit) ` +
        `against the raw client sending the same commands: \`${results.micro.commands.load}\`, then \`${results.micro.commands.commit}\` ` +
        `(the driver's own script and arguments, captured with MONITOR). ${results.micro.timeMs} ms per task.`,
      "",
    );
    lines.push(
      table(
        ["client", "shape", "sess ops/s", "raw client ops/s", "ratio"],
        results.micro.rows.map((r) => [r.client, r.shape, fmt(r.sessOps), fmt(r.rawOps), r.ratio.toFixed(2)]),
      ),
      "",
    );
  }
  lines.push("## Method", "");
  lines.push(
    [
      `- One \`redis-server\` (${v["redis-server"]}) started by the runner on a free loopback port with \`--save "" --appendonly no\`; every app uses its own key prefix on it.`,
      "- The sess packages run from their TypeScript source (tsx; `bench/tsconfig.json` maps `@sess/*` to `packages/*/src`), the same esbuild transform their tsup build uses, so a run never depends on a build in progress.",
      `- Each app is its own Node process (\`node --import tsx src/apps/<app>.ts\`, \`NODE_ENV=production\`, Node ${v["node (apps)"] ?? v.node}${v["node (apps)"] !== undefined && v["node (apps)"] !== v.node ? `, chosen with \`--node=<path>\`` : ""}) on a loopback port;` +
        " all implement `GET /health`, `POST /login`, `GET /me`, `POST /cart`, `GET /cart` with the same payload (user id, username, email, role, tenant, preferences, 3-line cart: ~420 bytes of JSON). Bare apps answer constants of the same size. Clients as installed: sess on ioredis " +
        `${v.ioredis} and node-redis ${v.redis}; express-session ${v["express-session"]} with connect-redis ${v["connect-redis-9"]} on node-redis and connect-redis ${v["connect-redis-8"]} on ioredis; koa-session ${v["koa-session"]} with koa-redis ${v["koa-redis"]} (its own ioredis ${v["ioredis (inside koa-redis)"]}); @fastify/session ${v["@fastify/session"] ?? "?"} with connect-redis ${v["connect-redis-9"]} on node-redis.`,
      "- Incumbents use their documented setup: express-session with `resave: false`, `saveUninitialized: false` (rolling off, the default), `req.session.regenerate` on login; koa-session defaults (rolling off, renew off) with koa-redis. sess uses its defaults (renewal after 60 s); the cart is one integer field per line, added to with `session.increment`.",
      `- ${c.sessions.toLocaleString("en")} sessions preloaded per app through its own \`POST /login\`${c.bareSessions !== undefined ? ` (${c.bareSessions.toLocaleString("en")} fake logins for the bare apps, which store nothing)` : ""}; the cookies are kept and every measured request carries one of them, rotated across requests.`,
      `- Load: autocannon in a separate process, ${c.connections} connections, ${c.touchEvery === true ? "one `GET /me` per preloaded session (each read once, so a renewal due since the app's previous sample is made before the window), then " : ""}${c.warmupSeconds} s warm-up then ${c.seconds} s measured, ${c.reps} rep(s) per app and workload, interleaved (each rep runs every app once, order rotated); medians reported.` +
        (results.mode === "full" && results.apps.length >= 14
          ? ` With ${results.apps.length} apps, the full run's warm-up and window (earlier 2 s + 8 s) and preload (earlier 10,000 sessions) are shorter, to keep the run near 12 minutes on this machine; a ${c.seconds} s window still holds 10,000–40,000 requests.`
          : ""),
      "- Server CPU per request: CPU time of every thread of the app process (`/proc/<pid>/task/*/schedstat`) over the measured window, divided by the requests completed; \"added\" subtracts the bare app of the same framework. Redis commands per request: `INFO commandstats` delta over the window (the runner's own INFO/SCAN/MEMORY calls excluded), split into commands the app sent and commands its Lua scripts ran (commandstats counts both; which is which comes from MONITOR during the probes; a command both sent and run in a script, such as the HGETALL inside sess's write script, is split by the probes' per-request counts and the workload's 80/20 mix). Redis CPU: `used_cpu_user + used_cpu_sys` delta.",
      results.samples.length > 0 && Object.values(results.probes).some((probe) => probe.roundTrips)
        ? "- Command and round-trip probes, on a second instance of each app whose Redis connection goes through a counting TCP proxy (the measured instance connects directly): sequential requests, 20 fresh `POST /login`, 100 `GET /me` and 50 `POST /cart` on those sessions (renewal not due), then 20 `POST /login` carrying a logged-in session's cookie (express-session's `regenerate`, sess's rotation). MONITOR sees every command (sent by the app, or run inside a script). A round trip starts when the app writes to Redis with no reply outstanding, so commands pipelined or written in one tick count once. Then one session logged in with a 150-byte browser user agent takes 50 `POST /cart`, and its key's `OBJECT ENCODING` and `MEMORY USAGE` are read (Redis defaults: `hash-max-listpack-value 64`, `hash-max-listpack-entries 128`)."
        : "- Command probes: 20 fresh logins, then 500 `GET /me` and 200 `POST /cart` on them (renewal not due), every command seen with MONITOR (sent by the app, or run inside a script).",
      "- Round trips per read under load (the target's figure): the commands a sess app sent per request on workload A, an upper bound on its round trips. It counts sess's renewals (default `renewAfter` 60 s): with every app's windows interleaved, most sessions fall due again between two windows of the same app, so a window sees up to one renewal per preloaded session. A fresh session's read (renewal not due) is shown next to it.",
      "- Memory: `MEMORY USAGE` (all samples) of up to 200 session keys found by SCAN, and `used_memory` growth over the preload divided by the sessions created (includes user indexes).",
      `- Race: a fresh login, then ${c.raceWriters} concurrent \`POST /cart\` of distinct items on that one session (${c.raceWriters} sockets), then \`GET /cart\` counts the items kept; ${c.raceTrials} trials.`,
    ].join("\n"),
    "",
  );
  lines.push("## Versions", "");
  lines.push(table(["component", "version"], Object.entries(v).map(([name, version]) => [name, version])), "");
  if (notes) lines.push(notes.trim(), "");
  return `${lines.join("\n")}\n`;
}

const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A hand-written SVG: throughput per app (A and B), added CPU per request (B), race items kept. */
export function renderSvg(results: Results): string {
  const a = rows(results, "A");
  const b = rows(results, "B");
  const width = 980;
  const labelWidth = 330;
  const barArea = width - labelWidth - 110;
  const colors: Record<string, string> = { bare: "#9aa5b1", incumbent: "#e07b39", sess: "#2f7ed8" };
  const parts: string[] = [];
  let y = 0;
  const title = (text: string) => {
    y += 34;
    parts.push(`<text x="16" y="${y}" font-size="16" font-weight="600">${esc(text)}</text>`);
    y += 10;
  };
  const bar = (label: string, value: number, max: number, color: string, text: string, height: number, faded = false) => {
    const w = Math.max(1, (Number.isFinite(value) ? value / max : 0) * barArea);
    if (label) parts.push(`<text x="${labelWidth - 8}" y="${y + height - 4}" font-size="12" text-anchor="end">${esc(label)}</text>`);
    parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${height}" fill="${color}"${faded ? ' fill-opacity="0.45"' : ""}/>`);
    parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + height - 4}" font-size="11">${esc(text)}</text>`);
    y += height + 2;
  };

  title(`Throughput, req/s (median; solid = workload B 80/20, light = A 100% reads; ${results.config.connections} connections)`);
  const maxRps = Math.max(...a.map((r) => r.rps), ...b.map((r) => r.rps));
  for (let i = 0; i < b.length; i++) {
    const rb = b[i]!;
    const ra = a[i]!;
    const color = colors[rb.app.kind]!;
    bar(rb.app.label, rb.rps, maxRps, color, `${fmt(rb.rps)}${rb.app.kind === "bare" ? "" : ` (${pct(rb.ratio)} of bare)`}`, 14);
    bar("", ra.rps, maxRps, color, `${fmt(ra.rps)}${ra.app.kind === "bare" ? "" : ` (${pct(ra.ratio)})`}`, 9, true);
    y += 6;
  }

  title("Server CPU added over the bare framework, µs per request (workload B; dashed line: 110 µs target)");
  const added = b.filter((r) => r.app.kind !== "bare");
  const maxCpu = Math.max(130, ...added.map((r) => r.addedCpu));
  const top = y;
  for (const r of added) {
    bar(r.app.label, Math.max(0, r.addedCpu), maxCpu, colors[r.app.kind]!, `+${fmt(r.addedCpu)} µs`, 14);
    y += 4;
  }
  const targetX = labelWidth + (110 / maxCpu) * barArea;
  parts.push(`<line x1="${targetX.toFixed(1)}" y1="${top - 4}" x2="${targetX.toFixed(1)}" y2="${y}" stroke="#333" stroke-dasharray="4 3"/>`);

  title(`Race: items kept of ${results.config.raceWriters} concurrent POST /cart on one session (median of ${results.config.raceTrials} trials)`);
  for (const app of results.apps.filter((x) => x.kind !== "bare")) {
    const race = results.races[app.id];
    if (!race) continue;
    const kept = median(race.kept);
    bar(app.label, kept, race.writers, colors[app.kind]!, `${fmt(kept)} kept`, 14);
    y += 4;
  }
  y += 12;
  parts.push(
    `<text x="16" y="${y}" font-size="11" fill="#555">${esc(`${results.mode} run, ${results.date.slice(0, 10)}, ${results.machine.cores} cores shared by load generator, apps and Redis; apps on Node ${results.versions["node (apps)"] ?? results.versions.node}, Redis ${results.versions["redis-server"]}`)}</text>`,
  );
  y += 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

/**
 * What a run's files are named after: `.quick` for quick runs, `.node<major>` when `--node` ran the
 * apps on another Node major than the runner's (so a Node 24 run does not overwrite the Node 20 one).
 */
export function resultSuffix(results: Pick<Results, "mode" | "versions">): string {
  const major = (version: string | undefined) => version?.split(".")[0];
  const apps = major(results.versions["node (apps)"]);
  return `${results.mode === "quick" ? ".quick" : ""}${apps !== undefined && apps !== major(results.versions.node) ? `.node${apps}` : ""}`;
}

/** Full runs write RESULTS.md and results.svg; quick runs RESULTS.quick.md and results.quick.svg (not committed). */
export function writeReport(benchDir: string, results: Results): string[] {
  const notesPath = join(benchDir, "PROFILE-NOTES.md");
  const notes = existsSync(notesPath) ? readFileSync(notesPath, "utf8") : null;
  const suffix = resultSuffix(results);
  const svg = `results${suffix}.svg`;
  const md = `RESULTS${suffix}.md`;
  writeFileSync(join(benchDir, md), renderMarkdown(results, notes).replace("](results.svg)", `](${svg})`));
  writeFileSync(join(benchDir, svg), renderSvg(results));
  return [md, svg];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..");
  const file = process.argv[2] ?? join(benchDir, "results.json");
  const written = writeReport(benchDir, JSON.parse(readFileSync(file, "utf8")) as Results);
  process.stdout.write(`wrote ${written.join(" and ")}\n`);
}

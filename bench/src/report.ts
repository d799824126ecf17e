/**
 * Turns results.json into RESULTS.md and results.svg. Run alone to regenerate them from the last
 * results.json: node --import tsx src/report.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AppSpec } from "./apps.js";
import type { LoadResult, Workload } from "./load.js";
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
    warmupSeconds: number;
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

export function targets(results: Results): Target[] {
  const b = rows(results, "B");
  const row = (id: string) => b.find((r) => r.app.id === id);
  const out: Target[] = [];
  for (const [sessId, incumbentId] of [
    ["sess-express-ioredis", "express-session-ioredis"],
    ["sess-express-node-redis", "express-session-node-redis"],
  ] as const) {
    const sess = row(sessId);
    const incumbent = row(incumbentId);
    if (!sess) continue;
    out.push({ what: `${sess.app.label}: ≥ 85% of bare Express on B`, measured: pct(sess.ratio), met: sess.ratio >= 0.85 });
    if (incumbent) {
      const factor = sess.rps / incumbent.rps;
      out.push({ what: `${sess.app.label}: ≥ 1.5× ${incumbent.app.label} on B`, measured: `${factor.toFixed(2)}×`, met: factor >= 1.5 });
    }
    out.push({ what: `${sess.app.label}: ≤ 110 µs added server CPU per request on B`, measured: `${fmt(sess.addedCpu)} µs`, met: sess.addedCpu <= 110 });
  }
  const koa = row("sess-koa-ioredis");
  if (koa) out.push({ what: `${koa.app.label}: ≥ 60% of bare Koa on B`, measured: pct(koa.ratio), met: koa.ratio >= 0.6 });
  const fastifySession = row("fastify-session-node-redis");
  for (const sessId of ["sess-fastify-ioredis", "sess-fastify-node-redis"]) {
    const sess = row(sessId);
    if (!sess || !fastifySession) continue;
    const factor = sess.rps / fastifySession.rps;
    out.push({ what: `${sess.app.label}: ≥ 1.5× ${fastifySession.app.label} on B`, measured: `${factor.toFixed(2)}×`, met: factor >= 1.5 });
  }
  const hono = row("sess-hono-ioredis");
  if (hono) out.push({ what: `${hono.app.label}: share of bare Hono on B (no target)`, measured: pct(hono.ratio), met: null });
  for (const app of results.apps.filter((a) => a.kind === "sess")) {
    const probe = results.probes[app.id];
    if (!probe) continue;
    const reads = sum(probe.read);
    out.push({ what: `${app.label}: ≤ 1 Redis command per read request (renewal not due)`, measured: `${reads.toFixed(2)} (${breakdownText(probe.read)})`, met: reads <= 1.001 });
  }
  for (const app of results.apps.filter((a) => a.kind === "sess")) {
    const race = results.races[app.id];
    if (!race) continue;
    out.push({
      what: `${app.label}: race keeps ${race.writers} of ${race.writers} in every trial`,
      measured: race.kept.join(", "),
      met: race.kept.every((k) => k === race.writers),
    });
  }
  return out;
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
      "and other work on the machine adds noise: compare ratios within one run, not absolute numbers across runs.",
    "",
  );
  lines.push("![throughput, CPU per request and race results](results.svg)", "");
  lines.push("## Targets (workload B unless stated)", "");
  lines.push(table(["target", "measured", "met"], targets(results).map((t) => [t.what, t.measured, t.met === null ? "—" : t.met ? "yes" : "**no**"])), "");
  lines.push("## Workload A: 100% GET /me", "", workloadTable(results, "A"), "");
  lines.push("## Workload B: 80% GET /me, 20% POST /cart", "", workloadTable(results, "B"), "");
  lines.push("## Per session: commands, memory, lost writes", "");
  lines.push(
    table(
      ["app", "cmds sent per read (fresh session)", "cmds sent per write (+ run in script)", "MEMORY USAGE per session key", "used_memory growth per session", `race: items kept of ${c.raceWriters} (${c.raceTrials} trials)`, "lost writes"],
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
            memory?.memoryUsagePerKey != null ? `${fmt(memory.memoryUsagePerKey)} B (${memory.keyType ?? "?"}, ${memory.sampledKeys} keys)` : "n/a",
            memory ? `${fmt(memory.usedMemoryPerSession)} B` : "n/a",
            race ? race.kept.join(", ") : "n/a",
            race ? `${lost} of ${race.writers * race.kept.length}` : "n/a",
          ];
        }),
    ),
    "",
  );
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
      "- Each app is its own Node process (`node --import tsx src/apps/<app>.ts`, `NODE_ENV=production`) on a loopback port; all implement `GET /health`, `POST /login`, `GET /me`, `POST /cart`, `GET /cart` with the same payload (user id, username, email, role, tenant, preferences, 3-line cart: ~420 bytes of JSON). Bare apps answer constants of the same size.",
      "- Incumbents use their documented setup: express-session with `resave: false`, `saveUninitialized: false` (rolling off, the default), `req.session.regenerate` on login; koa-session defaults (rolling off, renew off) with koa-redis. sess uses its defaults (renewal after 60 s); the cart is one integer field per line, added to with `session.increment`.",
      `- ${c.sessions.toLocaleString("en")} sessions preloaded per app through its own \`POST /login\`; the cookies are kept and every measured request carries one of them, rotated across requests.`,
      `- Load: autocannon in a separate process, ${c.connections} connections, ${c.warmupSeconds} s warm-up then ${c.seconds} s measured, ${c.reps} rep(s) per app and workload, interleaved (each rep runs every app once, order rotated); medians reported.`,
      "- Server CPU per request: CPU time of every thread of the app process (`/proc/<pid>/task/*/schedstat`) over the measured window, divided by the requests completed; \"added\" subtracts the bare app of the same framework. Redis commands per request: `INFO commandstats` delta over the window (the runner's own INFO/SCAN/MEMORY calls excluded), split into commands the app sent and commands its Lua scripts ran (commandstats counts both; which is which comes from MONITOR during the probes). Redis CPU: `used_cpu_user + used_cpu_sys` delta.",
      "- Command probes: 20 fresh logins, then 500 `GET /me` and 200 `POST /cart` on them (renewal not due), every command seen with MONITOR (sent by the app, or run inside a script).",
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
    `<text x="16" y="${y}" font-size="11" fill="#555">${esc(`${results.mode} run, ${results.date.slice(0, 10)}, ${results.machine.cores} cores shared by load generator, apps and Redis; Node ${results.versions.node}, Redis ${results.versions["redis-server"]}`)}</text>`,
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

/** Full runs write RESULTS.md and results.svg; quick runs RESULTS.quick.md and results.quick.svg (not committed). */
export function writeReport(benchDir: string, results: Results): string[] {
  const notesPath = join(benchDir, "PROFILE-NOTES.md");
  const notes = existsSync(notesPath) ? readFileSync(notesPath, "utf8") : null;
  const suffix = results.mode === "quick" ? ".quick" : "";
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

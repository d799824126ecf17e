/**
 * Summarizes a V8 .cpuprofile (`node --cpu-prof`): share of busy CPU by area (sess packages, each
 * library, Node internals, GC) and the hottest functions by self time, plus the inclusive time of
 * sess's own functions. Usage: node --import tsx src/profile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function areaOf(url: string, functionName: string): string {
  if (url === "") {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(program)") return "(program: native, not attributed)";
    return "(native)";
  }
  const sess = /\/packages\/([^/]+)\//.exec(url);
  if (sess) return `@sess/${sess[1]!}`;
  const pkg = /node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@/.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!.replace("+", "/");
  if (url.startsWith("node:")) return "node internals";
  if (url.includes("/bench/src/")) return "bench app code";
  return "other";
}

function shortUrl(url: string): string {
  const sess = /\/packages\/(.*)$/.exec(url);
  if (sess) return `packages/${sess[1]!}`;
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.*)$/.exec(url);
  if (pkg) return pkg[1]!;
  return url.replace(/^file:\/\/.*\/bench\//, "bench/");
}

export interface ProfileSummary {
  busyMs: number;
  areas: { area: string; ms: number; share: number }[];
  functions: { name: string; where: string; area: string; selfMs: number; share: number }[];
  sessInclusive: { name: string; where: string; ms: number; share: number }[];
}

export function analyzeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  // Inclusive time per node (children before parents).
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<number, number>(self);
  const order: number[] = [];
  const root = profile.nodes.find((node) => !parent.has(node.id))!;
  const stack = [root.id];
  while (stack.length > 0) {
    const id = stack.pop()!;
    order.push(id);
    for (const child of byId.get(id)!.children ?? []) stack.push(child);
  }
  for (const id of order.reverse()) {
    const p = parent.get(id);
    if (p !== undefined) inclusive.set(p, (inclusive.get(p) ?? 0) + (inclusive.get(id) ?? 0));
  }

  let busy = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; area: string; self: number }>();
  const sessIncl = new Map<string, { name: string; where: string; total: number; ids: Set<number> }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    const time = self.get(node.id) ?? 0;
    if (area !== "(idle)") busy += time;
    areas.set(area, (areas.get(area) ?? 0) + time);
    const name = functionName || "(anonymous)";
    const where = url === "" ? "" : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, area, self: 0 };
    entry.self += time;
    functions.set(key, entry);
    if (area.startsWith("@sess/")) {
      const incl = sessIncl.get(key) ?? { name, where, total: 0, ids: new Set<number>() };
      // Count a node only when no ancestor has the same function (recursion would double count).
      let ancestor = parent.get(node.id);
      let nested = false;
      while (ancestor !== undefined) {
        const frame = byId.get(ancestor)!.callFrame;
        if (frame.functionName === functionName && frame.url === url && frame.lineNumber === lineNumber) {
          nested = true;
          break;
        }
        ancestor = parent.get(ancestor);
      }
      if (!nested) incl.total += inclusive.get(node.id) ?? 0;
      sessIncl.set(key, incl);
    }
  }
  busy = Math.max(busy, 1);
  return {
    busyMs: busy / 1000,
    areas: [...areas]
      .filter(([area]) => area !== "(idle)")
      .map(([area, time]) => ({ area, ms: time / 1000, share: time / busy }))
      .sort((a, b) => b.ms - a.ms),
    functions: [...functions.values()]
      .filter((entry) => entry.area !== "(idle)")
      .sort((a, b) => b.self - a.self)
      .slice(0, top)
      .map((entry) => ({ name: entry.name, where: entry.where, area: entry.area, selfMs: entry.self / 1000, share: entry.self / busy })),
    sessInclusive: [...sessIncl.values()]
      .sort((a, b) => b.total - a.total)
      .slice(0, top)
      .map((entry) => ({ name: entry.name, where: entry.where, ms: entry.total / 1000, share: entry.total / busy })),
  };
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`.padStart(6);

export function summarizeProfile(path: string, top = 25, requests?: number): string {
  const summary = analyzeProfile(path, top);
  const perRequest = (ms: number) => (requests ? `  ${((ms * 1000) / requests).toFixed(1).padStart(6)} µs/req` : "");
  const lines = [`busy CPU: ${summary.busyMs.toFixed(0)} ms${perRequest(summary.busyMs)}`, "", "by area (self time, share of busy CPU):"];
  for (const area of summary.areas.filter((a) => a.share >= 0.001)) lines.push(`  ${pct(area.share)}${perRequest(area.ms)}  ${area.area}`);
  lines.push("", `top ${top} functions by self time:`);
  for (const fn of summary.functions) lines.push(`  ${pct(fn.share)}  ${fn.name}  [${fn.area}] ${fn.where}`);
  lines.push("", "sess functions by inclusive time:");
  for (const fn of summary.sessInclusive) lines.push(`  ${pct(fn.share)}  ${fn.name}  ${fn.where}`);
  return `${lines.join("\n")}\n`;
}

interface SavedSummary extends ProfileSummary {
  app: string;
  requests: number;
}

/** µs per request by area and by function: `b` minus `a` (e.g. a sess app minus the bare app). */
export function diffSummaries(aPath: string, bPath: string, top = 25): string {
  const a = JSON.parse(readFileSync(aPath, "utf8")) as SavedSummary;
  const b = JSON.parse(readFileSync(bPath, "utf8")) as SavedSummary;
  const us = (ms: number, requests: number) => (ms * 1000) / requests;
  const lines = [
    `${b.app} (${us(b.busyMs, b.requests).toFixed(1)} µs/req busy) minus ${a.app} (${us(a.busyMs, a.requests).toFixed(1)} µs/req): ` +
      `${(us(b.busyMs, b.requests) - us(a.busyMs, a.requests)).toFixed(1)} µs/req`,
    "",
    "by area, µs per request (b − a):",
  ];
  const areas = new Set([...a.areas, ...b.areas].map((x) => x.area));
  const areaRows = [...areas].map((area) => {
    const av = us(a.areas.find((x) => x.area === area)?.ms ?? 0, a.requests);
    const bv = us(b.areas.find((x) => x.area === area)?.ms ?? 0, b.requests);
    return { area, av, bv, d: bv - av };
  });
  for (const row of areaRows.sort((x, y) => y.d - x.d).filter((r) => Math.abs(r.d) >= 0.3)) {
    lines.push(`  ${row.d >= 0 ? "+" : ""}${row.d.toFixed(1).padStart(6)}  (${row.av.toFixed(1)} → ${row.bv.toFixed(1)})  ${row.area}`);
  }
  lines.push("", `top ${top} functions by added self time, µs per request:`);
  const key = (f: { name: string; where: string }) => `${f.name} ${f.where}`;
  const aFns = new Map(a.functions.map((f) => [key(f), f]));
  const fnRows = b.functions.map((f) => {
    const before = aFns.get(key(f));
    return { f, d: us(f.selfMs, b.requests) - (before ? us(before.selfMs, a.requests) : 0) };
  });
  for (const row of fnRows.sort((x, y) => y.d - x.d).slice(0, top)) {
    lines.push(`  ${row.d >= 0 ? "+" : ""}${row.d.toFixed(1).padStart(6)}  ${row.f.name}  [${row.f.area}] ${row.f.where}`);
  }
  return `${lines.join("\n")}\n`;
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per request by area and by allocating function, from a sampled .heapprofile. */
export function summarizeHeap(path: string, requests: number, top = 25): string {
  const root = (JSON.parse(readFileSync(path, "utf8")) as { head: HeapNode }).head;
  const areas = new Map<string, number>();
  const functions = new Map<string, { name: string; area: string; where: string; bytes: number }>();
  let total = 0;
  const stack: HeapNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    total += node.selfSize;
    areas.set(area, (areas.get(area) ?? 0) + node.selfSize);
    const name = functionName || "(anonymous)";
    const where = url === "" ? "" : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, area, where, bytes: 0 };
    entry.bytes += node.selfSize;
    functions.set(key, entry);
  }
  const per = (bytes: number) => `${(bytes / requests).toFixed(0).padStart(6)} B/req`;
  const lines = [`allocated: ${per(total)} (sampled, collected objects included)`, "", "by area:"];
  for (const [area, bytes] of [...areas].sort((a, b) => b[1] - a[1]).filter(([, b]) => b / total >= 0.005)) lines.push(`  ${per(bytes)}  ${area}`);
  lines.push("", `top ${top} allocating functions:`);
  for (const fn of [...functions.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top)) lines.push(`  ${per(fn.bytes)}  ${fn.name}  [${fn.area}] ${fn.where}`);
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--diff") {
  process.stdout.write(diffSummaries(process.argv[3]!, process.argv[4]!, Number(process.argv[5] ?? 25)));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: profile.ts <file.cpuprofile> [top]");
  process.stdout.write(summarizeProfile(file, Number(process.argv[3] ?? 25)));
}

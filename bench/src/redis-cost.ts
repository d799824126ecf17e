/**
 * Redis's own cost of sess's requests: the instructions redis-server executes per login, per read
 * (`GET /me`, renewal not due) and per write (`POST /cart`: one counter incremented), counted by
 * valgrind's callgrind in the server process while sess's Koa middleware (ioredis driver, no near
 * cache) runs the requests in process, 50 in flight, over 200 sessions. The commands Redis ran per
 * request (scripts' own commands included) come from `INFO commandstats`.
 *
 * The server's CPU per request is what limits the write-heavy mix on a machine whose cores the app
 * and Redis share; unlike time, the count is the same from run to run (within a fraction of a
 * percent), so two versions of the scripts or the driver compare on any machine, loaded or not.
 * Needs valgrind (`callgrind_control` on the PATH).
 *
 * Usage: node --import tsx src/redis-cost.ts [--requests=N] [--server=path/to/redis-server]
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { sessionMiddleware } from "@sess/koa";
import { createIoredisDriver } from "@sess/ioredis";
import { freePort, waitForPong } from "@sess/redis-server";
import { payloadFor } from "./shared.js";
import { meOfSession, storeLogin, type Data } from "./apps/sess-data.js";
import { contextOf, cookieOf } from "./in-process.js";

const argv = process.argv.slice(2);
const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const requests = Number(option("requests") ?? 2_000);
/** The redis-server binary to count (a build with symbols shows where its instructions go). */
const binary = option("server") ?? "redis-server";
const SESSIONS = 200;
const IN_FLIGHT = 50;

/** What one phase cost the server. */
interface Phase {
  name: string;
  count: number;
  instructions: number;
  commands: Map<string, number>;
}

/** The calls per command since the last CONFIG RESETSTAT. */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await client.info("commandstats")).split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    // Leaves out this file's own INFO and CONFIG RESETSTAT (`config|resetstat`).
    if (match && !["info", "config"].includes(match[1]!.split("|")[0]!)) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sess-redis-cost-"));
  const port = await freePort();
  const server = spawn(
    "valgrind",
    ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${join(dir, "cg.out")}`,
      binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  server.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const control = (...args: string[]) => execFileSync("callgrind_control", [...args, String(server.pid)], { stdio: "ignore" });
  /** callgrind's dumps so far (cg.out.1, cg.out.2, ...), oldest first. */
  const dumps = () =>
    readdirSync(dir)
      .filter((name) => /^cg\.out\.\d+$/.test(name))
      .sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()));
  await waitForPong(port, 60_000);
  const client = new Redis(`redis://127.0.0.1:${port}`);
  const sessions = sessionMiddleware<Data>({ operationTimeout: 600_000, driver: createIoredisDriver({ client, prefix: "cost" }) });
  const phases: Phase[] = [];
  try {
    await once(client, "ready");
    const cookies: string[] = [];
    const login = async (i: number) => {
      const ctx = contextOf(undefined);
      const payload = payloadFor(`user${i}`);
      await sessions(ctx, async () => storeLogin(sessions.login(ctx, payload.userId), payload));
      cookies.push(cookieOf(ctx));
    };
    const read = async (i: number) => {
      const ctx = contextOf(cookies[i % SESSIONS]);
      await sessions(ctx, async () => {
        if (meOfSession(sessions.of(ctx)).userId === null) throw new Error("a read found no logged-in session");
      });
    };
    const write = async (i: number) => {
      const ctx = contextOf(cookies[i % SESSIONS]);
      await sessions(ctx, async () => void sessions.of(ctx).increment(`cart:SKU-${100_000 + (i % 3)}`));
    };
    const run = async (count: number, one: (i: number) => Promise<void>, from = 0) => {
      for (let done = 0; done < count; done += IN_FLIGHT) {
        const batch: Promise<void>[] = [];
        for (let j = 0; j < Math.min(IN_FLIGHT, count - done); j++) batch.push(one(from + done + j));
        await Promise.all(batch);
      }
    };
    const measure = async (name: string, count: number, one: (i: number) => Promise<void>, from = 0) => {
      await client.config("RESETSTAT");
      const before = dumps().length;
      control("-i", "on");
      await run(count, one, from);
      control("-i", "off");
      control("-d");
      while (dumps().length === before) await new Promise((resolve) => setTimeout(resolve, 50));
      const file = dumps().pop()!;
      const totals = /^totals:\s*(\d+)/m.exec(readFileSync(join(dir, file), "utf8"));
      if (totals === null) throw new Error("callgrind wrote no totals");
      phases.push({ name, count, instructions: Number(totals[1]), commands: await commandCalls(client) });
    };
    // Warm-up: the scripts loaded and every code path run once before counting.
    await run(20, login, 10_000);
    cookies.length = 0;
    await measure("login", SESSIONS, login);
    await run(200, read);
    await run(200, write);
    await measure("read", requests, read);
    await measure("write", requests, write);
  } finally {
    await sessions.manager.close();
    client.disconnect();
    server.kill("SIGTERM");
    await once(server, "exit");
    rmSync(dir, { recursive: true, force: true });
  }
  if (phases.length < 3) throw new Error(`valgrind: ${stderr.slice(-2000)}`);
  const lines = ["| request | redis-server instructions per request | commands Redis ran per request |", "|---|---|---|"];
  for (const phase of phases) {
    const commands = [...phase.commands].sort((a, b) => b[1] - a[1]).map(([name, calls]) => `${name} ${(calls / phase.count).toFixed(2)}`).join(", ");
    lines.push(`| ${phase.name} | ${Math.round(phase.instructions / phase.count)} | ${commands} |`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();

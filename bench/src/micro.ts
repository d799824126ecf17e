/**
 * Driver micro-benchmark (tinybench): one session load + one commit through each sess driver, against
 * the raw client sending the very same Redis commands (HGETALL, then FCALL of the same function, or
 * EVALSHA of the same script where the server has no functions, with the same keys and arguments,
 * captured with MONITOR from the driver itself).
 *
 * Two shapes: sequential (one operation at a time: round-trip bound) and 50 in flight (client and
 * driver CPU bound, like a loaded server). Also the full manager path (open + increment + commit).
 *
 * Usage: node --import tsx src/micro.ts [--redis=redis://127.0.0.1:port] [--time=ms] [--json]
 * Without --redis it starts its own redis-server on a free port.
 */
import { once } from "node:events";
import { Bench } from "tinybench";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createSessionManager, sessionIdOf, type SessionChange, type SessionDriver } from "@sess/core";
import { createIoredisDriver } from "@sess/ioredis";
import { createNodeRedisDriver } from "@sess/node-redis";
import { startRedisServer } from "@sess/redis-server";
import { payloadFor } from "./shared.js";

export interface MicroRow {
  client: "ioredis" | "node-redis";
  shape: string;
  sessOps: number;
  rawOps: number;
  ratio: number;
}

export interface MicroResult {
  timeMs: number;
  rows: MicroRow[];
  commands: { load: string; commit: string };
}

const argv = process.argv.slice(2);
const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const timeMs = Number(option("time") ?? 1_000);
const IN_FLIGHT = 50;

interface Raw {
  hgetall(key: string): Promise<unknown>;
  /** FCALL of the function `name`, or EVALSHA of the script whose SHA1 is `name`. */
  script(command: "fcall" | "evalsha", name: string, keys: string[], args: string[]): Promise<unknown>;
}

interface Subject {
  client: "ioredis" | "node-redis";
  driver: SessionDriver;
  raw: Raw;
  close(): Promise<void>;
}

/** Captures, with MONITOR, the commands one driver operation sends. */
async function capture(url: string, operation: () => Promise<unknown>): Promise<string[][]> {
  const connection = new Redis(url);
  const monitor = await connection.monitor();
  const seen: string[][] = [];
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source !== "lua" && args[0]?.toLowerCase() !== "monitor") seen.push(args);
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await operation();
  await new Promise((resolve) => setTimeout(resolve, 100));
  monitor.disconnect();
  connection.disconnect();
  return seen;
}

async function benchSubject(url: string, subject: Subject, prefix: string): Promise<{ rows: MicroRow[]; commands: { load: string; commit: string } }> {
  const manager = createSessionManager({ driver: subject.driver, onWarning: () => undefined });
  // A stored session with the realistic payload, created through the manager.
  const created = await manager.open({ header: () => undefined, secure: false });
  const { userId, cart, ...profile } = payloadFor("micro000001");
  created.session.login(userId);
  for (const [name, value] of Object.entries(profile)) created.session.set(name, value);
  for (const line of cart) created.session.set(`cart:${line.sku}`, line.qty);
  const { headers } = await created.commit();
  const cookie = headers.find(([name]) => name === "set-cookie")![1].split(";")[0]!;
  const token = cookie.slice(cookie.indexOf("=") + 1);
  const id = sessionIdOf(token);

  const change = (): SessionChange => {
    const now = Date.now();
    return { set: {}, remove: [], increment: { "cart:SKU-100231": 1 }, lastSeenAt: now, expiresAt: now + 1_800_000 };
  };
  const driverOp = async () => {
    await subject.driver.load(id);
    await subject.driver.update(id, change());
  };
  await driverOp(); // library loaded, connections warm
  const seen = await capture(url, driverOp);
  const load = seen.find((args) => args[0]!.toLowerCase() === "hgetall");
  const commit = seen.find((args) => args[0]!.toLowerCase() === "fcall" || args[0]!.toLowerCase() === "evalsha");
  if (!load || !commit || seen.length !== 2) throw new Error(`${subject.client}: expected HGETALL + FCALL or EVALSHA, saw ${seen.map((a) => a[0]).join(", ")}`);
  const [command, name, numkeys, ...rest] = commit as [string, string, string, ...string[]];
  const kind = command.toLowerCase() as "fcall" | "evalsha";
  const keys = rest.slice(0, Number(numkeys));
  const args = rest.slice(Number(numkeys));
  const nowIndex = args.findIndex((value) => /^\d{13}$/.test(value));
  const rawOp = async () => {
    await subject.raw.hgetall(load[1]!);
    if (nowIndex >= 0) args[nowIndex] = String(Date.now()); // same work as the driver: a fresh "now"
    await subject.raw.script(kind, name, keys, args);
  };
  const managerOp = async () => {
    const open = await manager.open({ header: (name) => (name === "cookie" ? cookie : undefined), secure: false });
    open.session.increment("cart:SKU-100231");
    await open.commit();
  };
  const many = (op: () => Promise<void>) => () => Promise.all(Array.from({ length: IN_FLIGHT }, op)).then(() => undefined);

  const bench = new Bench({ time: timeMs, warmupTime: Math.min(500, timeMs / 2) });
  bench
    .add("sess driver, sequential", driverOp)
    .add("raw client, sequential", rawOp)
    .add("sess manager, sequential", managerOp)
    .add("sess driver, 50 in flight", many(driverOp))
    .add("raw client, 50 in flight", many(rawOp))
    .add("sess manager, 50 in flight", many(managerOp));
  await bench.run();
  const ops = (name: string) => {
    const task = bench.getTask(name)!;
    const result = task.result;
    if (result.state !== "completed") throw new Error(`${subject.client} ${name}: ${result.state}`);
    return result.throughput.mean * (name.includes("in flight") ? IN_FLIGHT : 1);
  };
  const row = (shape: string, sessName: string, rawName: string): MicroRow => {
    const sessOps = ops(sessName);
    const rawOps = ops(rawName);
    return { client: subject.client, shape, sessOps, rawOps, ratio: sessOps / rawOps };
  };
  void prefix;
  return {
    rows: [
      row("driver load + commit, sequential", "sess driver, sequential", "raw client, sequential"),
      row("driver load + commit, 50 in flight", "sess driver, 50 in flight", "raw client, 50 in flight"),
      row("manager open + increment + commit, sequential", "sess manager, sequential", "raw client, sequential"),
      row("manager open + increment + commit, 50 in flight", "sess manager, 50 in flight", "raw client, 50 in flight"),
    ],
    commands: {
      load: `${load[0]!.toUpperCase()} <session key>`,
      commit: `${kind.toUpperCase()} ${kind === "fcall" ? name : `${name.slice(0, 8)}…`} ${numkeys} key(s), ${args.length} args`,
    },
  };
}

async function main(): Promise<void> {
  let url = option("redis");
  let stop = async () => {};
  if (url === undefined) {
    const server = await startRedisServer();
    url = server.url;
    stop = () => server.stop();
  }
  try {
    const io = new Redis(url);
    await once(io, "ready");
    const ioSubject: Subject = {
      client: "ioredis",
      driver: createIoredisDriver({ client: io, prefix: "micro-io" }),
      raw: {
        hgetall: (key) => io.hgetall(key),
        script: (command, name, keys, args) => io.call(command, name, keys.length, ...keys, ...args),
      },
      close: async () => {
        io.disconnect();
      },
    };
    const nr = createClient({ url });
    nr.on("error", () => undefined); // reported through the failing command
    await nr.connect();
    const nrSubject: Subject = {
      client: "node-redis",
      driver: createNodeRedisDriver({ client: nr, prefix: "micro-nr" }),
      raw: {
        hgetall: (key) => nr.hGetAll(key),
        script: (command, name, keys, args) => (command === "fcall" ? nr.fCall(name, { keys, arguments: args }) : nr.evalSha(name, { keys, arguments: args })),
      },
      close: async () => {
        await nr.close();
      },
    };
    const rows: MicroRow[] = [];
    let commands = { load: "", commit: "" };
    for (const subject of [ioSubject, nrSubject]) {
      const out = await benchSubject(url, subject, subject.client);
      rows.push(...out.rows);
      commands = out.commands;
      await subject.close();
    }
    const result: MicroResult = { timeMs, rows, commands };
    if (argv.includes("--json")) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      for (const r of rows) {
        process.stdout.write(
          `${r.client.padEnd(10)} ${r.shape.padEnd(50)} sess ${r.sessOps.toFixed(0).padStart(7)} ops/s  raw ${r.rawOps.toFixed(0).padStart(7)} ops/s  ratio ${r.ratio.toFixed(2)}\n`,
        );
      }
    }
  } finally {
    await stop();
  }
}

await main();

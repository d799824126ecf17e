/**
 * Chaos soak: steady load on the Express demo (both drivers, each on its own redis-server with
 * appendfsync always) while Redis is killed (-9) and restarted every 30 s and frozen (SIGSTOP) for
 * 2 s every 45 s. Counts requests, statuses, crashes (process-level errors, 500s), resurrections (a
 * logged-out token that works again) and cross-session leaks (a client seeing data not its own).
 *
 *   pnpm soak                      10 minutes
 *   SOAK_SECONDS=60 pnpm soak      1 minute (soak.test.ts runs this inside `pnpm test`)
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { startRedisServer, type RedisServer } from "@sess/redis-server";
import { openStore } from "../src/store.js";
import { boot, quiet, type Booted, type Client } from "./harness.js";

export interface SoakOptions {
  seconds: number;
  clientsPerDriver?: number;
  killEvery?: number;
  pauseEvery?: number;
  pauseFor?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  requests: number;
  statuses: Record<string, number>;
  crashes: number;
  resurrections: number;
  leaks: number;
  kills: number;
  pauses: number;
  heapMb: { before: number; after: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const clientsPerDriver = options.clientsPerDriver ?? 12;
  const killEvery = options.killEvery ?? 30_000;
  const pauseEvery = options.pauseEvery ?? 45_000;
  const pauseFor = options.pauseFor ?? 2_000;
  const result: SoakResult = { requests: 0, statuses: {}, crashes: 0, resurrections: 0, leaks: 0, kills: 0, pauses: 0, heapMb: { before: 0, after: 0 } };
  const onCrash = () => (result.crashes += 1);
  process.on("unhandledRejection", onCrash);
  process.on("uncaughtException", onCrash);
  const servers: RedisServer[] = [];
  const apps: Booted[] = [];
  const timers: NodeJS.Timeout[] = [];
  const loggedOut: Array<{ app: Booted; cookie: string }> = [];
  result.heapMb.before = Math.round(process.memoryUsage().heapUsed / 1e6);
  try {
    for (const driver of ["ioredis", "node-redis"] as const) {
      const server = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
      servers.push(server);
      apps.push(await boot("express", await openStore({ redisUrl: server.url, driver, prefix: "soak" }, quiet), { operationTimeout: 500 }));
    }
    const deadline = Date.now() + options.seconds * 1000;
    let chaos = Promise.resolve();
    const enqueue = (step: () => Promise<void>) => {
      chaos = chaos.then(step).catch((error: unknown) => log(`chaos step failed: ${String(error)}`));
    };
    timers.push(
      setInterval(() => {
        enqueue(async () => {
          for (const server of servers) server.kill("SIGKILL");
          result.kills += 1;
          await Promise.all(servers.map((server) => server.restart()));
          log(`[soak] ${new Date().toISOString()} Redis killed and restarted (${result.kills})`);
        });
      }, killEvery),
      setInterval(() => {
        enqueue(async () => {
          for (const server of servers) server.pause();
          result.pauses += 1;
          await sleep(pauseFor);
          for (const server of servers) server.resume();
          log(`[soak] ${new Date().toISOString()} Redis paused ${pauseFor} ms (${result.pauses})`);
        });
      }, pauseEvery),
    );

    const count = (status: number) => {
      result.requests += 1;
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status >= 500 && status !== 503) result.crashes += 1;
    };

    async function shopper(app: Booted, n: number): Promise<void> {
      while (Date.now() < deadline) {
        const me = `s${n}-${randomBytes(4).toString("hex")}`;
        const client: Client = app.client(me);
        const login = await client.call("POST", "/login", { username: me });
        count(login.status);
        if (login.status !== 200) {
          await sleep(50);
          continue;
        }
        const skus = new Set<string>();
        for (let step = 0; step < 40 && Date.now() < deadline; step++) {
          const sku = `${me}.${step % 5}`;
          const cart = await client.call("POST", "/cart", { sku });
          count(cart.status);
          if (cart.status === 200) skus.add(sku);
          const read = await client.call("GET", "/me");
          count(read.status);
          if (read.status === 200) {
            const foreign = Object.keys(read.body.cart as object).filter((key) => !key.startsWith(`${me}.`));
            if (read.body.username !== me || foreign.length > 0) result.leaks += 1;
          }
          if (read.status === 401) break; // session lost (e.g. a write refused as CONFLICT): start over
          if (cart.status === 503 || read.status === 503) await sleep(25);
        }
        const cookie = client.cookie;
        const logout = await client.call("POST", "/logout");
        count(logout.status);
        if (logout.status === 204 && cookie) {
          loggedOut.push({ app, cookie });
          const again = await app.client().call("GET", "/me", undefined, { cookie });
          count(again.status);
          if (again.status === 200) result.resurrections += 1;
        }
      }
    }

    await Promise.all(apps.flatMap((app) => Array.from({ length: clientsPerDriver }, (_, n) => shopper(app, n))));
    for (const timer of timers) clearInterval(timer);
    await chaos;
    for (const server of servers) server.resume();
    // Every logged-out token, once more, after all the kills and restarts.
    for (const { app, cookie } of loggedOut) {
      let answer = await app.client().call("GET", "/me", undefined, { cookie });
      for (let attempt = 0; answer.status === 503 && attempt < 100; attempt++) {
        await sleep(20);
        answer = await app.client().call("GET", "/me", undefined, { cookie });
      }
      if (answer.status === 200) result.resurrections += 1;
    }
    result.heapMb.after = Math.round(process.memoryUsage().heapUsed / 1e6);
    log(
      `[soak] ${options.seconds} s: requests ${result.requests}, statuses ${JSON.stringify(result.statuses)}, ` +
        `crashes ${result.crashes}, resurrections ${result.resurrections} (of ${loggedOut.length} logged-out tokens), ` +
        `cross-session leaks ${result.leaks}, kills ${result.kills}, pauses ${result.pauses}, heap ${result.heapMb.before} → ${result.heapMb.after} MB`,
    );
    return result;
  } finally {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(apps.map((app) => app.close().catch(() => undefined)));
    await Promise.all(servers.map((server) => server.stop()));
    process.off("unhandledRejection", onCrash);
    process.off("uncaughtException", onCrash);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const seconds = Number(process.env.SOAK_SECONDS ?? 600);
  runSoak({ seconds }).then(
    (result) => process.exit(result.crashes + result.resurrections + result.leaks === 0 ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

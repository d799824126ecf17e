/**
 * Test support: a Sentinel topology on loopback, one primary, one replica and three sentinels
 * (Debian's redis-sentinel: `redis-server <config> --sentinel`), every process on a free port and
 * stopped by its pid. Short timeouts (down after 1 s) keep failovers to a few seconds.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, startRedisServer, waitForPong, type RedisServer, type StartOptions } from "./index.js";

const run = promisify(execFile);
const HOST = "127.0.0.1";

export interface SentinelTopology {
  /** The master name the sentinels monitor: "mymaster". */
  readonly name: string;
  /** The sentinels' addresses. */
  readonly sentinels: { host: string; port: number }[];
  /** The two data servers, the first started as primary. */
  readonly servers: RedisServer[];
  /** The server the sentinels currently name as primary (asked of the first sentinel that answers). */
  primary(): Promise<RedisServer | undefined>;
  /** `SENTINEL FAILOVER <name>` on a sentinel. */
  failover(): Promise<void>;
  /**
   * Resolves once any sentinel names a primary other than `port`, with the milliseconds it took. All
   * sentinels are asked at once on every poll: the one that led the failover names the new primary
   * first, and the others learn it from its hello messages up to 2 s later, while a client that asks
   * the leader may already be writing to the new primary.
   */
  promotedFrom(port: number, timeoutMs?: number): Promise<number>;
  /**
   * Resolves once the server on `port` is a replica (the sentinels reconfigured a demoted primary),
   * with the milliseconds it took: from then on it refuses writes (READONLY). Default timeout 45 s:
   * a sentinel converts a former primary only on an INFO reply that comes at least 8 s after the one
   * where it first reported itself primary, and it asks a replica for INFO every 10 s, so the
   * demotion takes about 10 s, or 20 s when an INFO reply lands just short of the 8 s, and a
   * sentinel in TILT mode (its timer late by over 2 s on a loaded machine) does nothing for 30 s.
   */
  demoted(port: number, timeoutMs?: number): Promise<number>;
  /** Runs one command with redis-cli on a port (primary, replica or sentinel) and resolves its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** Stops every process by pid. Idempotent. */
  stop(): Promise<void>;
}

export interface SentinelOptions extends StartOptions {
  /** `down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
  /** `failover-timeout`. Default 3000. */
  failoverTimeoutMs?: number;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", HOST, "-p", String(port), ...args], { timeout: 2_000 });
  return stdout.trim();
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      if (await condition()) return Date.now() - started;
    } catch {
      // not answering yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`sentinel topology: ${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stopSentinel(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.kill(pid, "SIGKILL"), 2_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    process.kill(pid, "SIGTERM");
  });
}

/** Starts the topology and waits until every sentinel knows the replica and the two other sentinels. */
export async function startSentinelTopology(options: SentinelOptions = {}): Promise<SentinelTopology> {
  const name = "mymaster";
  const dir = mkdtempSync(join(tmpdir(), "sess-sentinel-"));
  const servers: RedisServer[] = [];
  const children: ChildProcess[] = [];
  const sentinels: { host: string; port: number }[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...children.map(stopSentinel), ...servers.map((server) => server.stop())]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const primary = await startRedisServer({ args: options.args ?? [] });
    servers.push(primary);
    servers.push(await startRedisServer({ args: [...(options.args ?? []), "--replicaof", HOST, String(primary.port)] }));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        config,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${primary.port} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3_000}`,
          `sentinel parallel-syncs ${name} 1`,
          "",
        ].join("\n"),
      );
      const child = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
      children.push(child);
      process.once("exit", () => child.kill("SIGKILL"));
      sentinels.push({ host: HOST, port });
      await waitForPong(port);
    }
    await until(
      "replica in sync",
      async () => (await cli(servers[1]!.port, "INFO", "replication")).includes("master_link_status:up"),
      10_000,
    );
    await until(
      "sentinels know the replica and each other",
      async () => {
        for (const sentinel of sentinels) {
          const info = await cli(sentinel.port, "INFO", "sentinel");
          if (!/slaves=1,sentinels=3/.test(info)) return false;
        }
        return true;
      },
      20_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  async function namedPrimary(sentinelPort: number): Promise<number | undefined> {
    const [, port] = (await cli(sentinelPort, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)).split("\n");
    return port === undefined ? undefined : Number(port);
  }

  async function primaryPort(): Promise<number | undefined> {
    for (const sentinel of sentinels) {
      try {
        const port = await namedPrimary(sentinel.port);
        if (port !== undefined) return port;
      } catch {
        // next sentinel
      }
    }
    return undefined;
  }

  return {
    name,
    sentinels,
    servers,
    async primary() {
      const port = await primaryPort();
      return servers.find((server) => server.port === port);
    },
    async failover() {
      await cli(sentinels[0]!.port, "SENTINEL", "FAILOVER", name);
    },
    promotedFrom: (port, timeoutMs = 20_000) =>
      until("a new primary", async () => {
        const named = await Promise.all(sentinels.map((sentinel) => namedPrimary(sentinel.port).catch(() => undefined)));
        return named.some((now) => now !== undefined && now !== port);
      }, timeoutMs),
    demoted: async (port, timeoutMs = 45_000) => {
      try {
        return await until("the demotion", async () => (await cli(port, "INFO", "replication")).includes("role:slave"), timeoutMs);
      } catch (error) {
        const tilted = await Promise.all(
          sentinels.map((sentinel) => cli(sentinel.port, "INFO", "sentinel").then((info) => /sentinel_tilt:1/.test(info), () => false)),
        );
        throw new Error(`${(error as Error).message} (sentinels in TILT mode: ${tilted.filter(Boolean).length} of ${sentinels.length})`);
      }
    },
    cli,
    stop,
  };
}

/**
 * Test support: real `redis-server` processes on free loopback ports.
 *
 * Every server gets its own temporary directory, persistence off (`--save "" --appendonly no`),
 * and is stopped by its pid. A process-exit hook SIGKILLs whatever a test forgot to stop.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const HOST = "127.0.0.1";

export interface RedisServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** pid of the current process (changes after `restart()`). */
  readonly pid: number;
  /** SIGTERM (SIGKILL after 2 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to the current process. */
  kill(signal: NodeJS.Signals): void;
  /** SIGSTOP: the server freezes with its sockets open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops the process and starts a new one on the same port (data is lost: persistence is off). */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** Extra `redis-server` arguments, e.g. `["--maxmemory", "1mb"]`. */
  args?: string[];
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGCONT");
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A free loopback port whose cluster bus port (port + 10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error("no free loopback port found");
}

/** Resolves when the server answers PING with PONG (LOADING and refused connections are retried). */
export async function waitForPong(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST);
      let data = "";
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once("error", () => done(false));
      socket.on("data", (chunk) => {
        data += chunk.toString();
        if (data.includes("\r\n")) done(data.startsWith("+PONG"));
      });
      socket.once("connect", () => socket.write("PING\r\n"));
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The message when no `redis-server` binary can be found. */
export const MISSING_REDIS_SERVER =
  "redis-server was not found on PATH: the tests start, stop, freeze and kill their own servers. " +
  "Install it (Debian: apt-get install redis-server redis-tools) or run `bash .ci/run`, which does.";

/** Whether a `redis-server` binary can be started from PATH. */
export async function hasRedisServer(): Promise<boolean> {
  try {
    await run("redis-server", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

function spawnServer(port: number, dir: string, args: string[]): ChildProcess {
  installExitHook();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "", ...args],
    { stdio: "ignore" },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }, 2_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGTERM");
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/** Starts a standalone server on a free loopback port. */
export async function startRedisServer(options: StartOptions = {}): Promise<RedisServer> {
  if (!(await hasRedisServer())) throw new Error(MISSING_REDIS_SERVER);
  const port = await freePort();
  return startOnPort(port, options.args ?? []);
}

async function startOnPort(port: number, args: string[]): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "sess-redis-"));
  let child = spawnServer(port, dir, args);
  let stopped = false;
  try {
    await waitForPong(port);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const pidOf = (): number => {
    if (child.pid === undefined) throw new Error("redis-server has no pid");
    return child.pid;
  };
  return {
    url: `redis://${HOST}:${port}`,
    host: HOST,
    port,
    get pid() {
      return pidOf();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
    kill(signal) {
      process.kill(pidOf(), signal);
    },
    pause() {
      process.kill(pidOf(), "SIGSTOP");
    },
    resume() {
      process.kill(pidOf(), "SIGCONT");
    },
    async restart() {
      await stopChild(child);
      child = spawnServer(port, dir, args);
      await waitForPong(port);
    },
  };
}

export interface RedisCluster {
  /** `redis://127.0.0.1:<port>` of every master. */
  readonly urls: string[];
  readonly nodes: { host: string; port: number }[];
  readonly pids: number[];
  /** Stops every node by pid. Idempotent. */
  stop(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", HOST, "-p", String(port), "cluster", "info"]);
  return stdout;
}

/** Starts a real Redis Cluster of `masters` (default 3) masters, no replicas, and waits for `cluster_state:ok` on every node. */
export async function startRedisCluster(options: StartOptions & { masters?: number } = {}): Promise<RedisCluster> {
  const count = options.masters ?? 3;
  const servers: RedisServer[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      servers.push(
        await startOnPort(port, [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "5000",
          ...(options.args ?? []),
        ]),
      );
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...servers.map((s) => `${HOST}:${s.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      while (!(await clusterInfo(server.port)).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error(`cluster node ${server.port} never reached cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    urls: servers.map((s) => s.url),
    nodes: servers.map((s) => ({ host: HOST, port: s.port })),
    pids: servers.map((s) => s.pid),
    stop: stopAll,
  };
}

/** `REDIS_URL` when set (the shared server a CI provides), else undefined. */
export function redisUrlFromEnv(): string | undefined {
  const url = process.env["REDIS_URL"];
  return url === undefined || url === "" ? undefined : url;
}
export { startSentinelTopology, type SentinelTopology, type SentinelOptions } from "./sentinel.js";

/** Child processes of a run: every one is tracked and stopped at the end, on failure and on SIGINT/SIGTERM. */
import { spawn, fork, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];
let exiting = false;

function killHard(): void {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

process.on("exit", killHard);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    console.error(`\n${signal}: stopping every process this run started…`);
    stopEverything()
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Registers an async cleanup (e.g. stopping redis-server), run by stopEverything. */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export async function stopEverything(): Promise<void> {
  await Promise.all([...children].map((child) => stopProcess(child)));
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
}

export interface AppProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  logFile: string;
}

/**
 * Starts one benchmark app (`node --import tsx src/apps/<file>`) on `port`, output to logs/<id>.log;
 * `node` is the Node binary that runs it (the runner's own by default).
 */
export function startApp(
  benchDir: string,
  id: string,
  file: string,
  port: number,
  redisUrl: string,
  extraNodeArgs: string[] = [],
  node: string = process.execPath,
  appEnv: Record<string, string> = {},
): AppProcess {
  const logDir = join(benchDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${id}.log`);
  const log = createWriteStream(logFile);
  const child = track(
    spawn(node, ["--import", "tsx", ...extraNodeArgs, join("src", "apps", file)], {
      cwd: benchDir,
      env: { ...process.env, ...appEnv, PORT: String(port), REDIS_URL: redisUrl, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  if (child.pid === undefined) throw new Error(`could not start ${id}`);
  return { child, pid: child.pid, port, url: `http://127.0.0.1:${port}`, logFile };
}

/** Forks the load generator (a separate process running autocannon). */
export function forkLoad(benchDir: string): ChildProcess {
  return track(fork(join(benchDir, "src", "load.ts"), [], { cwd: benchDir, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
}

/** Runs a TypeScript script as a child process (on `node`) and resolves its stdout. */
export function runScript(benchDir: string, file: string, args: string[], node: string = process.execPath): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(node, ["--import", "tsx", join("src", file), ...args], { cwd: benchDir, stdio: ["ignore", "pipe", "inherit"] }),
    );
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited with ${String(code)}`))));
  });
}

/** CPU time (ns) of every thread of a process, from /proc/<pid>/task/<tid>/schedstat. */
export function cpuTimeNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread exited between the listing and the read
    }
  }
  return total;
}

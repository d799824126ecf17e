/**
 * The load generator: a separate process (forked by the runner) driving autocannon programmatically.
 *
 * Protocol over IPC, per run: runner → {type:"run", …}; load → {type:"warm"} after the warm-up;
 * runner snapshots CPU time and Redis stats, then → {type:"go"}; load → {type:"result", …} after the
 * measurement. Every request carries one of the preloaded cookies, rotated across requests.
 */
import autocannon from "autocannon";
import { CATALOG } from "./shared.js";

/** A: 100% GET /me; B: 80% GET /me, 20% POST /cart; W: 100% POST /cart (profiles of the write path only). */
export type Workload = "A" | "B" | "W";

export interface RunRequest {
  type: "run";
  url: string;
  cookies: string[];
  workload: Workload;
  connections: number;
  warmupSeconds: number;
  /** Before the warm-up, one `GET /me` per cookie, so every session has been read (and renewed where due) before the window. */
  touchEvery: boolean;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export type LoadMessage = { type: "warm" } | { type: "result"; result: LoadResult } | { type: "error"; message: string };

type Setup = NonNullable<autocannon.Request["setupRequest"]>;

function requestsFor(workload: Workload, cookies: string[]): autocannon.Request[] {
  let next = Math.floor(Math.random() * cookies.length);
  let sku = 0;
  const withCookie: Setup = (req) => {
    next = (next + 1) % cookies.length;
    return { ...req, headers: { ...req.headers, cookie: cookies[next]! } };
  };
  const withCookieAndSku: Setup = (req) => {
    next = (next + 1) % cookies.length;
    sku = (sku + 1) % CATALOG.length;
    return { ...req, headers: { ...req.headers, cookie: cookies[next]! }, body: `{"sku":"${CATALOG[sku]!}"}` };
  };
  const me: autocannon.Request = { method: "GET", path: "/me", setupRequest: withCookie };
  if (workload === "A") return [me];
  const cart: autocannon.Request = {
    method: "POST",
    path: "/cart",
    headers: { "content-type": "application/json" },
    setupRequest: withCookieAndSku,
  };
  if (workload === "W") return [cart];
  return [me, me, me, me, cart]; // 80% GET /me, 20% POST /cart
}

/** Runs the workload for `seconds`, or, with `amount`, that many requests. */
function cannon(request: RunRequest, seconds: number, amount?: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        connections: request.connections,
        ...(amount === undefined ? { duration: seconds } : { amount }),
        requests: requestsFor(request.workload, request.cookies),
      },
      (error: Error | null, result: autocannon.Result) => {
        if (error) reject(error);
        else resolve(result);
      },
    );
    instance.on("error", reject);
  });
}

let go: (() => void) | null = null;

async function run(request: RunRequest): Promise<void> {
  // Cookies are rotated in order across requests, so as many reads as cookies read each session once:
  // a session renewal comes due for (every sess session, 60 s after its last) is then spent here
  // rather than in the window, however fast the machine gets through a timed warm-up.
  if (request.touchEvery) await cannon({ ...request, workload: "A" }, 0, request.cookies.length);
  if (request.warmupSeconds > 0) await cannon(request, request.warmupSeconds);
  const started = new Promise<void>((resolve) => {
    go = resolve;
  });
  process.send!({ type: "warm" } satisfies LoadMessage);
  await started;
  const result = await cannon(request, request.seconds);
  const out: LoadResult = {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  process.send!({ type: "result", result: out } satisfies LoadMessage);
}

process.on("message", (message: RunRequest | { type: "go" } | { type: "exit" }) => {
  if (message.type === "go") {
    go?.();
    go = null;
  } else if (message.type === "exit") {
    process.exit(0);
  } else if (message.type === "run") {
    run(message).catch((error: unknown) => {
      process.send!({ type: "error", message: String(error) } satisfies LoadMessage);
    });
  }
});
process.on("disconnect", () => process.exit(0));

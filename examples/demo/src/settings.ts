import { readFileSync } from "node:fs";

/** The demo's environment, read and checked once at start. */
export interface Settings {
  port: number;
  host: string;
  /** Unset → the in-memory driver. */
  redisUrl: string | undefined;
  driver: "ioredis" | "node-redis";
  /** Seconds. */
  idleTimeout: number;
  /** Seconds. */
  absoluteTimeout: number;
  maxPerUser: number | undefined;
  adminToken: string | undefined;
  trustProxy: boolean;
  /** Serve `GET /metrics` (Prometheus text format). */
  metrics?: boolean;
  /** Milliseconds; the session manager's per-operation deadline. Unset → core's default (1000). */
  operationTimeout?: number;
  /** PEM text of the CA that signs the Redis server's certificate (`rediss://`). Unset → Node's default CAs. */
  redisCa?: string;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const driver = env.SESSION_DRIVER || "ioredis";
  if (driver !== "ioredis" && driver !== "node-redis") {
    throw new Error(`SESSION_DRIVER must be "ioredis" or "node-redis", got "${driver}"`);
  }
  return {
    port: whole(env, "PORT", 3000, 0),
    host: env.HOST || "127.0.0.1",
    redisUrl: env.REDIS_URL || undefined,
    driver,
    idleTimeout: whole(env, "SESSION_IDLE_TIMEOUT", 1800, 1),
    absoluteTimeout: whole(env, "SESSION_ABSOLUTE_TIMEOUT", 43200, 1),
    maxPerUser: env.SESSION_MAX_PER_USER ? whole(env, "SESSION_MAX_PER_USER", 0, 1) : undefined,
    adminToken: env.ADMIN_TOKEN || undefined,
    trustProxy: env.TRUST_PROXY === "1" || env.TRUST_PROXY === "true",
    metrics: env.METRICS === "1" || env.METRICS === "true",
    ...(env.SESSION_OPERATION_TIMEOUT ? { operationTimeout: whole(env, "SESSION_OPERATION_TIMEOUT", 1000, 1) } : {}),
    ...(env.REDIS_CA_FILE ? { redisCa: readFileSync(env.REDIS_CA_FILE, "utf8") } : {}),
  };
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number of at least ${min}, got "${raw}"`);
  }
  return value;
}

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
  /** Take over express-session + connect-redis sessions (`MIGRATE_FROM=connect-redis`). */
  migrate?: MigrateSettings;
}

export interface MigrateSettings {
  from: "connect-redis";
  /** express-session's secrets (`MIGRATE_SECRET`, comma-separated). */
  secrets: string[];
  /** connect-redis's key prefix (`MIGRATE_PREFIX`, default `sess:`). */
  prefix: string;
  /** express-session's cookie name (`MIGRATE_COOKIE`, default `connect.sid`). */
  cookie: string;
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
    ...(env.MIGRATE_FROM ? { migrate: readMigrate(env) } : {}),
  };
}

function readMigrate(env: NodeJS.ProcessEnv): MigrateSettings {
  if (env.MIGRATE_FROM !== "connect-redis") throw new Error(`MIGRATE_FROM must be "connect-redis", got "${env.MIGRATE_FROM}"`);
  if (!env.REDIS_URL) throw new Error("MIGRATE_FROM=connect-redis needs REDIS_URL: the legacy sessions are read from that Redis");
  const secrets = (env.MIGRATE_SECRET ?? "").split(",").filter((secret) => secret !== "");
  if (secrets.length === 0) throw new Error("MIGRATE_FROM=connect-redis needs MIGRATE_SECRET: express-session's secret (comma-separated for several)");
  return { from: "connect-redis", secrets, prefix: env.MIGRATE_PREFIX ?? "sess:", cookie: env.MIGRATE_COOKIE || "connect.sid" };
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

/** Versions of Node, Redis and every library the apps use, as installed. */
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";

const LIBRARIES = [
  "express",
  "express-session",
  "connect-redis-8",
  "connect-redis-9",
  "koa",
  "koa-session",
  "koa-redis",
  "fastify",
  "@fastify/session",
  "@fastify/cookie",
  "hono",
  "@hono/node-server",
  "ioredis",
  "redis",
  "@sess/core",
  "@sess/express",
  "@sess/koa",
  "@sess/fastify",
  "@sess/web",
  "@sess/hono",
  "@sess/ioredis",
  "@sess/node-redis",
  "autocannon",
  "tinybench",
];

function versionOf(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

export function versions(benchDir: string, redisServer: string): Record<string, string> {
  const out: Record<string, string> = { node: process.version.slice(1), "redis-server": redisServer };
  for (const name of LIBRARIES) out[name] = versionOf(join(benchDir, "node_modules", name));
  // koa-redis brings its own ioredis 4.
  out["ioredis (inside koa-redis)"] = versionOf(join(realpathSync(join(benchDir, "node_modules", "koa-redis")), "..", "ioredis"));
  return out;
}

/** The version of a Node binary (`node --version`, without the v). */
export function nodeVersion(node: string): string {
  if (node === process.execPath) return process.version.slice(1);
  return execFileSync(node, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
}

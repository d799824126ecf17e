/** The benchmarked apps: one file each under src/apps, each started as its own process. */
export type Framework = "express" | "koa" | "fastify" | "hono";
export type Kind = "bare" | "incumbent" | "sess";

export interface AppSpec {
  id: string;
  label: string;
  file: string;
  framework: Framework;
  kind: Kind;
  /** SCAN pattern of the app's session keys (sampled for MEMORY USAGE; any schema version); null for bare apps. */
  sessionKeys: string | null;
  /** Libraries whose versions RESULTS.md lists. */
  libraries: string[];
  /** Environment variables the app is started with (the near-cache variants of the sess apps). */
  env?: Record<string, string>;
}

const BASE_APPS: AppSpec[] = [
  {
    id: "bare-express",
    label: "bare Express 5",
    file: "bare-express.ts",
    framework: "express",
    kind: "bare",
    sessionKeys: null,
    libraries: ["express"],
  },
  {
    id: "express-session-ioredis",
    label: "express-session + connect-redis 8 (ioredis)",
    file: "express-session-ioredis.ts",
    framework: "express",
    kind: "incumbent",
    sessionKeys: "cr8:*",
    libraries: ["express-session", "connect-redis-8", "ioredis"],
  },
  {
    id: "express-session-node-redis",
    label: "express-session + connect-redis 9 (node-redis)",
    file: "express-session-node-redis.ts",
    framework: "express",
    kind: "incumbent",
    sessionKeys: "cr9:*",
    libraries: ["express-session", "connect-redis-9", "redis"],
  },
  {
    id: "sess-express-ioredis",
    label: "sess Express (ioredis)",
    file: "sess-express-ioredis.ts",
    framework: "express",
    kind: "sess",
    sessionKeys: "sx-io:*:s:*",
    libraries: ["@sess/express", "@sess/ioredis", "ioredis"],
  },
  {
    id: "sess-express-node-redis",
    label: "sess Express (node-redis)",
    file: "sess-express-node-redis.ts",
    framework: "express",
    kind: "sess",
    sessionKeys: "sx-nr:*:s:*",
    libraries: ["@sess/express", "@sess/node-redis", "redis"],
  },
  {
    id: "bare-koa",
    label: "bare Koa 3",
    file: "bare-koa.ts",
    framework: "koa",
    kind: "bare",
    sessionKeys: null,
    libraries: ["koa"],
  },
  {
    id: "koa-session-redis",
    label: "koa-session + koa-redis",
    file: "koa-session-redis.ts",
    framework: "koa",
    kind: "incumbent",
    sessionKeys: "ks:*",
    libraries: ["koa-session", "koa-redis"],
  },
  {
    id: "sess-koa-ioredis",
    label: "sess Koa (ioredis)",
    file: "sess-koa-ioredis.ts",
    framework: "koa",
    kind: "sess",
    sessionKeys: "sk-io:*:s:*",
    libraries: ["@sess/koa", "@sess/ioredis", "ioredis"],
  },
  {
    id: "sess-koa-node-redis",
    label: "sess Koa (node-redis)",
    file: "sess-koa-node-redis.ts",
    framework: "koa",
    kind: "sess",
    sessionKeys: "sk-nr:*:s:*",
    libraries: ["@sess/koa", "@sess/node-redis", "redis"],
  },
  {
    id: "bare-fastify",
    label: "bare Fastify 5",
    file: "bare-fastify.ts",
    framework: "fastify",
    kind: "bare",
    sessionKeys: null,
    libraries: ["fastify"],
  },
  {
    id: "fastify-session-node-redis",
    label: "@fastify/session + connect-redis 9 (node-redis)",
    file: "fastify-session-node-redis.ts",
    framework: "fastify",
    kind: "incumbent",
    sessionKeys: "fs9:*",
    libraries: ["@fastify/session", "@fastify/cookie", "connect-redis-9", "redis"],
  },
  {
    id: "sess-fastify-ioredis",
    label: "sess Fastify (ioredis)",
    file: "sess-fastify-ioredis.ts",
    framework: "fastify",
    kind: "sess",
    sessionKeys: "sf-io:*:s:*",
    libraries: ["@sess/fastify", "@sess/ioredis", "ioredis"],
  },
  {
    id: "sess-fastify-node-redis",
    label: "sess Fastify (node-redis)",
    file: "sess-fastify-node-redis.ts",
    framework: "fastify",
    kind: "sess",
    sessionKeys: "sf-nr:*:s:*",
    libraries: ["@sess/fastify", "@sess/node-redis", "redis"],
  },
  {
    id: "bare-hono",
    label: "bare Hono 4 (@hono/node-server)",
    file: "bare-hono.ts",
    framework: "hono",
    kind: "bare",
    sessionKeys: null,
    libraries: ["hono", "@hono/node-server"],
  },
  {
    id: "sess-hono-ioredis",
    label: "sess Hono (ioredis)",
    file: "sess-hono-ioredis.ts",
    framework: "hono",
    kind: "sess",
    sessionKeys: "sh-io:*:s:*",
    libraries: ["@sess/hono", "@sess/web", "@sess/ioredis", "ioredis"],
  },
];

/** The near-cache variant of a sess app: the same file with BENCH_NEAR_CACHE=1, under its own key prefix. */
function nearVariantOf(id: string): AppSpec {
  const app = BASE_APPS.find((candidate) => candidate.id === id)!;
  return {
    ...app,
    id: `${id}-near`,
    label: app.label.replace(/\)$/, ", near cache)"),
    sessionKeys: app.sessionKeys!.replace(/^([^:]+):/, "$1-nc:"),
    env: { BENCH_NEAR_CACHE: "1" },
  };
}

export const APPS: AppSpec[] = [...BASE_APPS, ...["sess-express-ioredis", "sess-express-node-redis", "sess-koa-ioredis", "sess-koa-node-redis"].map(nearVariantOf)];

export function bareOf(app: AppSpec): AppSpec {
  return APPS.find((candidate) => candidate.framework === app.framework && candidate.kind === "bare")!;
}

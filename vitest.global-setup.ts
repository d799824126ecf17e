/**
 * One standalone redis-server for the whole test run (unless REDIS_URL is set), shared through
 * `inject("redisUrl")`. Tests isolate themselves with random key prefixes, never FLUSHDB.
 */
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { redisUrlFromEnv, startRedisServer } from "./packages/redis-server/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = redisUrlFromEnv();
  if (fromEnv !== undefined) {
    project.provide("redisUrl", fromEnv);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  return async () => {
    await server.stop();
  };
}

/**
 * One standalone redis-server for the whole test run (unless REDIS_URL is set), shared through
 * `inject("redisUrl")`. Tests isolate themselves with random key prefixes, never FLUSHDB.
 *
 * Where no redis-server binary exists but Docker does, the shared server can come from
 * testcontainers (when the user installed it: it is not a dependency of the project). Tests that
 * start, freeze and kill servers of their own still need the binary and say so.
 */
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { MISSING_REDIS_SERVER, hasRedisServer, redisUrlFromEnv, startRedisServer } from "./packages/redis-server/src/index.js";

interface Container {
  getHost(): string;
  getMappedPort(port: number): number;
  stop(): Promise<unknown>;
}

/** A redis:7.0 container through testcontainers, or null when it or Docker is not available. */
async function fromContainer(): Promise<{ url: string; stop: () => Promise<void> } | null> {
  const name = "testcontainers"; // optional: resolved only on machines that installed it
  let module: { GenericContainer: new (image: string) => { withExposedPorts(port: number): { start(): Promise<Container> } } };
  try {
    module = (await import(name)) as typeof module;
  } catch {
    return null;
  }
  try {
    const container = await new module.GenericContainer("redis:7.0").withExposedPorts(6379).start();
    return {
      url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
      stop: async () => {
        await container.stop();
      },
    };
  } catch {
    return null; // no Docker engine
  }
}

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
  if (!(await hasRedisServer())) {
    const container = await fromContainer();
    if (container === null) throw new Error(MISSING_REDIS_SERVER);
    project.provide("redisUrl", container.url);
    return container.stop;
  }
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  return async () => {
    await server.stop();
  };
}

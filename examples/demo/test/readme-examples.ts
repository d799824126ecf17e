/**
 * The root README's application examples, as written: found by their heading, saved with only the
 * port substituted, and put through the same checks whether they run against the workspace
 * builds (`readme.test.ts`) or a fresh project installed from the packed tarballs
 * (`readme-packed.test.ts`): started while Redis is down (they must listen and answer 503), then
 * served once Redis is up.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { expect } from "vitest";
import { startRedisServer } from "@sess/redis-server";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

/** The examples: README heading, file name. */
export const EXAMPLES = [
  ["## Express with ioredis", "express-ioredis.ts"],
  ["## Koa with node-redis", "koa-node-redis.ts"],
  ["## Fastify with ioredis", "fastify-ioredis.ts"],
  ["## Hono (and any Request/Response framework)", "hono-ioredis.ts"],
] as const;

/** The first ```ts block after `heading`. */
export function exampleAfter(heading: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no heading ${heading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  return match![1]!;
}

/** Saves the example of `heading` as `dir/name`, listening on `process.env.PORT` instead of 3000. */
export function writeExample(dir: string, heading: string, name: string): string {
  const source = exampleAfter(heading);
  expect(source.match(/\b3000\b/g), `${heading} listens on port 3000 once`).toHaveLength(1);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, source.replace(/\b3000\b/, "Number(process.env.PORT)"));
  return file;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Starts an example with Redis down (`start` spawns it with `PORT` and `REDIS_URL` in its
 * environment), expects 503 answers, starts Redis, then a session round trip and a logout.
 */
export async function checkExample(start: (env: NodeJS.ProcessEnv) => ChildProcess): Promise<void> {
  const redis = await startRedisServer();
  redis.kill("SIGKILL");
  await new Promise((resolve) => setTimeout(resolve, 200));
  const port = await freePort();
  const child = start({ ...process.env, PORT: String(port), REDIS_URL: redis.url });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    let down: Response | null = null;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && child.exitCode === null; ) {
      down = await fetch(`${url}/`).catch(() => null);
      if (down) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(down, output).not.toBeNull();
    expect(down!.status).toBe(503);
    expect(down!.headers.get("retry-after")).toBe("1");
    expect(down!.headers.getSetCookie()).toEqual([]);
    expect(((await down!.json()) as { error: string }).error).toBe("STORE_UNAVAILABLE");

    await redis.restart();
    let up: Response | null = null;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      up = await fetch(`${url}/`);
      if (up.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(up!.status, output).toBe(200);
    expect(await up!.json()).toEqual({ visits: 1, username: null });
    const cookie = up!.headers.getSetCookie()[0]!.split(";")[0]!;
    expect(await (await fetch(`${url}/`, { headers: { cookie } })).json()).toEqual({ visits: 2, username: null });
    const login = await fetch(`${url}/login`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: '{"username":"ada"}' });
    expect(login.status).toBe(200);
    const loggedIn = login.headers.getSetCookie()[0]!.split(";")[0]!;
    expect(loggedIn).not.toBe(cookie);
    expect(await (await fetch(`${url}/`, { headers: { cookie: loggedIn } })).json()).toEqual({ visits: 3, username: "ada" });
    const logout = await fetch(`${url}/logout`, { method: "POST", headers: { cookie: loggedIn } });
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);

    expect(child.exitCode, output).toBeNull();
    expect(child.signalCode).toBeNull();
    expect(output).not.toMatch(/Unhandled error event/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await redis.stop();
  }
}

/**
 * The root README's two application examples, run as written (only the port is substituted) with
 * the packages as built: type-checked under strict TypeScript, started while Redis is down (they
 * must listen and answer 503), then served once Redis is up.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { startRedisServer } from "@sess/redis-server";

const demo = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const dir = join(demo, ".tmp", `readme-${process.pid}`);
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The first ```ts block after `heading`. */
function exampleAfter(heading: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no heading ${heading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  return match![1]!;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

function write(name: string, source: string): string {
  mkdirSync(dir, { recursive: true });
  expect(source).toContain("app.listen(3000);");
  const file = join(dir, name);
  writeFileSync(file, source.replace("app.listen(3000);", "app.listen(Number(process.env.PORT));"));
  return file;
}

const examples = [
  ["## Express with ioredis", "express-ioredis.ts"],
  ["## Koa with node-redis", "koa-node-redis.ts"],
] as const;

describe("the root README's examples", () => {
  it("type-check under strict TypeScript (module nodenext)", async () => {
    const files = examples.map(([heading, name]) => write(name, exampleAfter(heading)));
    const tsc = join(demo, "../../node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", ...files];
    const result = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: demo }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe("");
  });

  it.each(examples)("%s starts while Redis is down, answers 503, then serves sessions once Redis is up", async (heading, name) => {
    const file = write(name, exampleAfter(heading));
    const redis = await startRedisServer();
    redis.kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: demo,
      env: { ...process.env, PORT: String(port), REDIS_URL: redis.url },
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;

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
    expect(up!.status).toBe(200);
    expect(await up!.json()).toEqual({ visits: 1, username: null });
    const cookie = up!.headers.getSetCookie()[0]!.split(";")[0]!;
    expect(await (await fetch(`${url}/`, { headers: { cookie } })).json()).toEqual({ visits: 2, username: null });
    const logout = await fetch(`${url}/logout`, { method: "POST", headers: { cookie } });
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);

    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    expect(output).not.toMatch(/Unhandled error event/);
    child.kill("SIGTERM");
    await once(child, "exit");
    await redis.stop();
  });
});

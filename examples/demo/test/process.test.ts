import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  child = undefined;
});

async function launch(entry: string, env: Record<string, string>): Promise<{ url: string; output: () => string }> {
  child = spawn(process.execPath, ["--import", "tsx", entry], { cwd: root, env: { ...process.env, ...env } });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const found = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
    if (found) return { url: found[1]!, output: () => output };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the demo did not start:\n${output}`);
}

describe.each([
  ["express", "src/express.ts"],
  ["koa", "src/koa.ts"],
  ["fastify", "src/fastify.ts"],
  ["hono", "src/hono.ts"],
])("the %s demo process", (_name, entry) => {
  it("prints one listening line and a one-line memory notice, and serves the API", async () => {
    const { url, output } = await launch(entry, { PORT: "0", HOST: "127.0.0.1", REDIS_URL: "" });
    expect(output().match(/listening on http:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(1);
    expect(output().match(/REDIS_URL is not set/g)).toHaveLength(1);
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ ok: true, store: "memory", latency: expect.any(Number) });
  });

  it("refuses to start with a bad setting and says which", async () => {
    child = spawn(process.execPath, ["--import", "tsx", entry], { cwd: root, env: { ...process.env, PORT: "0", SESSION_DRIVER: "mongo" } });
    let output = "";
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(1);
    expect(output).toMatch(/SESSION_DRIVER must be "ioredis" or "node-redis"/);
    expect(output).not.toMatch(/\n\s+at /);
  });
});

/**
 * The root README's application examples as a new user runs them: every package the examples use
 * packed with `pnpm pack`, installed with npm (strict peer resolution) from the tarballs into one
 * fresh project next to the frameworks and clients from the registry, compiled there with strict
 * TypeScript against the published types, and run with plain Node through the checks of
 * `readme-examples.ts` on a real redis-server.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmInstall, packageDir, packPackages } from "@sess/redis-server/packed";
import { checkExample, EXAMPLES, writeExample } from "./readme-examples.js";

const run = promisify(execFile);
const PACKED = ["core", "express", "koa", "fastify", "web", "hono", "ioredis", "node-redis"];
const REGISTRY = ["express@5", "koa@3", "fastify@5", "hono@4", "@hono/node-server@1", "ioredis@5", "redis@5", "typescript@5", "@types/express@5", "@types/koa@3"];

let work: string;
let project: string;
let installed: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sess-readme-"));
  const tarballs = await packPackages(PACKED.map(packageDir), join(work, "packs"));
  project = join(work, "app");
  installed = await npmInstall(project, [...tarballs, ...REGISTRY], { type: "module" });
  for (const [heading, name] of EXAMPLES) writeExample(join(project, "src"), heading, name);
}, 240_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("the root README's examples, installed from the packed tarballs", () => {
  it("install without a peer-dependency error and compile under strict TypeScript against the published types", async () => {
    expect(installed).not.toMatch(/ERESOLVE|peer dep/i);
    const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
    // --skipLibCheck, as `tsc --init` writes it: the checked code is the README's, against the published types.
    const args = ["--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", "--outDir", "out", ...EXAMPLES.map(([, name]) => join("src", name))];
    const result = await run(process.execPath, [tsc, ...args], { cwd: project }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe("");
  }, 60_000);

  it.each(EXAMPLES)("%s runs with plain Node: 503 while Redis is down, then sessions", async (_heading, name) => {
    const file = join(project, "out", name.replace(/\.ts$/, ".js"));
    await checkExample((env) => spawn(process.execPath, [file], { cwd: project, env }));
  });
});

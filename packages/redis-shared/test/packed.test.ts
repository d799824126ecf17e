/**
 * The published drivers as a user installs them: `pnpm pack` of @sess/core, @sess/ioredis and
 * @sess/node-redis, then `npm install` of the tarballs in an empty project next to each client
 * generation from the npm registry, with npm's default (strict) peer resolution. No ERESOLVE, and a
 * session round trip through each driver from plain Node (ESM and CommonJS) on the shared Redis.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { npmInstall, packageDir, packPackages } from "@sess/redis-server/packed";

const run = promisify(execFile);
const PACKAGES = ["core", "ioredis", "node-redis"].map(packageDir);

let work: string;
let tarballs: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sess-packed-"));
  tarballs = await packPackages(PACKAGES, join(work, "packs"));
}, 120_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

const ROUND_TRIP = `
const { createIoredisDriver } = require("@sess/ioredis");
const { createNodeRedisDriver } = require("@sess/node-redis");
const { Redis } = require("ioredis");
const { createClient } = require("redis");
(async () => {
  const url = process.argv[2];
  const ioredis = new Redis(url);
  await new Promise((resolve) => ioredis.once("ready", resolve));
  const esm = await Promise.all([import("@sess/ioredis"), import("@sess/node-redis")]);
  if (typeof esm[0].createIoredisDriver !== "function" || typeof esm[1].createNodeRedisDriver !== "function") throw new Error("ESM entry points");
  const nodeRedis = await createClient({ url }).connect();
  const now = Date.now();
  const session = { fields: { n: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60000, absoluteExpiresAt: now + 600000, user: { userId: "u" }, userAgent: null, ip: null };
  const out = [];
  for (const driver of [createIoredisDriver({ client: ioredis, prefix: "packed" + Math.random().toString(36).slice(2) }), createNodeRedisDriver({ client: nodeRedis, prefix: "packed" + Math.random().toString(36).slice(2) })]) {
    const id = "x".repeat(43);
    await driver.create(id, session);
    out.push([driver.name, (await driver.load(id)).fields.n, (await driver.listUserSessions("u")).length]);
  }
  console.log(JSON.stringify(out));
  ioredis.disconnect();
  await nodeRedis.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe.each([
  { clients: ["ioredis@6", "redis@6"], major: 6 },
  { clients: ["ioredis@5", "redis@5"], major: 5 },
])("packed drivers next to $clients", ({ clients, major }) => {
  it("install with npm without a peer-dependency error and run a session round trip on both drivers", async () => {
    const project = join(work, `app${major}`);
    const stderr = await npmInstall(project, [...tarballs, ...clients], { name: `app${major}` });
    expect(stderr).not.toMatch(/ERESOLVE|peer dep/i);
    const installed = JSON.parse((await run("npm", ["ls", "--json", "ioredis", "redis"], { cwd: project })).stdout) as {
      dependencies: Record<string, { version: string }>;
    };
    expect(installed.dependencies.ioredis!.version).toMatch(new RegExp(`^${major}\\.`));
    expect(installed.dependencies.redis!.version).toMatch(new RegExp(`^${major}\\.`));
    await writeFile(join(project, "round-trip.cjs"), ROUND_TRIP);
    const { stdout } = await run(process.execPath, ["round-trip.cjs", inject("redisUrl")], { cwd: project });
    expect(JSON.parse(stdout)).toEqual([
      ["ioredis", "1", 1],
      ["node-redis", "1", 1],
    ]);
  }, 180_000);
});

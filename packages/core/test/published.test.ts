import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packages = fileURLToPath(new URL("../../", import.meta.url));
/** Every package of the workspace that is not private. */
const PUBLISHED = readdirSync(packages).filter((name) => {
  const manifest = JSON.parse(readFileSync(join(packages, name, "package.json"), "utf8")) as { private?: boolean };
  return manifest.private !== true;
});

/** Every file `pnpm build` wrote to a published package's dist/. */
function distFiles(name: string): string[] {
  const dir = join(packages, name, "dist");
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((file) => join(dir, file));
}

describe("published packages (after pnpm build)", () => {
  it("are found", () => {
    expect(PUBLISHED).toEqual(expect.arrayContaining(["core", "express", "koa", "fastify", "web", "hono", "ioredis", "node-redis", "opentelemetry"]));
  });

  it.each(PUBLISHED)("@sess/%s ships no source map that would point at the unshipped src/*.ts", (name) => {
    const files = distFiles(name);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((file) => file.endsWith(".map"))).toEqual([]);
    const mapped = files.filter((file) => /\.(c|m)?js$/.test(file) && readFileSync(file, "utf8").includes("sourceMappingURL"));
    expect(mapped).toEqual([]);
    const { files: shipped } = JSON.parse(readFileSync(join(packages, name, "package.json"), "utf8")) as { files: string[] };
    expect(shipped).not.toContain("src");
  });
});

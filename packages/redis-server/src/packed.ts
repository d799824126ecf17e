/**
 * Test support: the published packages as a user gets them. `pnpm pack` of workspace packages into
 * a directory, and `npm install` of tarballs and registry packages into a fresh project with npm's
 * default (strict) peer resolution.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL("../../", import.meta.url));

/** The directory of every workspace package that is published (not `private`). */
export async function publishedPackageDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const name of (await readdir(PACKAGES)).sort()) {
    const manifest = await readFile(join(PACKAGES, name, "package.json"), "utf8").catch(() => null);
    if (manifest !== null && (JSON.parse(manifest) as { private?: boolean }).private !== true) dirs.push(join(PACKAGES, name));
  }
  return dirs;
}

/** The directory of the workspace package `packages/<name>`. */
export function packageDir(name: string): string {
  return join(PACKAGES, name);
}

/** Packs each package directory (built beforehand) into `destination`; resolves the tarballs' paths. */
export async function packPackages(dirs: string[], destination: string): Promise<string[]> {
  await mkdir(destination, { recursive: true });
  const before = new Set(await readdir(destination));
  for (const dir of dirs) await run("pnpm", ["pack", "--pack-destination", destination], { cwd: dir });
  return (await readdir(destination)).filter((file) => !before.has(file)).map((file) => join(destination, file));
}

/**
 * Creates `project` with a `package.json` (`manifest` merged in) and installs `specs` (tarball
 * paths and registry specs) with npm, strict peer resolution. Resolves npm's stderr.
 */
export async function npmInstall(project: string, specs: string[], manifest: Record<string, unknown> = {}): Promise<string> {
  await mkdir(project, { recursive: true });
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "fresh-app", private: true, ...manifest }));
  const install = await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...specs], {
    cwd: project,
    env: { ...process.env, npm_config_strict_peer_deps: "false", npm_config_legacy_peer_deps: "false", npm_config_force: "false" },
    maxBuffer: 16 * 1024 * 1024,
  });
  return install.stderr;
}

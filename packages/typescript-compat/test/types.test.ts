/**
 * The packages' types in a fresh TypeScript project that installed nothing but @sess/* (no
 * @types/node of its own, no `types` setting), checked with TypeScript 5 and TypeScript 7.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "sess-types-"));
  mkdirSync(join(project, "node_modules", "@sess"), { recursive: true });
  for (const name of ["core", "express", "koa"]) {
    symlinkSync(join(root, "packages", name), join(project, "node_modules", "@sess", name), "dir");
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", target: "es2022", noEmit: true }, files: ["app.ts"] }),
  );
  writeFileSync(
    join(project, "app.ts"),
    `import { sessionMiddleware, sessionErrorHandler, isSessionError } from "@sess/express";
import { sessionMiddleware as koaSessions } from "@sess/koa";
import { createMemoryDriver } from "@sess/core/memory";

interface MySession {
  username: string;
  [k: \`cart:\${string}\`]: number;
}

const sessions = sessionMiddleware<MySession>({ driver: createMemoryDriver() });
const koa = koaSessions<MySession>({ driver: createMemoryDriver() });
export const handler = sessionErrorHandler();
export function read(error: unknown): Record<string, string> | undefined {
  return isSessionError(error) ? error.headers : undefined;
}
export const manager = [sessions.manager, koa.manager];
`,
  );
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

const COMPILERS: Record<string, string> = {
  "TypeScript 5": join(root, "node_modules", "typescript", "bin", "tsc"),
  "TypeScript 7": join(root, "packages", "typescript-compat", "node_modules", "typescript7", "bin", "tsc"),
};

async function typeCheck(tsc: string): Promise<string> {
  return promisify(execFile)(process.execPath, [tsc, "-p", project], { cwd: project }).then(
    () => "",
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}` || String(error),
  );
}

describe("the types in a project without @types/node", () => {
  it.each(Object.keys(COMPILERS))("check with %s", async (name) => {
    expect(await typeCheck(COMPILERS[name]!)).toBe("");
  });
});

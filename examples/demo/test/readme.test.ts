/**
 * The root README's application examples, run as written (only the port is substituted) with the
 * packages as built: type-checked under strict TypeScript, then the checks of `readme-examples.ts`.
 * `readme-packed.test.ts` runs the same from the packed tarballs in a fresh project.
 */
import { execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { checkExample, EXAMPLES, writeExample } from "./readme-examples.js";

const demo = fileURLToPath(new URL("..", import.meta.url));
const dir = join(demo, ".tmp", `readme-${process.pid}`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the root README's examples", () => {
  it("type-check under strict TypeScript (module nodenext)", async () => {
    const files = EXAMPLES.map(([heading, name]) => writeExample(dir, heading, name));
    const tsc = join(demo, "../../node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", ...files];
    const result = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: demo }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe("");
  });

  it.each(EXAMPLES)("%s starts while Redis is down, answers 503, then serves sessions once Redis is up", async (heading, name) => {
    const file = writeExample(dir, heading, name);
    await checkExample((env) => spawn(process.execPath, ["--import", "tsx", file], { cwd: demo, env }));
  });
});

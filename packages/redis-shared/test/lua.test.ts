import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SCRIPTS, scripts } from "../src/index.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

describe("embed-lua --check", () => {
  it("passes on the committed generated module", async () => {
    await expect(run("node", [join(root, "scripts/embed-lua.mjs"), "--check"])).resolves.toBeDefined();
  });

  it("fails when an included file changed after generation", async () => {
    const copy = mkdtempSync(join(tmpdir(), "sess-embed-"));
    try {
      for (const dir of ["lua", "scripts", "src"]) cpSync(join(root, dir), join(copy, dir), { recursive: true });
      appendFileSync(join(copy, "lua", "include", "indexes.lua"), "-- changed\n");
      await expect(run("node", [join(copy, "scripts/embed-lua.mjs"), "--check"])).rejects.toMatchObject({ code: 1 });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("fails when a script changed after generation", async () => {
    const copy = mkdtempSync(join(tmpdir(), "sess-embed-"));
    try {
      for (const dir of ["lua", "scripts", "src"]) cpSync(join(root, dir), join(copy, dir), { recursive: true });
      appendFileSync(join(copy, "lua", "destroy-1.lua"), "-- changed\n");
      await expect(run("node", [join(copy, "scripts/embed-lua.mjs"), "--check"])).rejects.toMatchObject({ code: 1 });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe("scripts", () => {
  it("embeds every lua/<verb>-<numkeys>.lua with the SHA1 of its text and a header naming KEYS, ARGV and returns", () => {
    const files = readdirSync(join(root, "lua")).filter((name) => name.endsWith(".lua"));
    expect(Object.values(scripts).map((script) => `${script.name}.lua`).sort()).toEqual(files.sort());
    for (const script of Object.values(scripts)) {
      const file = readFileSync(join(root, "lua", `${script.name}.lua`), "utf8");
      const text = file.replace(/^-- include: ([a-z-]+\.lua)\n/gm, (_, name: string) =>
        readFileSync(join(root, "lua", "include", name), "utf8"),
      );
      expect(script.source).toBe(text);
      expect(script.sha1).toBe(createHash("sha1").update(text).digest("hex"));
      expect(text.startsWith(`-- ${script.name}:`)).toBe(true);
      expect(text).toMatch(/KEYS\[1\]/);
      expect(text).toMatch(/ARGV|no ARGV/);
      expect(text).toMatch(/Returns/);
    }
  });
});

describe("SCRIPTS", () => {
  it("describes each script with as many keys as its name and as many ARGV items as its header lists", () => {
    for (const [name, spec] of Object.entries(SCRIPTS)) {
      expect(spec.keys.length, name).toBe(spec.script.numkeys);
      // Every comment line, includes inlined (update-1 and rotate-2 take their layout from include/change.lua).
      const header = spec.script.source.split("\n").filter((line) => line.startsWith("--"));
      const positions = header.flatMap((line) => [...line.matchAll(/(?<!from )ARGV\[(\d+)\]/g)].map((match) => Number(match[1])));
      expect(Math.max(...positions), name).toBe(spec.argv.length);
      // A variable tail ("from ARGV[n]: ...") starts right after the described items.
      for (const line of header) {
        for (const match of line.matchAll(/from ARGV\[(\d+)\]/g)) expect(Number(match[1]), name).toBe(spec.argv.length + 1);
      }
    }
  });
});

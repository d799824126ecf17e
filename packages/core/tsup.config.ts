import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", memory: "src/memory.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  // One copy of shared modules (SessionError above all) for both entry points, in CJS too.
  splitting: true,
  // No source maps: they would point at src/*.ts, which the package does not ship; dist/*.js is readable as it is.
  sourcemap: false,
  target: "node20",
});

import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", memory: "src/memory.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  // One copy of shared modules (SessionError above all) for both entry points, in CJS too.
  splitting: true,
  sourcemap: true,
  target: "node20",
});

import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  // No source maps: they would point at src/*.ts, which the package does not ship; dist/*.js is readable as it is.
  sourcemap: false,
  target: "node20",
});

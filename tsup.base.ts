import { defineConfig, type Options } from "tsup";

/**
 * The build every published package shares: ESM and CJS for Node 20, declarations for both, no
 * source maps (they would point at src/*.ts, which no package ships; dist/*.js is readable as it is).
 * A package's tsup.config.ts passes its entries and what it does differently.
 */
export function packageConfig(options: Options) {
  return defineConfig({
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: false,
    target: "node20",
    ...options,
  });
}

/** Declarations that import node:http types reference @types/node (a dependency), so a project without it still resolves them. */
export const NODE_TYPES_DTS: Options["dts"] = { banner: "/// <reference types=\"node\" />" };

import { NODE_TYPES_DTS, packageConfig } from "../../tsup.base.js";

export default packageConfig({
  entry: { index: "src/index.ts", memory: "src/memory.ts", adapter: "src/adapter.ts" },
  dts: NODE_TYPES_DTS,
  // One copy of shared modules (SessionError above all) for every entry point, in CJS too.
  splitting: true,
});

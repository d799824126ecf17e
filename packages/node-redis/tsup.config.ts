import { packageConfig } from "../../tsup.base.js";

// The private @sess/redis-shared is bundled in, not a dependency.
export default packageConfig({ entry: { index: "src/index.ts" }, noExternal: ["@sess/redis-shared"] });

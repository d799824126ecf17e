import { NODE_TYPES_DTS, packageConfig } from "../../tsup.base.js";

export default packageConfig({ entry: { index: "src/index.ts" }, dts: NODE_TYPES_DTS });

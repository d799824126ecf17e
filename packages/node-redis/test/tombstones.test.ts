import { describeTombstones } from "@sess/driver-conformance/redis";
import { nodeRedisHarness } from "./clients.js";

describeTombstones(nodeRedisHarness);

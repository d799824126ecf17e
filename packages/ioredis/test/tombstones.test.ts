import { describeTombstones } from "@sess/driver-conformance/redis";
import { ioredisHarness } from "./clients.js";

describeTombstones(ioredisHarness);

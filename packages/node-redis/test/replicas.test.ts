import { describeReplicaAcknowledgement } from "@sess/driver-conformance/redis";
import { nodeRedisHarness } from "./clients.js";

describeReplicaAcknowledgement(nodeRedisHarness);

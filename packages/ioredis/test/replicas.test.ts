import { describeReplicaAcknowledgement } from "@sess/driver-conformance/redis";
import { ioredisHarness } from "./clients.js";

describeReplicaAcknowledgement(ioredisHarness);

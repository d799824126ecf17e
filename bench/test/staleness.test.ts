import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer } from "@sess/redis-server";
import type { RedisServer } from "@sess/redis-server";
import { CONFIGURATIONS, measure } from "../src/staleness.js";

/**
 * The near cache across two processes on one Redis: process A ends or updates a session, and as
 * soon as its write is answered process B, which holds the session in its near cache, loads it.
 * B must never answer with the state before A's write. 500 trials per driver and protocol here
 * (`pnpm --filter @sess/bench staleness` runs 1,000 and prints the latencies).
 */
const TRIALS = 500;

let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.stop();
});

describe("near cache staleness across two processes", () => {
  for (const configuration of CONFIGURATIONS) {
    it(`${configuration.driver} RESP${configuration.resp}: no stale answer after an end or an update`, async () => {
      const result = await measure(configuration, server.url, TRIALS);
      const counted = result.counted.end + result.counted.update;
      // A trial counts only when B held the session in its cache before A's write.
      expect(counted).toBeGreaterThanOrEqual(TRIALS * 0.9);
      expect(result.counted.end).toBeGreaterThan(0);
      expect(result.counted.update).toBeGreaterThan(0);
      expect(result.stale).toEqual({ end: 0, update: 0 });
      // B saw its entry dropped by the invalidation (the latency is measured from it).
      expect(Number.isFinite(result.p50)).toBe(true);
    }, 120_000);
  }
});

import { describe, expect, it } from "vitest";
import { createCluster, createSentinel } from "redis";
import { describeNearCache } from "@sess/driver-conformance/redis";
import { createNodeRedisDriver } from "../src/index.js";
import type { NodeRedisClient } from "../src/index.js";
import { nodeRedisHarness } from "./clients.js";

describeNearCache(nodeRedisHarness);

describe("nearCache", () => {
  const nearCache = { maxEntries: 10, maxAge: 1_000 };

  describe("on a cluster client", () => {
    it("is refused at construction with CONFIG_INVALID", () => {
      const client = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:1" }] }) as unknown as NodeRedisClient;
      expect(() => createNodeRedisDriver({ client, nearCache })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("Redis Cluster") }),
      );
    });
  });

  describe("on a sentinel client", () => {
    it("is refused at construction with CONFIG_INVALID", () => {
      const client = createSentinel({ name: "mymaster", sentinelRootNodes: [{ host: "127.0.0.1", port: 1 }] }) as unknown as NodeRedisClient;
      expect(() => createNodeRedisDriver({ client, nearCache })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("sentinel") }),
      );
    });
  });
});

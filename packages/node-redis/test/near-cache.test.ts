import { describe, expect, it } from "vitest";
import { createClient, createCluster, createSentinel } from "redis";
import { describeNearCache, describeSentinelNearCache } from "@sess/driver-conformance/redis";
import { startSentinelTopology } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
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
    const sentinel = () => createSentinel({ name: "mymaster", sentinelRootNodes: [{ host: "127.0.0.1", port: 1 }] }) as unknown as NodeRedisClient;

    it("without primaryClient is refused at construction with CONFIG_INVALID naming it", () => {
      expect(() => createNodeRedisDriver({ client: sentinel(), nearCache })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/sentinel client needs nearCache\.primaryClient/) }),
      );
    });

    it("with a primaryClient that is not a function is refused with CONFIG_INVALID", () => {
      const primaryClient = "redis://127.0.0.1:6379" as unknown as () => NodeRedisClient;
      expect(() => createNodeRedisDriver({ client: sentinel(), nearCache: { ...nearCache, primaryClient } })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("nearCache.primaryClient") }),
      );
    });
  });

  describe("primaryClient on a plain client", () => {
    it("is refused at construction with CONFIG_INVALID", () => {
      const client = createClient({ url: "redis://127.0.0.1:1" }) as unknown as NodeRedisClient;
      const primaryClient = () => client;
      expect(() => createNodeRedisDriver({ client, nearCache: { ...nearCache, primaryClient } })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/nearCache\.primaryClient.*only for a createSentinel\(\) client/) }),
      );
    });
  });
});

describe("nearCache on a sentinel client (primaryClient given)", () => {
  const sentinelOf = (topology: { name: string; sentinels: { host: string; port: number }[] }) =>
    createSentinel({ name: topology.name, sentinelRootNodes: topology.sentinels });
  describeSentinelNearCache<ReturnType<typeof sentinelOf>>({
    startTopology: () => startSentinelTopology(),
    connect: async (topology) => {
      const client = sentinelOf(topology);
      client.on("error", () => {});
      await client.connect();
      return client;
    },
    createDriver: (client, prefix, nearCache) =>
      createNodeRedisDriver({ client, prefix, nearCache: { ...nearCache, primaryClient: (primary) => createClient({ socket: primary }) } }),
    hset: (client, key, field, value) => client.hSet(key, field, value),
    drop: async (client) => {
      const ended = new Promise((resolve) => client.once("end", resolve));
      await client.destroy();
      await ended;
    },
    reconnects: false,
    close: async (client) => {
      if (client.isOpen) await client.destroy();
    },
    sessionKey: (prefix, id) => createKeySchema(prefix).session(id),
  });
});

import { describe, expect, it } from "vitest";
import { Cluster, Redis } from "ioredis";
import { describeNearCache, describeSentinelNearCache } from "@sess/driver-conformance/redis";
import { startSentinelTopology } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";
import { ioredisHarness, ready } from "./clients.js";

describeNearCache(ioredisHarness);

describe("nearCache", () => {
  describe("on a Cluster client", () => {
    it("is refused at construction with CONFIG_INVALID", () => {
      const client = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
      expect(() => createIoredisDriver({ client, nearCache: { maxEntries: 10, maxAge: 1_000 } })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("Redis Cluster") }),
      );
    });
  });
});

describe("a client with keyPrefix", () => {
  it("is refused at construction with CONFIG_INVALID naming the driver's prefix option, with or without nearCache", () => {
    const client = new Redis({ lazyConnect: true, keyPrefix: "app:" });
    for (const nearCache of [undefined, { maxEntries: 10, maxAge: 1_000 }]) {
      expect(() => createIoredisDriver({ client, nearCache })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/^invalid option "client": has keyPrefix "app:".*prefix: "app:sess" keeps the session keys as they are$/) }),
      );
    }
  });
});

describe("nearCache on a Sentinel client", () => {
  describeSentinelNearCache<Redis>({
    startTopology: () => startSentinelTopology(),
    connect: (topology) => ready(new Redis({ sentinels: topology.sentinels, name: topology.name })),
    createDriver: (client, prefix, nearCache) => createIoredisDriver({ client, prefix, nearCache }),
    hset: (client, key, field, value) => client.hset(key, field, value),
    drop: async (client) => {
      const closed = new Promise((resolve) => client.once("close", resolve));
      client.disconnect(true);
      await closed;
    },
    reconnects: true,
    close: (client) => client.disconnect(),
    sessionKey: (prefix, id) => createKeySchema(prefix).session(id),
  });
});

import { describe, expect, it } from "vitest";
import { Cluster } from "ioredis";
import { describeNearCache } from "@sess/driver-conformance/redis";
import { createIoredisDriver } from "../src/index.js";
import { ioredisHarness } from "./clients.js";

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

import { describe, expect, it } from "vitest";
import { MISSING_REDIS_SERVER, hasRedisServer, startRedisServer } from "../src/index.js";

describe("startRedisServer", () => {
  describe("when no redis-server binary is on PATH", () => {
    it("rejects with a message saying what to install", async () => {
      const path = process.env.PATH;
      process.env.PATH = "/nonexistent";
      try {
        expect(await hasRedisServer()).toBe(false);
        await expect(startRedisServer()).rejects.toThrow(MISSING_REDIS_SERVER);
      } finally {
        process.env.PATH = path;
      }
    });
  });

  it("finds the binary on this machine's PATH", async () => {
    expect(await hasRedisServer()).toBe(true);
  });
});

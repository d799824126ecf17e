import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { startRedisServer } from "@sess/redis-server";
import { createLegacyClaim, legacyFactories, scripts } from "../src/index.js";
import type { ScriptPort } from "../src/index.js";

/** The port on a real client, recording which command ran each script. */
function recorded(client: Redis): { port: ScriptPort; sent: string[] } {
  const sent: string[] = [];
  const port: ScriptPort = {
    evalsha: (sha1, keys, args) => {
      sent.push(`EVALSHA ${sha1 === scripts.claim.sha1 ? "claim" : sha1 === scripts.settle.sha1 ? "settle" : "?"}`);
      return client.evalsha(sha1, keys.length, ...keys, ...args);
    },
    eval: (source, keys, args) => {
      sent.push(`EVAL ${source === scripts.claim.source ? "claim" : source === scripts.settle.source ? "settle" : "?"}`);
      return client.eval(source, keys.length, ...keys, ...args);
    },
  };
  return { port, sent };
}

describe("createLegacyClaim(port)", () => {
  it("runs claim-1 and settle-1 by EVALSHA, with EVAL only after NOSCRIPT, and claims a legacy key once", async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      await client.connect();
      const { port, sent } = recorded(client);
      const claim = createLegacyClaim(port);
      await client.set("legacy:a", JSON.stringify({ username: "ada" }), "PX", 60_000);
      await client.set("legacy:b", JSON.stringify({ username: "bob" }), "PX", 60_000);
      await client.set("legacy:garbled", "{not json", "PX", 60_000);

      const first = await claim("legacy:a", 1_000, 60_000);
      expect(first).toMatchObject({ status: "claimed", legacy: { username: "ada" } });
      expect(await claim("legacy:a", 2_000, 60_000)).toEqual({ status: "busy" });
      expect(await claim("legacy:missing", 2_000, 60_000)).toEqual({ status: "none" });
      expect(await claim("legacy:garbled", 2_000, 60_000)).toEqual({ status: "none" });
      expect(await client.get("legacy:garbled")).toBe("{not json");
      if (first.status !== "claimed") throw new Error("unreachable");
      await first.finish();
      expect(await client.exists("legacy:a")).toBe(0);

      const second = await claim("legacy:b", 1_000, 60_000);
      if (second.status !== "claimed") throw new Error(`expected a claim, got ${second.status}`);
      await second.abandon();
      expect(await client.get("legacy:b")).toBe(JSON.stringify({ username: "bob" }));
      expect(await client.pttl("legacy:b")).toBeGreaterThan(50_000);

      // A fresh server knows no script: the first run of each is EVALSHA, NOSCRIPT, then EVAL.
      expect(sent.slice(0, 2)).toEqual(["EVALSHA claim", "EVAL claim"]);
      expect(sent.filter((command) => command.startsWith("EVAL "))).toEqual(["EVAL claim", "EVAL settle"]);
      expect(sent.filter((command) => command.startsWith("EVALSHA"))).toHaveLength(sent.length - 2);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

describe("legacyFactories(expected, method, send)", () => {
  const { fromConnectRedis } = legacyFactories<{ call(...args: string[]): Promise<unknown> }>("an ioredis client", "call", (client, command) =>
    client.call(...command),
  );

  it("throws CONFIG_INVALID naming legacy.client for a client without the method", () => {
    expect(() => fromConnectRedis({ client: { sendCommand: () => null } as never, secret: "s" })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/legacy\.client.*an ioredis client/) }),
    );
    expect(() => fromConnectRedis(null as never)).toThrow(/fromConnectRedis/);
  });
});

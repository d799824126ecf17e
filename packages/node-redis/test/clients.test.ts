import { afterAll, describe, expect, inject, it } from "vitest";
import { createNodeRedisDriver } from "../src/index.js";
import { NODE_REDIS_KINDS, close, connected } from "./clients.js";
import type { NodeRedisFamilyClient } from "./clients.js";

const clients: NodeRedisFamilyClient[] = [];

afterAll(() => {
  clients.forEach(close);
});

describe.each(NODE_REDIS_KINDS)("$name", (kind) => {
  it("verify() reads the server settings", async () => {
    const client = await connected(kind.standalone(inject("redisUrl")));
    clients.push(client);
    const report = await createNodeRedisDriver({ client, prefix: "v" }).verify({ onWarning: () => {} });
    expect(report.commandsChecked).toBe(true);
    expect(report.settings).toMatchObject({ appendonly: expect.any(String), maxmemory: expect.any(String), "maxmemory-policy": expect.any(String) });
  });
});

import { afterAll, describe, expect, inject, it } from "vitest";
import { createIoredisDriver } from "../src/index.js";
import { IOREDIS_KINDS, ready } from "./clients.js";
import type { IoredisFamilyClient } from "./clients.js";

const clients: IoredisFamilyClient[] = [];

afterAll(() => {
  for (const client of clients) (client as unknown as { disconnect(): void }).disconnect();
});

describe.each(IOREDIS_KINDS)("$name", (kind) => {
  it("verify() reads the server settings", async () => {
    const client = await ready(kind.standalone(inject("redisUrl")));
    clients.push(client);
    const report = await createIoredisDriver({ client, prefix: "v" }).verify({ onWarning: () => {} });
    expect(report.commandsChecked).toBe(true);
    expect(report.settings).toMatchObject({ appendonly: expect.any(String), maxmemory: expect.any(String), "maxmemory-policy": expect.any(String) });
  });
});

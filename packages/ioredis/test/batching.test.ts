import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { newToken, sessionIdOf } from "@sess/core";
import { startRedisServer } from "@sess/redis-server";
import type { RedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";

let server: RedisServer;
let client: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { lazyConnect: true });
  await client.connect();
});

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

interface CountedSocket {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

/** Counts the writes the client's socket hands to the operating system (one `_write` or `_writev` each) while `action` runs. */
async function socketWrites(action: () => Promise<unknown>): Promise<number> {
  const socket = (client as unknown as { stream: CountedSocket }).stream;
  const write = socket._write;
  const writev = socket._writev;
  let writes = 0;
  socket._write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return write.apply(this, args);
  };
  if (writev) {
    socket._writev = function (this: unknown, ...args: unknown[]) {
      writes++;
      return writev.apply(this, args);
    };
  }
  try {
    await action();
  } finally {
    socket._write = write;
    if (writev) socket._writev = writev;
  }
  return writes;
}

const minute = (now: number) => ({ createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });

describe("load", () => {
  it("sends the loads of one event-loop turn in one socket write, each answered", async () => {
    const driver = createIoredisDriver({ client, prefix: `b${Math.random().toString(36).slice(2, 10)}` });
    const now = Date.now();
    const ids = Array.from({ length: 10 }, () => sessionIdOf(newToken()));
    for (const [i, id] of ids.entries()) {
      await driver.create(id, { fields: { n: String(i) }, ...minute(now) });
    }
    let records: Awaited<ReturnType<typeof driver.load>>[] = [];
    const writes = await socketWrites(async () => {
      records = await Promise.all(ids.map((id) => driver.load(id)));
    });
    expect(writes).toBe(1);
    expect(records.map((record) => record?.fields.n)).toEqual(ids.map((_, i) => String(i)));
  });

  it("leaves the socket uncorked once the turn is over, so the application's own commands go out", async () => {
    const driver = createIoredisDriver({ client, prefix: `b${Math.random().toString(36).slice(2, 10)}` });
    await driver.load(sessionIdOf(newToken()));
    expect((client as unknown as { stream: { writableCorked: number } }).stream.writableCorked).toBe(0);
    expect(await client.ping()).toBe("PONG");
  });
});

describe("scripts", () => {
  it("sends the scripts of one event-loop turn in one socket write, each applied", async () => {
    const driver = createIoredisDriver({ client, prefix: `b${Math.random().toString(36).slice(2, 10)}` });
    const now = Date.now();
    const ids = Array.from({ length: 10 }, () => sessionIdOf(newToken()));
    await driver.create(sessionIdOf(newToken()), { fields: {}, ...minute(now) }); // the library is loaded: FCALL from here on
    const writes = await socketWrites(() => Promise.all(ids.map((id, i) => driver.create(id, { fields: { n: String(i) }, ...minute(now) }))));
    expect(writes).toBe(1);
    const records = await Promise.all(ids.map((id) => driver.load(id)));
    expect(records.map((record) => record?.fields.n)).toEqual(ids.map((_, i) => String(i)));
  });

  it("applies every script of a batch when the server has lost its libraries and scripts (Function not found, then FUNCTION LOAD)", async () => {
    const driver = createIoredisDriver({ client, prefix: `b${Math.random().toString(36).slice(2, 10)}` });
    const now = Date.now();
    await driver.create(sessionIdOf(newToken()), { fields: {}, ...minute(now) });
    await client.call("FUNCTION", "FLUSH");
    await client.script("FLUSH");
    const ids = Array.from({ length: 5 }, () => sessionIdOf(newToken()));
    await Promise.all(ids.map((id, i) => driver.create(id, { fields: { n: String(i) }, ...minute(now) })));
    const records = await Promise.all(ids.map((id) => driver.load(id)));
    expect(records.map((record) => record?.fields.n)).toEqual(ids.map((_, i) => String(i)));
    expect((client as unknown as { stream: { writableCorked: number } }).stream.writableCorked).toBe(0);
  });
});

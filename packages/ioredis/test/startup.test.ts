import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedisServer } from "@sess/redis-server";
import type { RedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";

/** The commands of the README's `ACL SETUSER` example (section "Redis commands used (ACL)"), plus the ready check's INFO and PING. */
const DOCUMENTED =
  /ACL SETUSER sess on >secret ~sess:\* ((?:\+[a-z|]+ ?)+)/.exec(readFileSync(new URL("../README.md", import.meta.url), "utf8"))![1]!.trim() +
  " +info +ping";

let plain: RedisServer;
let durable: RedisServer;
let evicting: RedisServer;
let admin: Redis;
const clients: Redis[] = [];

async function connect(url: string, options: { username?: string; password?: string } = {}): Promise<Redis> {
  const client = new Redis(url, { ...options, lazyConnect: true, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false });
  client.on("error", () => {});
  clients.push(client);
  await client.connect();
  return client;
}

beforeAll(async () => {
  [plain, durable, evicting] = await Promise.all([
    startRedisServer(),
    startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"] }),
    startRedisServer({ args: ["--appendonly", "yes", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] }),
  ]);
  admin = await connect(plain.url);
  await admin.call("ACL", "SETUSER", "full", "on", ">pw", "~app:*", ...DOCUMENTED.split(" "));
  await admin.call("ACL", "SETUSER", "nohincrby", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +hincrby", "").split(" "));
  await admin.call("ACL", "SETUSER", "norename", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +rename", "").split(" "));
  await admin.call("ACL", "SETUSER", "otherkeys", "on", ">pw", "~other:*", ...DOCUMENTED.split(" "));
  await admin.call("ACL", "SETUSER", "noeval", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +eval ", " ").split(" "));
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await Promise.all([plain?.stop(), durable?.stop(), evicting?.stop()]);
});

describe("driver.verify()", () => {
  it("passes for a user limited to the prefix with exactly the documented commands, and skips the CONFIG it may not read", async () => {
    const client = await connect(plain.url, { username: "full", password: "pw" });
    const warnings: string[] = [];
    const report = await createIoredisDriver({ client, prefix: "app" }).verify({ onWarning: (m) => warnings.push(m) });
    expect(report).toEqual({ commandsChecked: true, settings: {}, warnings: [] });
    expect(warnings).toEqual([]);
  });

  it("rejects with CONFIG_INVALID naming the missing command", async () => {
    for (const [user, missing] of [["nohincrby", "HINCRBY"], ["norename", "RENAME"]] as const) {
      const client = await connect(plain.url, { username: user, password: "pw" });
      const failure = createIoredisDriver({ client, prefix: "app" }).verify();
      await expect(failure).rejects.toMatchObject({ name: "SessionError", code: "CONFIG_INVALID" });
      await expect(failure).rejects.toThrow(new RegExp(`may not run ${missing} on keys under "app:"`));
    }
  });

  it("rejects with CONFIG_INVALID naming EVAL when the user may not run it", async () => {
    const client = await connect(plain.url, { username: "noeval", password: "pw" });
    await expect(createIoredisDriver({ client, prefix: "app" }).verify()).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/may not run EVAL/),
    });
  });

  it("rejects with CONFIG_INVALID naming the prefix when the user's key pattern does not cover it", async () => {
    const client = await connect(plain.url, { username: "otherkeys", password: "pw" });
    await expect(createIoredisDriver({ client, prefix: "app" }).verify()).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(/may not access keys under the prefix "app:"/),
    });
  });

  it("warns once, however often it runs, that sessions do not survive a restart without the append-only file", async () => {
    const driver = createIoredisDriver({ client: admin, prefix: "app" });
    const warnings: string[] = [];
    const first = await driver.verify({ onWarning: (m) => warnings.push(m) });
    await driver.verify({ onWarning: (m) => warnings.push(m) });
    expect(first.settings).toMatchObject({ appendonly: "no", "maxmemory-policy": "noeviction" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ioredis: Redis runs without the append-only file \(appendonly no\)/);
  });

  it("does not warn with appendonly yes and noeviction", async () => {
    const client = await connect(durable.url);
    const warnings: string[] = [];
    const report = await createIoredisDriver({ client }).verify({ onWarning: (m) => warnings.push(m) });
    expect(report.settings).toMatchObject({ appendonly: "yes", appendfsync: "everysec", "maxmemory-policy": "noeviction" });
    expect(warnings).toEqual([]);
  });

  it("warns that sessions can be evicted under an allkeys-* policy", async () => {
    const client = await connect(evicting.url);
    const warnings: string[] = [];
    await createIoredisDriver({ client }).verify({ onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/maxmemory-policy allkeys-lru.*can disappear before they expire/)]);
  });

  it("does not warn about a client that re-sends unfulfilled commands (ioredis's default): writes carry write ids", async () => {
    for (const options of [{}, { autoResendUnfulfilledCommands: true }]) {
      const client = new Redis(durable.url, { ...options, lazyConnect: true });
      client.on("error", () => {});
      clients.push(client);
      await client.connect();
      const warnings: string[] = [];
      const report = await createIoredisDriver({ client }).verify({ onWarning: (m) => warnings.push(m) });
      expect(report.warnings).toEqual([]);
      expect(warnings).toEqual([]);
    }
  });

  it("rejects with STORE_UNAVAILABLE when the client is not connected", async () => {
    const client = await connect(plain.url);
    client.disconnect();
    await expect(createIoredisDriver({ client }).verify()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});

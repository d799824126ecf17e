import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createSessionManager, newToken, sessionIdOf, tagOf } from "@sess/core";
import type { IndexPage, IndexSpec, SessionChange, SessionManager, UntypedData } from "@sess/core";
import { startRedisServer } from "@sess/redis-server";
import type { RedisServer } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";

/**
 * 10,000 sessions across 10 tenants on a private server (so INFO commandstats counts only this
 * file's commands): every count and listing equals the ground truth kept beside the writes.
 */
let server: RedisServer;
let admin: Redis;
let client: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
  client = new Redis(server.url, { lazyConnect: true });
  await client.connect();
});

afterAll(async () => {
  admin?.disconnect();
  client?.disconnect();
  await server?.stop();
});

const TOTAL = 10_000;
const TENANTS = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);
const SKUS = Array.from({ length: 40 }, (_, i) => `sku-${i}`);
const SPECS: IndexSpec[] = [
  { name: "tenant", field: "tenant" },
  { name: "cartSku", fieldPrefix: "cart:" },
];

interface Truth {
  token: string;
  tenant: string;
  skus: Set<string>;
  userId: string | null;
  expiresAt: number;
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

async function inBatches<T>(items: T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += width) await Promise.all(items.slice(start, start + width).map(task));
}

/** Calls per command since the last CONFIG RESETSTAT (commands run inside scripts included). */
async function commandStats(): Promise<Record<string, number>> {
  const text = await admin.info("commandstats");
  const stats: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) stats[match[1]!] = Number(match[2]);
  return stats;
}

async function allPages(manager: SessionManager<UntypedData>, index: string, value: string): Promise<string[]> {
  const ids: string[] = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const page: IndexPage = await manager.find(index, value, { offset, limit: 1000 });
    ids.push(...page.sessions.map((meta) => meta.id));
    offset = page.next;
  }
  return ids;
}

describe("manager.count and manager.find over 10,000 sessions", () => {
  it("equal the ground truth after expiry, destroy, rotation, updates, renewals and logouts, without SCAN or KEYS", async () => {
    const prefix = `q${Math.random().toString(36).slice(2, 8)}`;
    const driver = createIoredisDriver({ client, prefix });
    const manager = createSessionManager({ driver, indexes: { tenant: { field: "tenant" }, cartSku: { fieldPrefix: "cart:" } } });
    const next = random(42);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    await admin.config("RESETSTAT");

    const start = Date.now();
    // Short-lived sessions are created last, with a window that starts then: a busy machine creating
    // the 9,000 others slowly cannot let them expire before they are renewed.
    const SHORT = -1;
    let shortUntil = SHORT;
    const truth = new Map<string, Truth>();
    const ids: string[] = [];
    for (let i = 0; i < TOTAL; i += 1) {
      const token = newToken();
      const skus = new Set(Array.from({ length: Math.floor(next() * 5) }, () => pick(SKUS)));
      const userId = next() < 0.2 ? `user-${Math.floor(next() * 200)}` : null;
      const expiresAt = i % 10 === 0 ? SHORT : start + 600_000;
      const id = sessionIdOf(token);
      truth.set(id, { token, tenant: TENANTS[i % TENANTS.length]!, skus, userId, expiresAt });
      ids.push(id);
    }
    const create = async (id: string) => {
      const session = truth.get(id)!;
      const fields: Record<string, string> = { tenant: JSON.stringify(session.tenant), note: JSON.stringify("kept") };
      for (const sku of session.skus) fields[`cart:${sku}`] = "1";
      const created = await driver.create(id, {
        fields,
        createdAt: start,
        lastSeenAt: start,
        expiresAt: session.expiresAt,
        absoluteExpiresAt: start + 3_600_000,
        user: session.userId === null ? null : { userId: session.userId },
        userAgent: "load/1",
        ip: null,
        indexes: SPECS,
      });
      expect(created).not.toBeNull();
    };
    await inBatches(ids.filter((id) => truth.get(id)!.expiresAt !== SHORT), 500, create);
    shortUntil = Date.now() + 2_000;
    for (const session of truth.values()) if (session.expiresAt === SHORT) session.expiresAt = shortUntil;
    await inBatches(ids.filter((id) => truth.get(id)!.expiresAt === shortUntil), 500, create);
    const created = Date.now() - start;

    const change = (overrides: Partial<SessionChange>): SessionChange => ({
      set: {},
      remove: [],
      increment: {},
      lastSeenAt: Date.now(),
      expiresAt: start + 600_000,
      indexes: SPECS,
      ...overrides,
    });
    const long = ids.filter((id) => truth.get(id)!.expiresAt !== shortUntil);
    const short = ids.filter((id) => truth.get(id)!.expiresAt === shortUntil);

    // Renewed: 300 short-lived sessions get a later expiry and no field change.
    await inBatches(short.slice(0, 300), 100, async (id) => {
      expect(await driver.update(id, change({}))).not.toBeNull();
      truth.get(id)!.expiresAt = start + 600_000;
    });
    // Destroyed: 1,000.
    await inBatches(long.slice(0, 1000), 200, async (id) => {
      expect(await driver.destroy(id)).toBe(true);
      truth.delete(id);
    });
    // Rotated: 1,000, each adding one sku and dropping one it held.
    await inBatches(long.slice(1000, 2000), 200, async (fromId) => {
      const session = truth.get(fromId)!;
      const token = newToken(tagOf(fromId));
      const toId = sessionIdOf(token);
      const added = pick(SKUS);
      const dropped = [...session.skus].find((sku) => sku !== added);
      const rotation = { ...change({ increment: { [`cart:${added}`]: 1 }, remove: dropped === undefined ? [] : [`cart:${dropped}`] }), keepData: true };
      expect(await driver.rotate(fromId, toId, rotation)).not.toBeNull();
      truth.delete(fromId);
      if (dropped !== undefined) session.skus.delete(dropped);
      session.skus.add(added);
      truth.set(toId, { ...session, token, expiresAt: start + 600_000 });
    });
    // Updated: 1,000 move to another tenant, 1,000 empty their cart.
    await inBatches(long.slice(2000, 3000), 200, async (id) => {
      const session = truth.get(id)!;
      session.tenant = TENANTS[(TENANTS.indexOf(session.tenant) + 3) % TENANTS.length]!;
      expect(await driver.update(id, change({ set: { tenant: JSON.stringify(session.tenant) } }))).not.toBeNull();
    });
    await inBatches(long.slice(3000, 4000), 200, async (id) => {
      const session = truth.get(id)!;
      expect(await driver.update(id, change({ remove: [...session.skus].map((sku) => `cart:${sku}`) }))).not.toBeNull();
      session.skus.clear();
    });
    // Logged out everywhere: 40 users.
    const users = Array.from({ length: 40 }, (_, i) => `user-${i * 5}`);
    await inBatches(users, 10, async (userId) => {
      await manager.endUserSessions(userId);
    });
    for (const [id, session] of truth) if (session.userId !== null && users.includes(session.userId)) truth.delete(id);
    // Expired: what is left of the short-lived ones.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, shortUntil + 50 - Date.now())));
    for (const [id, session] of truth) if (session.expiresAt === shortUntil) truth.delete(id);

    const queried = Date.now();
    let checked = 0;
    const tokens = new Set([...truth.values()].map((session) => session.token));
    const keys = createKeySchema(prefix);
    for (const tenant of TENANTS) {
      const expected = [...truth].filter(([, session]) => session.tenant === tenant).map(([id]) => id).sort();
      expect(await manager.count("tenant", tenant)).toBe(expected.length);
      const listed = await allPages(manager, "tenant", tenant);
      expect(listed.sort()).toEqual(expected);
      for (const id of listed) expect(tokens.has(id) || id === keys.session(id)).toBe(false);
      checked += listed.length;
    }
    for (const sku of SKUS) {
      const expected = [...truth].filter(([, session]) => session.skus.has(sku)).map(([id]) => id).sort();
      expect(await manager.count("cartSku", sku)).toBe(expected.length);
      expect((await allPages(manager, "cartSku", sku)).sort()).toEqual(expected);
    }
    expect(checked).toBe(truth.size);
    expect(truth.size).toBeGreaterThan(5_000);
    const stats = await commandStats();
    expect(stats.scan ?? 0).toBe(0);
    expect(stats.keys ?? 0).toBe(0);

    // Cost of one count and of one page of 100.
    await admin.config("RESETSTAT");
    await manager.count("tenant", TENANTS[0]!);
    const countStats = await commandStats();
    await admin.config("RESETSTAT");
    const page = await manager.find("tenant", TENANTS[0]!, { limit: 100 });
    const findStats = await commandStats();
    expect(countStats).toMatchObject({ fcall: 1, zremrangebyscore: 1, zcard: 1 });
    expect(findStats).toMatchObject({ fcall: 1, zrange: 1, hmget: page.sessions.length });
    console.info(
      `10k queries: ${TOTAL} created in ${created} ms, ${truth.size} live checked in ${Date.now() - queried} ms; ` +
        `count: ${JSON.stringify(countStats)}; page of ${page.sessions.length}: ${JSON.stringify(findStats)}`,
    );
    await manager.close();
  }, 60_000);
});

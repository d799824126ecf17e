/**
 * Why collections are map fields: 10 parallel `POST /cart` on one session, each adding a different
 * SKU, over HTTP with Express, ioredis and a real Redis. A whole-object field (`cart: Record`) is
 * read, changed and written back whole by each request, so the last writes win; a map field
 * (`cart:<sku>`, one field per entry) keeps every entry. The README quotes the counts this prints.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionMiddleware } from "@sess/express";
import { createIoredisDriver } from "@sess/ioredis";
import { startRedisServer, type RedisServer } from "@sess/redis-server";

interface Shop {
  name: string;
  cart: Record<string, number>;
  [k: `item:${string}`]: number;
}

let redis: RedisServer;
let client: Redis;
let server: Server;
let url: string;

beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  client.on("error", () => {});
  const driver = createIoredisDriver({ client, prefix: `cart${process.pid}` });
  await driver.ready({ timeout: 5000 });
  const sessions = sessionMiddleware<Shop>({ driver });
  const app = express();
  app.use(express.json());
  app.use(sessions);
  app.post("/start", (req, res) => {
    sessions.of(req).set("name", "ada");
    res.json({ ok: true });
  });
  app.post("/cart/record", (req, res) => {
    const session = sessions.of(req);
    const sku = String(req.body.sku);
    const cart = session.get("cart") ?? {};
    session.set("cart", { ...cart, [sku]: (cart[sku] ?? 0) + 1 });
    res.json({ ok: true });
  });
  app.post("/cart/map", (req, res) => {
    sessions.of(req).map("item").increment(String(req.body.sku));
    res.json({ ok: true });
  });
  app.get("/cart", (req, res) => {
    const session = sessions.of(req);
    res.json({ record: Object.keys(session.get("cart") ?? {}).length, map: Object.keys(session.map("item").all()).length });
  });
  server = createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  client?.disconnect();
  await redis?.stop();
});

async function round(): Promise<{ record: number; map: number }> {
  const start = await fetch(`${url}/start`, { method: "POST" });
  const cookie = start.headers.getSetCookie()[0]!.split(";")[0]!;
  const post = (path: string, sku: string) =>
    fetch(`${url}${path}`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ sku }) });
  await Promise.all(Array.from({ length: 10 }, (_, i) => post("/cart/record", `sku${i}`)));
  await Promise.all(Array.from({ length: 10 }, (_, i) => post("/cart/map", `sku${i}`)));
  return (await (await fetch(`${url}/cart`, { headers: { cookie } })).json()) as { record: number; map: number };
}

describe("10 parallel POST /cart on one session", () => {
  it("keeps 10 of 10 SKUs as map fields, while a whole-object field keeps fewer", async () => {
    const rounds = [];
    for (let i = 0; i < 5; i++) rounds.push(await round());
    console.log(`record field kept ${rounds.map((r) => r.record).join(", ")} of 10; map fields kept ${rounds.map((r) => r.map).join(", ")} of 10`);
    expect(rounds.every((r) => r.map === 10)).toBe(true);
    expect(rounds.some((r) => r.record < 10)).toBe(true);
  });
});

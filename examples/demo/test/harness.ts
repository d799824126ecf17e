/** Boots the demo's real Express, Koa, Fastify or Hono app on loopback, with a cookie-keeping client. */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { SessionDriver } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { createDemo, type Demo } from "../src/api.js";
import { getRequestListener } from "@hono/node-server";
import { createExpressApp } from "../src/express-app.js";
import { createFastifyApp } from "../src/fastify-app.js";
import { createHonoApp } from "../src/hono-app.js";
import { createKoaApp } from "../src/koa-app.js";
import type { Settings } from "../src/settings.js";
import { openStore, type Store } from "../src/store.js";

export type Framework = "express" | "koa" | "fastify" | "hono";
export type StoreKind = "memory" | "ioredis" | "node-redis";

export const quiet = () => undefined;

export const frameworks: Framework[] = ["express", "koa", "fastify", "hono"];
export const storeKinds: StoreKind[] = ["memory", "ioredis", "node-redis"];
/** Every adapter with every store. */
export const combos = frameworks.flatMap((framework) => storeKinds.map((store) => [framework, store] as [Framework, StoreKind]));

let serial = 0;
/** A username unique per test: Redis runs share one server. */
export function uniqueUser(label: string): string {
  return `${label}.${process.pid}.${++serial}.${Math.random().toString(36).slice(2, 8)}`;
}

/** Boots the demo on `framework` with a fresh store of `kind` (Redis at `redisUrl`, a random prefix). */
export async function bootWith(framework: Framework, kind: StoreKind, redisUrl: string, settings: Partial<typeof defaults> = {}): Promise<Booted> {
  const store = kind === "memory" ? switchableMemoryStore() : await redisStore(kind, redisUrl);
  return boot(framework, store, settings);
}

export async function listener(framework: Framework, demo: Demo): Promise<RequestListener> {
  if (framework === "express") return createExpressApp(demo, quiet);
  if (framework === "fastify") {
    const app = await createFastifyApp(demo, quiet);
    return (req, res) => app.routing(req, res);
  }
  if (framework === "hono") {
    const handle = getRequestListener(createHonoApp(demo, quiet).fetch);
    return (req, res) => {
      void handle(req, res);
    };
  }
  const handle = createKoaApp(demo, quiet).callback();
  return (req, res) => {
    void handle(req, res);
  };
}

/** A memory store whose driver counts calls and can be switched off (a store outage). */
export function switchableMemoryStore(): Store & { calls: number; down: boolean } {
  const inner = createMemoryDriver();
  const store = {
    kind: "memory" as const,
    calls: 0,
    down: false,
    driver: undefined as unknown as SessionDriver,
    ping: async () => !store.down,
    close: () => inner.close(),
  };
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      store.calls += 1;
      if (store.down) throw new Error("connection refused");
      return fn(...args);
    };
  store.driver = {
    name: "memory",
    load: guard((id, at) => inner.load(id, at)),
    create: guard((id, s) => inner.create(id, s)),
    update: guard((id, c) => inner.update(id, c)),
    rotate: guard((a, b, r) => inner.rotate(a, b, r)),
    destroy: guard((id, o) => inner.destroy(id, o)),
    listUserSessions: guard((u, at) => inner.listUserSessions(u, at)),
    endUserSessions: guard((u, o) => inner.endUserSessions(u, o)),
    countIndex: guard((n, v, at) => inner.countIndex(n, v, at)),
    findIndex: guard((n, v, p) => inner.findIndex(n, v, p)),
    // Not counted in `calls`: a ping touches no session.
    ping: async () => {
      if (store.down) throw new Error("connection refused");
    },
    close: () => inner.close(),
  };
  return store;
}

export async function redisStore(kind: "ioredis" | "node-redis", url: string): Promise<Store> {
  return openStore({ redisUrl: url, driver: kind, prefix: `demo-test-${randomBytes(6).toString("hex")}` }, quiet);
}

export const defaults: Omit<Settings, "port" | "host" | "redisUrl" | "driver"> = {
  idleTimeout: 1800,
  absoluteTimeout: 43200,
  maxPerUser: undefined,
  adminToken: "admin-secret",
  trustProxy: false,
};

export interface Booted {
  url: string;
  demo: Demo;
  client(userAgent?: string): Client;
  close(): Promise<void>;
}

export async function boot(framework: Framework, store: Store, settings: Partial<typeof defaults> = {}): Promise<Booted> {
  const demo = createDemo({ ...defaults, ...settings }, store);
  const server: Server = createServer(await listener(framework, demo));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    demo,
    client: (userAgent) => new Client(url, userAgent),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
      await demo.close();
    },
  };
}

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes in assertions
  setCookie: string[];
  headers: Headers;
}

/** A browser-like client: keeps the session cookie it is given, drops it when cleared. */
export class Client {
  cookie: string | undefined;

  constructor(
    readonly url: string,
    readonly userAgent = "demo-test",
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        "user-agent": this.userAgent,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      redirect: "manual",
    });
    const setCookie = response.headers.getSetCookie();
    for (const line of setCookie) {
      const pair = line.split(";")[0]!;
      this.cookie = pair.endsWith("=") ? undefined : pair;
    }
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text), setCookie, headers: response.headers };
  }
}

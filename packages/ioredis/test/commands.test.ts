import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createSessionManager, newToken, sessionIdOf, tagOf } from "@sess/core";
import type { RequestInfo, Session, SessionDriver } from "@sess/core";
import { createKeySchema } from "@sess/redis-shared";
import { startRedisServer } from "@sess/redis-server";
import type { RedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../../node-redis/src/index.js";
import { createIoredisDriver } from "../src/index.js";
import { monitored } from "./monitored.js";

let server: RedisServer;
let admin: Redis;
let io: Redis;
let node: ReturnType<typeof createClient>;

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
  io = new Redis(server.url, { lazyConnect: true });
  await io.connect();
  node = createClient({ url: server.url });
  await node.connect();
});

afterAll(async () => {
  admin?.disconnect();
  io?.disconnect();
  await node?.close();
  await server?.stop();
});

const sent = (action: () => Promise<unknown>) => monitored(admin, action);

const drivers: { name: string; make: (prefix: string) => SessionDriver }[] = [
  { name: "ioredis", make: (prefix) => createIoredisDriver({ client: io, prefix }) },
  { name: "node-redis", make: (prefix) => createNodeRedisDriver({ client: node, prefix }) },
];

for (const { name, make } of drivers) {
  describe(`${name}: load`, () => {
    it("sends exactly one command (HGETALL) for a read while renewal is not due", async () => {
      const driver = make(`c${Math.random().toString(36).slice(2, 10)}`);
      const now = Date.now();
      const id = sessionIdOf(newToken());
      await driver.create(id, { fields: { a: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });
      expect(await sent(() => driver.load(id))).toEqual({ hgetall: 1 });
    });
  });

  describe(`${name}: load + update`, () => {
    it("takes two round trips (HGETALL, then one FCALL) once the library is loaded", async () => {
      const driver = make(`c${Math.random().toString(36).slice(2, 10)}`);
      const now = Date.now();
      const id = sessionIdOf(newToken());
      await driver.create(id, { fields: { n: "0" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });
      const change = { set: { b: '"x"' }, remove: [], increment: { n: 1 }, lastSeenAt: now + 1, expiresAt: now + 60_000 };
      await driver.update(id, change); // loads the library (Function not found -> FUNCTION LOAD)
      const delta = await sent(async () => {
        await driver.load(id);
        await driver.update(id, change);
      });
      expect(delta).toEqual({ hgetall: 1, fcall: 1 });
    });
  });
}

/** A 150-byte browser user agent. */
const LONG_USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86 Vivaldi/7.0.14";

for (const { name, make } of drivers) {
  describe(`${name}: compact storage`, () => {
    it("keeps a session in listpack encoding after 50 writes with a 150-byte user agent (default server settings)", async () => {
      expect(Buffer.byteLength(LONG_USER_AGENT)).toBe(150);
      expect(await admin.config("GET", "hash-max-listpack-value")).toEqual(["hash-max-listpack-value", "64"]);
      const prefix = `c${Math.random().toString(36).slice(2, 10)}`;
      const manager = createSessionManager({
        driver: make(prefix),
        maxSessionsPerUser: 3,
        indexes: { tenant: { field: "tenant" } },
        onWarning: () => {},
      });
      const request = (token?: string): RequestInfo => ({
        header: (header) => (header === "user-agent" ? LONG_USER_AGENT : header === "cookie" && token ? `sess=${token}` : undefined),
        secure: false,
      });
      let token: string | undefined;
      for (let i = 0; i < 50; i++) {
        const open = await manager.open(request(token));
        if (i === 0) open.session.login("ada");
        open.session.set("tenant", "acme");
        open.session.increment("visits");
        const { headers } = await open.commit();
        token = /sess=([^;]+)/.exec(headers.find(([header]) => header === "set-cookie")?.[1] ?? "")?.[1] ?? token;
      }
      const key = createKeySchema(prefix).session(sessionIdOf(token!));
      expect(await admin.hget(key, "visits")).toBe("50");
      expect(await admin.object("ENCODING", key)).toBe("listpack");
      for (const value of Object.values(await admin.hgetall(key))) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
    });
  });
}

/**
 * The requests of the README's round-trip table, through a manager with maxSessionsPerUser 3 and one
 * declared index, libraries already loaded. Each command a client sends waits for the previous reply
 * (every step needs what the last one answered), so the commands counted here are the round trips.
 */
for (const { name, make } of drivers) {
  describe(`${name}: round trips per request (maxSessionsPerUser 3, one declared index)`, () => {
    const setup = () => {
      const manager = createSessionManager({
        driver: make(`c${Math.random().toString(36).slice(2, 10)}`),
        maxSessionsPerUser: 3,
        indexes: { tenant: { field: "tenant" } },
        onWarning: () => {},
      });
      const request = (token?: string): RequestInfo => ({ header: (header) => (header === "cookie" && token ? `sess=${token}` : undefined), secure: false });
      /** One request: open with `token`, run `handler`, commit; resolves the token the client holds after it. */
      const step = async (token: string | undefined, handler: (session: Session) => void): Promise<string> => {
        const open = await manager.open(request(token));
        handler(open.session);
        const { headers } = await open.commit();
        return /sess=([^;]+)/.exec(headers.find(([header]) => header === "set-cookie")?.[1] ?? "")?.[1] ?? token!;
      };
      return { manager, step };
    };
    const stored = (s: Session) => s.set("tenant", "acme");

    beforeAll(async () => {
      // Loads every library into the server (Function not found -> FUNCTION LOAD), so the counts below are warm.
      const { step } = setup();
      for (let i = 0; i < 4; i++) await step(await step(undefined, stored), (s) => s.login("warm"));
      const token = await step(undefined, (s) => s.login("warm"));
      await step(await step(token, (s) => s.set("tenant", "other")), (s) => s.regenerate({ endOtherSessions: true }));
    });

    it("a write of an indexed field: HGETALL, then one FCALL", async () => {
      const { step } = setup();
      const token = await step(undefined, stored);
      expect(await sent(() => step(token, (s) => s.set("tenant", "globex")))).toEqual({ hgetall: 1, fcall: 1 });
    });

    it("a login of a stored session: HGETALL, then one FCALL", async () => {
      const { manager, step } = setup();
      const token = await step(undefined, stored);
      expect(await sent(() => step(token, (s) => s.login("ada")))).toEqual({ hgetall: 1, fcall: 1 });
      expect(await manager.listUserSessions("ada")).toHaveLength(1);
      expect(await manager.count("tenant", "acme")).toBe(1);
    });

    it("a login beyond the limit: HGETALL, then one FCALL that also ends the oldest session", async () => {
      const { manager, step } = setup();
      const earlier: string[] = [];
      for (let i = 0; i < 3; i++) earlier.push(sessionIdOf(await step(undefined, (s) => { stored(s); s.login("ada"); })));
      const token = await step(undefined, stored);
      expect(await manager.count("tenant", "acme")).toBe(4);
      let fresh = "";
      expect(await sent(async () => (fresh = await step(token, (s) => s.login("ada"))))).toEqual({ hgetall: 1, fcall: 1 });
      const ids = (await manager.listUserSessions("ada")).map((meta) => meta.id);
      expect(ids).toHaveLength(3);
      expect(ids).toContain(sessionIdOf(fresh));
      expect(earlier.filter((id) => !ids.includes(id))).toHaveLength(1); // one of the oldest (same login time) ended
      expect(await manager.count("tenant", "acme")).toBe(3);
    });

    it("a regenerate of a logged-in session: HGETALL, then one FCALL", async () => {
      const { manager, step } = setup();
      const token = await step(undefined, (s) => { stored(s); s.login("ada"); });
      expect(await sent(() => step(token, (s) => s.regenerate()))).toEqual({ hgetall: 1, fcall: 1 });
      expect(await manager.find("tenant", "acme")).toMatchObject({ sessions: [{ userId: "ada" }] });
    });

    it("a password change (regenerate({ endOtherSessions: true })): HGETALL, then one FCALL that also ends the user's other sessions", async () => {
      const { manager, step } = setup();
      const others = [];
      for (let i = 0; i < 2; i++) others.push(await step(undefined, (s) => { stored(s); s.login("ada"); }));
      await step(undefined, (s) => { stored(s); s.login("eve"); });
      const token = await step(undefined, (s) => { stored(s); s.login("ada"); });
      let fresh = "";
      expect(await sent(async () => (fresh = await step(token, (s) => s.regenerate({ endOtherSessions: true }))))).toEqual({ hgetall: 1, fcall: 1 });
      expect((await manager.listUserSessions("ada")).map((meta) => meta.id)).toEqual([sessionIdOf(fresh)]);
      for (const other of others) expect((await manager.open({ header: (h) => (h === "cookie" ? `sess=${other}` : undefined), secure: false })).session.isNew).toBe(true);
      expect(await manager.listUserSessions("eve")).toHaveLength(1);
      expect(await manager.count("tenant", "acme")).toBe(2); // the fresh session and eve's
    });
  });
}

for (const { name, make } of drivers) {
  describe(`${name}: a login whose user-sessions step fails`, () => {
    it("writes nothing: no live session can be missing from its user's sessions", async () => {
      const prefix = `c${Math.random().toString(36).slice(2, 10)}`;
      const driver = make(prefix);
      const keys = createKeySchema(prefix);
      const now = Date.now();
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken(tagOf(id)));
      await driver.create(id, { now, fields: { a: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });
      await admin.set(keys.user("ada"), "not a sorted set"); // the step fails (WRONGTYPE)
      const login = { now, set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: { userId: "ada", maxSessions: 3 }, keepData: true };
      await expect(driver.rotate(id, next, login)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(await driver.load(next)).toBeNull();
      expect(await driver.load(id)).toMatchObject({ userId: null, fields: { a: "1" } });
      // Once the key holds the user's sessions again, the same login binds and lists the session.
      await admin.del(keys.user("ada"));
      expect(await driver.rotate(id, next, login)).not.toBeNull();
      expect((await driver.listUserSessions("ada")).map((meta) => meta.id)).toEqual([next]);
    });
  });
}

describe("ioredis: login of a stored session (maxSessionsPerUser)", () => {
  it("sends no read of the binding: HGETALL, then the rotation, which runs the user-sessions and limit steps itself", async () => {
    const prefix = `c${Math.random().toString(36).slice(2, 10)}`;
    const manager = createSessionManager({ driver: createIoredisDriver({ client: io, prefix }), maxSessionsPerUser: 3, onWarning: () => {} });
    const request = (token?: string): RequestInfo => ({ header: (header) => (header === "cookie" && token ? `sess=${token}` : undefined), secure: false });
    const step = async (token: string | undefined, handler: (session: Session) => void) => {
      const open = await manager.open(request(token));
      handler(open.session);
      const { headers } = await open.commit();
      return /sess=([^;]+)/.exec(headers.find(([header]) => header === "set-cookie")?.[1] ?? "")?.[1] ?? token;
    };
    await step(undefined, (s) => s.login("warm")); // loads the libraries
    await step(await step(undefined, (s) => s.set("a", 1)), (s) => s.login("warm"));
    const token = await step(undefined, (s) => s.set("a", 1));
    expect(await sent(() => step(token, (s) => s.login("ada")))).toEqual({ hgetall: 1, fcall: 1 });
  });
});

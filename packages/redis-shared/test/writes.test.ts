/**
 * Write ids (lua/include/writes.lua) against a real redis-server: a script call that runs twice with
 * the same write id, as a client re-sending it after a lost reply would (ioredis's default
 * `autoResendUnfulfilledCommands`), writes once and answers as the first run did.
 *
 * The port below runs on an ioredis client and can "re-send" the next call of a script: it runs it
 * twice, drops the first reply (lost with the connection) and hands the second to the driver.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Redis } from "ioredis";
import { newToken, sessionIdOf, tagOf } from "@sess/core";
import type { IndexSpec, NewSession, SessionChange } from "@sess/core";
import { SCRIPTS, createKeySchema, createRedisDriver, scoredMembersOf, scripts } from "../src/index.js";
import { writeOutcome } from "../src/replies.js";

import type { RedisPort } from "../src/index.js";

let client: Redis;

beforeAll(async () => {
  client = new Redis(inject("redisUrl"), { lazyConnect: true });
  await client.connect();
});

afterAll(() => {
  client?.disconnect();
});

type ScriptName = keyof typeof scripts;
interface Sent {
  script: ScriptName;
  keys: string[];
  args: string[];
  reply: unknown;
}

const SPECS: IndexSpec[] = [
  { name: "tenant", field: "tenant" },
  { name: "cartSku", fieldPrefix: "cart:" },
];

function setup(oneServer = false) {
  const prefix = `w${Math.random().toString(36).slice(2, 10)}`;
  const keys = createKeySchema(prefix);
  const byHash = new Map<string, ScriptName>(Object.entries(scripts).map(([name, script]) => [script.sha1, name as ScriptName]));
  const sent: Sent[] = [];
  const resend = new Set<ScriptName>();
  let afterRead: (() => Promise<void>) | undefined;
  const port: RedisPort = {
    name: "test",
    oneServer,
    isReady: () => client.status === "ready",
    describeState: () => client.status,
    async evalsha(sha1, scriptKeys, args) {
      const script = byHash.get(sha1)!;
      let reply = await client.evalsha(sha1, scriptKeys.length, ...scriptKeys, ...args);
      if (resend.delete(script)) reply = await client.evalsha(sha1, scriptKeys.length, ...scriptKeys, ...args);
      sent.push({ script, keys: scriptKeys, args, reply });
      return reply;
    },
    async eval(source, scriptKeys, args) {
      const script = Object.values(scripts).find((s) => s.source === source)!;
      return this.evalsha(script.sha1, scriptKeys, args).catch(async () => {
        await client.script("LOAD", source);
        return this.evalsha(script.sha1, scriptKeys, args);
      });
    },
    hgetall: (key) => client.hgetall(key),
    async hmget(key, fields) {
      const values = await client.hmget(key, ...fields);
      const hook = afterRead;
      afterRead = undefined;
      await hook?.();
      return values;
    },
    zrangeWithScores: async (key) => scoredMembersOf(await client.zrange(key, "0", "-1", "WITHSCORES")),
    async zrem(key, members) {
      await client.zrem(key, ...members);
    },
  };
  const driver = createRedisDriver(port, { prefix });
  return {
    driver,
    keys,
    sent,
    /** The next call of `script` runs twice with the same arguments; the driver gets the second reply. */
    resendNext: (script: ScriptName) => resend.add(script),
    /** Runs once after the next HMGET returned (a concurrent change between the read and the write). */
    onNextRead: (hook: () => Promise<void>) => (afterRead = hook),
    last: (script: ScriptName) => sent.filter((s) => s.script === script).at(-1)!,
    /** Runs a recorded call again, as the client would re-send it (optionally with another write id). */
    replay: (call: Sent, writeId?: string) => {
      const args = [...call.args];
      if (writeId !== undefined) args[writeIdIndex(call.script)] = writeId;
      return client.evalsha(scripts[call.script].sha1, call.keys.length, ...call.keys, ...args);
    },
  };
}

/** Where the write id sits in ARGV (0-based), per the script headers. */
function writeIdIndex(script: ScriptName): number {
  if (script === "create") return SCRIPTS.create.argv.indexOf("writeId");
  if (script === "update" || script === "rotate") return SCRIPTS[script].argv.indexOf("writeId");
  throw new Error(`${script} carries no write id`);
}

function session(overrides: Partial<NewSession> = {}): NewSession {
  const now = Date.now();
  return {
    fields: {},
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 60_000,
    absoluteExpiresAt: now + 3_600_000,
    user: null,
    userAgent: null,
    ip: null,
    indexes: SPECS,
    ...overrides,
  };
}

function change(overrides: Partial<SessionChange> = {}): SessionChange {
  const now = Date.now();
  return { set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000, indexes: SPECS, ...overrides };
}

/** A raw script reply read as the driver reads it. */
const outcomeOf = (reply: unknown) => writeOutcome(reply, "write");

/** The times a written reply carries, kept by the store (no idle timeout of its own). */
const storedTimes = { expiresAt: expect.any(Number), lastSeenAt: expect.any(Number), absoluteExpiresAt: expect.any(Number), idleTimeout: null };

// Each group runs with the steps run by the driver (as on a Cluster) and inline in the session script.
describe.each([
  { steps: "run by the driver", oneServer: false },
  { steps: "inline", oneServer: true },
])("steps $steps", ({ oneServer }) => {
  describe("update-1 with a write id", () => {
    it("applies an increment once when the same call runs twice, and answers the counters of that single run", async () => {
      const { driver, keys, resendNext, last } = setup(oneServer);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { n: "0" } }));
      resendNext("update");
      expect((await driver.update(id, change({ set: { note: '"x"' }, increment: { n: 1 } })))?.counters).toEqual({ n: 1 });
      expect((await driver.load(id))?.fields).toEqual({ n: "1", note: '"x"' });
      const writeId = last("update").args[writeIdIndex("update")]!;
      expect(writeId).toMatch(/^[A-Za-z0-9_-]{8}$/); // 48 random bits
      expect((await client.hget(keys.session(id), "$w"))?.slice(-8)).toBe(writeId);
    });

    it("answers a re-sent call with the current values, writes nothing, and applies again under another write id", async () => {
      const { driver, keys, last, replay } = setup(oneServer);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { n: "0" } }));
      expect((await driver.update(id, change({ increment: { n: 1 } })))?.counters).toEqual({ n: 1 });
      const first = last("update");
      expect((await driver.update(id, change({ increment: { n: 10 } })))?.counters).toEqual({ n: 11 });
      const before = await client.hgetall(keys.session(id));
      // The first call, re-sent late: nothing written, the counter as it is now.
      expect(outcomeOf(await replay(first))).toMatchObject({ kind: "written", previousUserId: null, ended: [], endedOthers: [], counters: { n: 11 } });
      expect(await client.hgetall(keys.session(id))).toEqual(before);
      // The same arguments under a new write id are a new write.
      const again = (await replay(first, "another-id-1")) as unknown[];
      expect(again.slice(-2)).toEqual(["n", "12"]); // counters are answered as the stored text, last in the reply
      expect((await driver.load(id))?.fields.n).toBe("12");
    });

    it("lists the session under its current memberships and changes none when a re-sent call finds its id", async () => {
      const { driver, keys, resendNext } = setup(oneServer);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { tenant: '"acme"' } }));
      resendNext("update");
      expect((await driver.update(id, change({ set: { "cart:mug": "1" }, remove: ["tenant"] })))?.counters).toEqual({});
      expect(await driver.countIndex("cartSku", "mug")).toBe(1);
      expect((await driver.findIndex("cartSku", "mug", { offset: 0, limit: 10 })).sessions.map((s) => s.id)).toEqual([id]);
      // Not unlisted from "acme" (the lost first reply said so), but a listing checks the session's own memberships.
      expect((await driver.findIndex("tenant", '"acme"', { offset: 0, limit: 10 })).sessions).toEqual([]);
      expect(JSON.parse((await client.hget(keys.session(id), "$i"))!)).toEqual(["cartSku\0mug"]);
    });

    it("does not take an id that spans two kept ids for one of them", async () => {
      const { driver, keys, last, replay } = setup(oneServer);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { n: "0" } }));
      await driver.update(id, change({ increment: { n: 1 } }));
      await driver.update(id, change({ increment: { n: 1 } }));
      const kept = (await client.hget(keys.session(id), "$w"))!;
      // The end of the create's id and the start of the first update's: found by a plain search, but no id.
      const spanning = kept.slice(-20, -12);
      expect(spanning).toHaveLength(8);
      await replay(last("update"), spanning);
      expect((await driver.load(id))?.fields.n).toBe("3");
    });

    it("keeps the last 8 write ids, newest last", async () => {
      const { driver, keys, sent, replay } = setup(oneServer);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { n: "0" } }));
      for (let i = 0; i < 10; i++) await driver.update(id, change({ increment: { n: 1 } }));
      const updates = sent.filter((s) => s.script === "update");
      const ids = updates.map((s) => s.args[writeIdIndex("update")]!);
      expect(new Set(ids).size).toBe(10);
      const kept = await client.hget(keys.session(id), "$w");
      expect(kept).toBe(ids.slice(-8).join(""));
      expect(Buffer.byteLength(kept!)).toBeLessThanOrEqual(64); // one listpack value (hash-max-listpack-value 64)
      // Within the window a re-sent call is a no-op; the oldest ids are forgotten.
      await replay(updates[2]!);
      expect((await driver.load(id))?.fields.n).toBe("10");
      await replay(updates[0]!);
      expect((await driver.load(id))?.fields.n).toBe("11");
    });
  });

  describe("a value of another type under the session key", () => {
    it("answers update and rotation as missing and leaves the value as it was", async () => {
      const { driver, keys } = setup(oneServer);
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken(tagOf(id)));
      await client.set(keys.session(id), "not a session");
      expect(await driver.update(id, change({ set: { a: "1" }, increment: { n: 1 } }))).toBeNull();
      for (const keepData of [true, false]) expect(await driver.rotate(id, next, { ...change(), keepData })).toBeNull();
      expect(await client.get(keys.session(id))).toBe("not a session");
      expect(await client.exists(keys.session(next))).toBe(0);
    });

    it("still raises any other error of the session read (a user who may not run HMGET)", async () => {
      const { driver, last, replay } = setup(oneServer);
      const id = sessionIdOf(newToken());
      await driver.create(id, session({ fields: { n: "0" } }));
      await driver.update(id, change({ increment: { n: 1 } }));
      const user = `nohmget${Math.random().toString(36).slice(2, 8)}`;
      await client.acl("SETUSER", user, "on", ">pw", "~*", "+@all", "-hmget");
      const limited = new Redis(inject("redisUrl"), { username: user, password: "pw", lazyConnect: true });
      try {
        await limited.connect();
        const call = last("update");
        const args = [...call.args];
        args[writeIdIndex("update")] = "newwrite";
        await expect(limited.evalsha(scripts.update.sha1, call.keys.length, ...call.keys, ...args)).rejects.toThrow(/can't run this command/);
      } finally {
        limited.disconnect();
        await client.acl("DELUSER", user);
      }
      // Nothing was written by the refused call; the same call as the driver's user applies.
      expect((await driver.load(id))?.fields.n).toBe("1");
      await replay(last("update"), "newwrit2");
      expect((await driver.load(id))?.fields.n).toBe("2");
    });
  });

  describe("create-1 with a write id", () => {
    it("answers created (not refused) when the same call runs twice, and lists the session once", async () => {
      const { driver, keys, resendNext, last, replay } = setup(oneServer);
      const id = sessionIdOf(newToken());
      resendNext("create");
      expect(await driver.create(id, session({ fields: { tenant: '"acme"', n: "5" }, user: { userId: "ada" } }))).not.toBeNull();
      expect(last("create").reply).toEqual([1, ["tenant\0\"acme\""], []]);
      expect((await driver.load(id))?.fields).toEqual({ tenant: '"acme"', n: "5" });
      expect(await driver.countIndex("tenant", '"acme"')).toBe(1);
      expect((await driver.listUserSessions("ada")).map((s) => s.id)).toEqual([id]);
      expect(await client.hget(keys.session(id), "$w")).toBe(last("create").args[writeIdIndex("create")]);
      // Another create call (another write id) under the same id is still refused.
      expect(await replay(last("create"), "another-id-2")).toEqual([0]);
      expect(await driver.create(id, session())).toBeNull();
    });
  });

  describe("rotate-2 with a write id", () => {
    it("answers rotated with the counters when the same call runs twice, and the user and index entries follow the new id", async () => {
      const { driver, keys, resendNext, last } = setup(oneServer);
      const userId = `u${Math.random()}`;
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken(tagOf(id)));
      await driver.create(id, session({ fields: { n: "1", tenant: '"acme"' }, user: { userId } }));
      resendNext("rotate");
      expect((await driver.rotate(id, next, { ...change({ increment: { n: 1 } }), keepData: true }))?.counters).toEqual({ n: 2 });
      expect(outcomeOf(last("rotate").reply)).toEqual({
        kind: "written",
        previousUserId: userId,
        memberships: { added: [], removed: ["tenant\0\"acme\""], current: ["tenant\0\"acme\""], expiresAt: expect.any(Number) },
        stored: storedTimes,
        ended: [],
        endedOthers: [],
        counters: { n: 2 },
      });
      expect(await driver.load(id)).toBeNull();
      expect((await driver.load(next))?.fields).toEqual({ n: "2", tenant: '"acme"' });
      expect(await client.exists(keys.session(id))).toBe(0);
      expect((await driver.listUserSessions(userId)).map((s) => s.id)).toEqual([next]);
      expect((await driver.findIndex("tenant", '"acme"', { offset: 0, limit: 10 })).sessions.map((s) => s.id)).toEqual([next]);
      expect(await client.zrange(keys.index("tenant", '"acme"'), "0", "-1")).toEqual([next]);
    });

    it("still refuses a rotation under another write id once the old id is gone", async () => {
      const { driver, last, replay } = setup(oneServer);
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken(tagOf(id)));
      await driver.create(id, session({ fields: { n: "1" } }));
      expect((await driver.rotate(id, next, { ...change({ increment: { n: 1 } }), keepData: false }))?.counters).toEqual({ n: 1 });
      expect(outcomeOf(await replay(last("rotate")))).toEqual({
        kind: "written",
        previousUserId: null,
        memberships: { added: [], removed: [], current: [], expiresAt: expect.any(Number) },
        stored: storedTimes,
        ended: [],
        endedOthers: [],
        counters: { n: 1 },
      });
      expect(await replay(last("rotate"), "another-id-3")).toEqual([-3]);
      expect((await driver.load(next))?.fields).toEqual({ n: "1" });
    });

    it("sends the same write id with every attempt of one call (binding-expectation retry)", async () => {
      const { driver, keys, sent, onNextRead } = setup(oneServer);
      const userId = `u${Math.random()}`;
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken(tagOf(id)));
      await driver.create(id, session({ fields: { n: "0" }, user: { userId } }));
      // A concurrent login moves the absolute deadline between the driver's read and its write.
      onNextRead(() => client.hset(keys.session(id), "$a", String(Date.now() + 7_200_000)).then(() => undefined));
      expect((await driver.rotate(id, next, { ...change({ increment: { n: 1 } }), keepData: true }))?.counters).toEqual({ n: 1 });
      const attempts = sent.filter((s) => s.script === "rotate");
      expect(attempts.map((s) => (s.reply as unknown[])[0])).toEqual([-2, 1]);
      expect(attempts[0]!.args[writeIdIndex("rotate")]).toBe(attempts[1]!.args[writeIdIndex("rotate")]);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, sessionIdOf } from "@sess/core";
import type { RedisClientHarness, RedisServerHandle, ReplicaAck } from "./harness.js";

/** What `describeReplicaAcknowledgement` needs. */
export type ReplicaHarness<C> = Pick<RedisClientHarness<C>, "name" | "startServer" | "connect" | "raw" | "close" | "createDriver">;

function session(userId: string | null = null) {
  const now = Date.now();
  return {
    fields: { a: "1" },
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 60_000,
    absoluteExpiresAt: now + 3_600_000,
    user: userId === null ? null : { userId },
    userAgent: null,
    ip: null,
  };
}

function change(user?: { userId: string } | null) {
  const now = Date.now();
  return { set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000, ...(user === undefined ? {} : { user }) };
}

/** `replicaAck` on a primary with one replica: WAIT after the failover-sensitive writes, shortfalls failed or accepted. */
export function describeReplicaAcknowledgement<C>(harness: ReplicaHarness<C>): void {
  let primary: RedisServerHandle;
  let replica: RedisServerHandle;
  let client: C;
  const clients: C[] = [];

  beforeAll(async () => {
    // No diskless-sync delay (5 s by default): the replica's first sync starts at once.
    primary = await harness.startServer({ args: ["--repl-diskless-sync-delay", "0"] });
    const port = new URL(primary.url).port;
    replica = await harness.startServer({ args: ["--replicaof", "127.0.0.1", port] });
    client = await harness.connect(primary.url);
    clients.push(client);
    const replicaClient = await harness.connect(replica.url);
    clients.push(replicaClient);
    const deadline = Date.now() + 20_000;
    while (!String(await harness.raw(replicaClient, "INFO", "replication")).includes("master_link_status:up")) {
      if (Date.now() > deadline) throw new Error("replica not in sync after 20 s");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }, 30_000);

  afterAll(async () => {
    for (const each of clients) harness.close(each);
    await Promise.all([primary?.stop(), replica?.stop()]);
  });

  function driverWith(replicaAck: ReplicaAck) {
    return harness.createDriver(client, { prefix: `r${Math.random().toString(36).slice(2, 10)}`, replicaAck });
  }

  describe("replicaAck", () => {
    it("waits for the replica on creation, login, logout, rotation, destroy and ending a user's sessions, and then resolves as usual", async () => {
      const shortfalls: unknown[] = [];
      const driver = driverWith({ replicas: 1, timeout: 2_000, onShortfall: (s) => shortfalls.push(s) });
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken());
      expect(await driver.create(id, session())).not.toBeNull();
      expect((await driver.update(id, change({ userId: "ada" })))?.counters).toEqual({});
      expect((await driver.update(id, change(null)))?.counters).toEqual({});
      expect((await driver.rotate(id, next, { ...change({ userId: "ada" }), keepData: true }))?.counters).toEqual({});
      expect(await driver.endUserSessions("ada")).toBe(1);
      const other = sessionIdOf(newToken());
      await driver.create(other, session());
      expect(await driver.destroy(other)).toBe(true);
      expect(shortfalls).toEqual([]);
    });

    it("passes destroy's user id on: a session of another user (or of none) is not ended", async () => {
      const driver = driverWith({ replicas: 1, timeout: 2_000 });
      const id = sessionIdOf(newToken());
      expect(await driver.create(id, session())).not.toBeNull();
      expect(await driver.destroy(id, { userId: "mallory" })).toBe(false);
      expect(await driver.load(id)).not.toBeNull();
    });

    it('fails a shortfall with STORE_UNAVAILABLE (shortfall "fail", the default), reports it, and the write is on the primary', async () => {
      const shortfalls: unknown[] = [];
      const driver = driverWith({ replicas: 2, timeout: 50, onShortfall: (s) => shortfalls.push(s) });
      const id = sessionIdOf(newToken());
      await expect(driver.create(id, session())).rejects.toMatchObject({
        name: "SessionError",
        code: "STORE_UNAVAILABLE",
        message: expect.stringMatching(/create written on the primary but acknowledged by 1 of 2 replicas within 50 ms/),
      });
      expect(shortfalls).toEqual([{ operation: "create", acknowledged: 1, replicas: 2, timeout: 50 }]);
      expect(await driver.load(id)).not.toBeNull();
    });

    it('accepts a shortfall with shortfall "accept" and reports each operation once', async () => {
      const operations: string[] = [];
      const driver = driverWith({ replicas: 2, timeout: 20, shortfall: "accept", onShortfall: (s) => operations.push(s.operation) });
      const id = sessionIdOf(newToken());
      const next = sessionIdOf(newToken());
      expect(await driver.create(id, session())).not.toBeNull();
      await driver.update(id, change()); // a plain update: no WAIT
      await driver.update(id, change({ userId: "bob" }));
      await driver.rotate(id, next, { ...change(), keepData: true });
      await driver.update(next, change(null));
      await driver.update(next, change({ userId: "bob" }));
      expect(await driver.endUserSessions("bob")).toBe(1);
      const other = sessionIdOf(newToken());
      await driver.create(other, session());
      expect(await driver.destroy(other)).toBe(true);
      expect(operations).toEqual(["create", "login", "rotate", "logout", "login", "endUserSessions", "create", "destroy"]);
    });

    it("reports a shortfall when the replica is frozen (SIGSTOP), and works again once it resumes", async () => {
      const shortfalls: unknown[] = [];
      const driver = driverWith({ replicas: 1, timeout: 100, onShortfall: (s) => shortfalls.push(s) });
      replica.pause();
      try {
        await expect(driver.create(sessionIdOf(newToken()), session("cy"))).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      } finally {
        replica.resume();
      }
      expect(shortfalls).toEqual([{ operation: "create", acknowledged: 0, replicas: 1, timeout: 100 }]);
      expect(await driver.create(sessionIdOf(newToken()), session("cy"))).not.toBeNull();
    });

    it("refuses invalid options with CONFIG_INVALID", () => {
      for (const bad of [{ replicas: 0, timeout: 10 }, { replicas: 1, timeout: 0 }, { replicas: 1.5, timeout: 10 }, { replicas: 1, timeout: 10, shortfall: "ignore" }]) {
        expect(() => driverWith(bad as ReplicaAck)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
      }
    });
  });
}

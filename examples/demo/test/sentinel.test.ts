/**
 * The demo app on a Sentinel topology (one primary, one replica, three sentinels on loopback),
 * each driver through its client's own Sentinel support, through a failover: the primary SIGKILLed,
 * and `SENTINEL FAILOVER`. The logged-in session written (and replicated) before the failover keeps
 * working: 503 while no primary is known, 200 again within a few seconds of the promotion, no
 * unhandled rejection.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createSentinel } from "redis";
import { createIoredisDriver } from "@sess/ioredis";
import { createNodeRedisDriver } from "@sess/node-redis";
import { newToken, sessionIdOf, type SessionDriver } from "@sess/core";
import type { ReplicaAckOptions } from "@sess/core";
import { startSentinelTopology, type SentinelTopology } from "@sess/redis-server";
import type { Store } from "../src/store.js";
import { boot, type Booted } from "./harness.js";

const DEADLINE = 300;
/** After the sentinels name the new primary, the app answers 200 within this. */
const RECOVERY_MS = 5_000;

type DriverName = "ioredis" | "node-redis";
type Failover = "primary SIGKILLed" | "SENTINEL FAILOVER";

async function sentinelStore(driver: DriverName, topology: SentinelTopology, replicaAck?: ReplicaAckOptions): Promise<Store> {
  const prefix = `sentinel-${randomBytes(6).toString("hex")}`;
  const ack = replicaAck === undefined ? {} : { replicaAck };
  if (driver === "ioredis") {
    const client = new Redis({ sentinels: topology.sentinels, name: topology.name, lazyConnect: true });
    client.on("error", () => {});
    await client.connect();
    return {
      kind: "redis",
      driver: createIoredisDriver({ client, prefix, ...ack }),
      ping: async () => (await client.ping()) === "PONG",
      close: async () => client.disconnect(),
    };
  }
  const client = createSentinel({ name: topology.name, sentinelRootNodes: topology.sentinels });
  client.on("error", () => {});
  await client.connect();
  return {
    kind: "redis",
    driver: createNodeRedisDriver({ client, prefix, ...ack }),
    ping: async () => (await client.ping()) === "PONG",
    close: async () => {
      if (client.isOpen) await client.destroy();
    },
  };
}

/** Sends `request` until it answers other than 503 or `withinMs` have passed (25 ms apart); every status seen, and the last answer. */
async function answeredWithin<A extends { status: number }>(withinMs: number, request: () => Promise<A>): Promise<{ statuses: number[]; last: A }> {
  const statuses: number[] = [];
  const started = performance.now();
  for (;;) {
    const last = await request();
    statuses.push(last.status);
    if (last.status !== 503 || performance.now() - started >= withinMs) return { statuses, last };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const combos: [DriverName, Failover][] = (["ioredis", "node-redis"] as const).flatMap((driver) =>
  (["primary SIGKILLed", "SENTINEL FAILOVER"] as const).map((how): [DriverName, Failover] => [driver, how]),
);

describe.each(combos)("the demo on %s through Sentinel, %s", (driver, how) => {
  let topology: SentinelTopology;
  let app: Booted;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onRejection);
    topology = await startSentinelTopology();
    app = await boot("express", await sentinelStore(driver, topology), { operationTimeout: DEADLINE });
  }, 60_000);

  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    await app?.close();
    await topology?.stop();
  });

  it(`keeps the session: only 503 while no primary is known, writes answer 200 within ${RECOVERY_MS} ms of the promotion, no unhandled rejection`, async () => {
    const shopper = app.client();
    const username = `ada-${driver}`;
    expect((await shopper.call("POST", "/login", { username })).status).toBe(200);
    expect((await shopper.call("POST", "/cart", { sku: "tea" })).status).toBe(200);
    const primary = (await topology.primary())!;
    expect(await topology.cli(primary.port, "WAIT", "1", "2000")).toBe("1");

    const started = performance.now();
    if (how === "primary SIGKILLed") primary.kill("SIGKILL");
    else await topology.failover();
    let promotedAt: number | undefined;
    const promotion = topology.promotedFrom(primary.port).then(() => (promotedAt = performance.now() - started));

    const answers: { at: number; status: number }[] = [];
    let recoveredAt: number | undefined;
    // Each probe writes (a demoted primary still answers reads until the client moves on).
    for (let n = 0; recoveredAt === undefined && performance.now() - started < 30_000; n++) {
      const answer = await shopper.call("PATCH", "/preferences", { probe: n });
      const at = performance.now() - started;
      answers.push({ at, status: answer.status });
      if (answer.status === 200 && promotedAt !== undefined) recoveredAt = at;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await promotion;
    const unavailable = answers.filter((answer) => answer.status === 503);
    console.log(
      `${driver}, ${how}: new primary named after ${promotedAt!.toFixed(0)} ms; ${unavailable.length} answers 503 ` +
        `(first at ${unavailable[0]?.at.toFixed(0) ?? "-"} ms, last at ${unavailable.at(-1)?.at.toFixed(0) ?? "-"} ms); ` +
        `200 again ${(recoveredAt! - promotedAt!).toFixed(0)} ms after the promotion`,
    );
    expect(answers.every((answer) => answer.status === 200 || answer.status === 503)).toBe(true);
    expect(recoveredAt).toBeDefined();
    expect(recoveredAt! - promotedAt!).toBeLessThan(RECOVERY_MS);
    if (how === "primary SIGKILLed") {
      // No primary between the kill and the promotion: nothing can answer 200 then.
      expect(unavailable.length).toBeGreaterThan(0);
      expect(answers.filter((answer) => answer.at < promotedAt! - 100).every((answer) => answer.status === 503)).toBe(true);
    }
    // The session written before the failover, on the new primary. After SENTINEL FAILOVER the old
    // primary takes writes until the sentinels demote it (the probes above may have reached it), and
    // what it took then is dropped when it resyncs from the new primary (asynchronous replication):
    // the write below waits for the demotion. While the client then moves to the new primary (it
    // may move more than once as the sentinels agree), a request answers 503 (nothing written; a
    // demoted primary refuses writes) for as long as the move takes, bounded as the recovery is.
    if (how === "SENTINEL FAILOVER") {
      const demotedAfter = await topology.demoted(primary.port);
      console.log(`${driver}, ${how}: the old primary demoted by the sentinels ${(performance.now() - started).toFixed(0)} ms after the failover (waited ${demotedAfter} ms)`);
    }
    const cart = await answeredWithin(RECOVERY_MS, () => shopper.call("POST", "/cart", { sku: "tea" }));
    expect(cart.statuses.at(-1)).toBe(200);
    expect(cart.statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    const me = await answeredWithin(RECOVERY_MS, () => shopper.call("GET", "/me"));
    expect(me.statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    expect(me.last.body).toMatchObject({ username, cart: { tea: 2 } });
    expect(rejections).toEqual([]);
  }, 100_000);
});

/** Logins acknowledged just before the primary is SIGKILLed, then counted on the promoted replica. */
const LOGINS = 1_000;
/** Each login's session carries this much data, so a frozen replica's socket buffers overflow. */
const PAYLOAD = JSON.stringify("x".repeat(8_000));

/**
 * With a frozen replica every acknowledged login holds the client's connection for the whole WAIT
 * timeout, one after the other: fewer logins, a shorter timeout, the replica frozen under the
 * sentinels' 1 s down-after.
 */
const FROZEN_ACK_LOGINS = 8;
const FROZEN_ACK_TIMEOUT = 100;

type Replica = "in sync" | "frozen (SIGSTOP) during the logins";
const measured: [DriverName, Replica, boolean][] = (["ioredis", "node-redis"] as const).flatMap((driver) =>
  (["in sync", "frozen (SIGSTOP) during the logins"] as const).flatMap((replica) =>
    [false, true].map((acknowledged): [DriverName, Replica, boolean] => [driver, replica, acknowledged]),
  ),
);

describe.each(measured)("%s, replica %s: logins, then the primary SIGKILLed at once (replicaAck %s)", (driverName, replica, acknowledged) => {
  let topology: SentinelTopology;
  let store: Store;
  const frozen = replica !== "in sync";
  const logins = frozen && acknowledged ? FROZEN_ACK_LOGINS : LOGINS;
  const ackTimeout = frozen ? FROZEN_ACK_TIMEOUT : 300;

  beforeAll(async () => {
    topology = await startSentinelTopology();
    store = await sentinelStore(driverName, topology, acknowledged ? { replicas: 1, timeout: ackTimeout } : undefined);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await topology?.stop();
  });

  it(`counts the acknowledged logins the promoted replica lost${acknowledged ? ": none" : ""}`, async () => {
    const driver: SessionDriver = store.driver;
    const primary = (await topology.primary())!;
    const follower = topology.servers.find((server) => server !== primary)!;
    const now = Date.now();
    const ids = Array.from({ length: logins }, () => sessionIdOf(newToken()));
    if (frozen) follower.pause();
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        driver.create(id, {
          fields: { data: PAYLOAD },
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 600_000,
          absoluteExpiresAt: now + 3_600_000,
          user: { userId: `user-${i % 50}` },
          userAgent: null,
          ip: null,
        }),
      ),
    );
    primary.kill("SIGKILL"); // the moment the last login was answered
    follower.resume();
    const ok = ids.filter((_, i) => results[i]!.status === "fulfilled");
    const refused = results.filter((result) => result.status === "rejected");
    expect(refused.every((result) => (result as PromiseRejectedResult).reason?.code === "STORE_UNAVAILABLE")).toBe(true);
    const promotedIn = await topology.promotedFrom(primary.port);
    const probe = sessionIdOf(newToken());
    const started = Date.now();
    for (;;) {
      try {
        await driver.load(probe);
        break;
      } catch {
        if (Date.now() - started > 10_000) throw new Error("the driver never reached the new primary");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const found = await Promise.all(ok.map(async (id) => (await driver.load(id)) !== null));
    const lost = found.filter((present) => !present).length;
    console.log(
      `${driverName}, replica ${replica}, replicaAck ${acknowledged ? `{ replicas: 1, timeout: ${ackTimeout} }` : "off"}: ` +
        `${ok.length} of ${logins} logins acknowledged (${refused.length} refused with STORE_UNAVAILABLE), ` +
        `${lost} acknowledged lost after the failover (new primary named ${promotedIn} ms after the kill)`,
    );
    if (!frozen) expect(ok.length).toBe(logins);
    if (frozen && acknowledged) expect(refused.length).toBe(logins); // no replica acknowledged any: 503, not a silent loss
    if (acknowledged) expect(lost).toBe(0);
  }, 60_000);
});

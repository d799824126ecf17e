/**
 * On a Cluster every command the driver sends reaches the node that holds its key at once: no node
 * answers MOVED (which costs the request a second round trip). Counted from each node's
 * `INFO errorstats`, for every client kind that makes a Cluster client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionManager } from "@sess/core";
import type { RequestInfo } from "@sess/core";
import { startRedisCluster } from "@sess/redis-server";
import type { RedisCluster } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";
import { IOREDIS_KINDS, raw, ready } from "./clients.js";
import type { IoredisFamilyClient } from "./clients.js";

let cluster: RedisCluster | undefined;
const clients: IoredisFamilyClient[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  for (const client of clients) (client as unknown as { disconnect(): void }).disconnect();
  await cluster?.stop();
});

/** Redirections (MOVED and ASK) the nodes of the cluster have answered since their stats were last reset. */
async function redirections(admin: IoredisFamilyClient[]): Promise<number> {
  let count = 0;
  for (const node of admin) {
    const stats = String(await raw(node, "INFO", "errorstats"));
    for (const match of stats.matchAll(/^errorstat_(?:MOVED|ASK):count=(\d+)/gm)) count += Number(match[1]);
  }
  return count;
}

function request(token: string | null): RequestInfo {
  return { header: (name) => (name === "cookie" && token !== null ? `sess=${token}` : undefined), secure: false };
}

function tokenOf(headers: ReadonlyArray<[string, string]>): string {
  const match = /^sess=([^;]+)/.exec(headers.find(([name]) => name === "set-cookie")?.[1] ?? "");
  if (!match) throw new Error("no session cookie was set");
  return match[1]!;
}

const clusterKinds = IOREDIS_KINDS.filter((kind) => kind.cluster !== undefined);

describe.each(clusterKinds)("$name cluster", (kind) => {
  it("sends every load, write, rotation and destroy to the node that holds the key (no MOVED)", async () => {
    const admin = await Promise.all(cluster!.nodes.map(({ port }) => ready(IOREDIS_KINDS[0]!.standalone(`redis://127.0.0.1:${port}`))));
    clients.push(...admin);
    const client = await ready(kind.cluster!(cluster!.nodes));
    clients.push(client);
    const manager = createSessionManager({ driver: createIoredisDriver({ client, prefix: `route${clusterKinds.indexOf(kind)}` }) });
    // The cluster client learns the slots at connection; the first script call loads its library.
    const warm = await manager.open(request(null));
    warm.session.set("n", 0);
    await warm.commit();
    for (const node of admin) await raw(node, "CONFIG", "RESETSTAT");

    // 30 sessions: their keys fall in slots on every node.
    const tokens: string[] = [];
    for (let i = 0; i < 30; i++) {
      const opened = await manager.open(request(null));
      opened.session.set("n", i);
      tokens.push(tokenOf((await opened.commit()).headers));
    }
    for (const [i, token] of tokens.entries()) {
      const opened = await manager.open(request(token));
      expect(opened.session.get("n")).toBe(i);
      opened.session.increment("n");
      if (i % 3 === 0) opened.session.regenerate();
      if (i % 3 === 1) opened.session.destroy();
      await opened.commit();
    }
    expect(await redirections(admin)).toBe(0);
  }, 60_000);
});

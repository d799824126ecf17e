import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionManager } from "@sess/core";
import type { RequestInfo, SessionDriver } from "@sess/core";
import type { ClientConfiguration } from "./clients.js";

const run = promisify(execFile);

/** A running cluster, as the harness starts it. */
export interface ClusterHandle {
  /** `redis://host:port` of every node. */
  readonly urls: string[];
  readonly nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** What `describeClusterRouting` needs: a cluster, the client configurations on it, and the driver. */
export interface ClusterRoutingHarness<C> {
  startCluster(): Promise<ClusterHandle>;
  /** The Cluster client configurations to check, on the nodes of `cluster()` (called once the cluster runs). */
  configurations(cluster: () => ClusterHandle): ClientConfiguration<C>[];
  /** A driver on `client` with key prefix `prefix`. */
  createDriver(client: C, prefix: string): SessionDriver;
}

function request(token: string | null): RequestInfo {
  return { header: (name) => (name === "cookie" && token !== null ? `sess=${token}` : undefined), secure: false };
}

function tokenOf(headers: ReadonlyArray<[string, string]>): string {
  const match = /^sess=([^;]+)/.exec(headers.find(([name]) => name === "set-cookie")?.[1] ?? "");
  if (!match) throw new Error("no session cookie was set");
  return match[1]!;
}

/**
 * On a Cluster every command the driver sends reaches the node that holds its key at once: no node
 * answers MOVED or ASK (a redirect costs the request a second round trip). Counted from each node's
 * `INFO errorstats` (redis-cli), over logins, loads, writes, rotations and destroys of 30 sessions,
 * whose keys fall on every node.
 */
export function describeClusterRouting<C>(harness: ClusterRoutingHarness<C>): void {
  let cluster: ClusterHandle | undefined;
  const running = (): ClusterHandle => {
    if (cluster === undefined) throw new Error("the cluster is not running");
    return cluster;
  };
  beforeAll(async () => {
    cluster = await harness.startCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  const cli = async (...args: string[]): Promise<string[]> =>
    Promise.all(running().nodes.map(async ({ host, port }) => (await run("redis-cli", ["-h", host, "-p", String(port), ...args])).stdout));
  const redirections = async (): Promise<number> => {
    let count = 0;
    for (const stats of await cli("INFO", "errorstats")) {
      for (const match of stats.matchAll(/^errorstat_(?:MOVED|ASK):count=(\d+)/gm)) count += Number(match[1]);
    }
    return count;
  };

  for (const configuration of harness.configurations(running)) {
    describe(`${configuration.name}: routing`, () => {
      let client: C | undefined;
      beforeAll(async () => {
        client = await configuration.connect();
      });
      afterAll(async () => {
        if (client !== undefined) await configuration.close(client);
      });

      it("sends every load, write, rotation and destroy to the node that holds the key (no MOVED)", async () => {
        const manager = createSessionManager({ driver: harness.createDriver(client!, `route${Math.random().toString(36).slice(2, 8)}`) });
        // The client has learnt the slots; the first script call loads its library on every primary.
        const warm = await manager.open(request(null));
        warm.session.set("n", 0);
        await warm.commit();
        await cli("CONFIG", "RESETSTAT");

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
        expect(await redirections()).toBe(0);
        await manager.close();
      }, 60_000);
    });
  }
}

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, sessionIdOf } from "@sess/core";
import type { RedisClientHarness, RedisServerHandle } from "./harness.js";

/** What `describeStartupChecks` needs. `connect` is the client as an application would configure it for `verify()`. */
export interface StartupHarness<C> extends Pick<RedisClientHarness<C>, "name" | "startServer" | "connect" | "raw" | "close" | "createDriver"> {
  /** The driver's README.md, whose `ACL SETUSER` example (section "Redis commands used (ACL)") lists the commands the driver needs. */
  readme: URL;
  /** Commands the client itself needs on top of the README's list, as `" +cmd +cmd"` (`""` if none). */
  extraAclCommands: string;
  /**
   * Optional, for a client that can re-send unfulfilled commands after a reconnect: one connect per way
   * it does so (its default, the option set explicitly...). `verify()` must not warn about any of them.
   */
  connectResending?: ReadonlyArray<(url: string) => Promise<C>>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `driver.verify()` against real servers: ACL users with and without the documented commands, and server settings. */
export function describeStartupChecks<C>(harness: StartupHarness<C>): void {
  /** The commands of the README's `ACL SETUSER` example (section "Redis commands used (ACL)"), plus the client's own. */
  const DOCUMENTED =
    /ACL SETUSER sess on >secret ~sess:\* ((?:\+[a-z|]+ ?)+)/.exec(readFileSync(harness.readme, "utf8"))![1]!.trim() + harness.extraAclCommands;

  let plain: RedisServerHandle;
  let durable: RedisServerHandle;
  let evicting: RedisServerHandle;
  let admin: C;
  const clients: C[] = [];

  async function connect(url: string, options: { username?: string; password?: string } = {}): Promise<C> {
    const client = await harness.connect(url, options);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    [plain, durable, evicting] = await Promise.all([
      harness.startServer(),
      harness.startServer({ args: ["--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"] }),
      harness.startServer({ args: ["--appendonly", "yes", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] }),
    ]);
    admin = await connect(plain.url);
    await harness.raw(admin, "ACL", "SETUSER", "full", "on", ">pw", "~app:*", ...DOCUMENTED.split(" "));
    await harness.raw(admin, "ACL", "SETUSER", "nohdel", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +hdel", "").split(" "));
    await harness.raw(admin, "ACL", "SETUSER", "norename", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +rename", "").split(" "));
    await harness.raw(admin, "ACL", "SETUSER", "otherkeys", "on", ">pw", "~other:*", ...DOCUMENTED.split(" "));
    await harness.raw(admin, "ACL", "SETUSER", "noeval", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +eval ", " ").split(" "));
    await harness.raw(admin, "ACL", "SETUSER", "nofunctions", "on", ">pw", "~app:*", ...DOCUMENTED.replace(" +fcall", "").replace(" +function|load", "").split(" "));
  });

  afterAll(async () => {
    for (const client of clients) harness.close(client);
    await Promise.all([plain?.stop(), durable?.stop(), evicting?.stop()]);
  });

  describe("driver.verify()", () => {
    it("passes for a user limited to the prefix with exactly the documented commands, and skips the CONFIG it may not read", async () => {
      const client = await connect(plain.url, { username: "full", password: "pw" });
      const warnings: string[] = [];
      const report = await harness.createDriver(client, { prefix: "app" }).verify({ onWarning: (m) => warnings.push(m) });
      expect(report).toEqual({ commandsChecked: true, settings: {}, warnings: [] });
      expect(warnings).toEqual([]);
    });

    it("passes without FCALL and FUNCTION LOAD, warning once that the scripts run by EVALSHA, and the driver writes", async () => {
      expect(DOCUMENTED).toMatch(/ \+fcall\b.* \+function\|load\b/);
      const client = await connect(plain.url, { username: "nofunctions", password: "pw" });
      const driver = harness.createDriver(client, { prefix: "app" });
      const warnings: string[] = [];
      const report = await driver.verify({ onWarning: (m) => warnings.push(m) });
      await driver.verify({ onWarning: (m) => warnings.push(m) });
      expect(report.warnings).toEqual([expect.stringMatching(/^the Redis user may not run FCALL, FUNCTION\|LOAD: /)]);
      expect(warnings).toEqual([
        `${harness.name}: the Redis user may not run FCALL, FUNCTION|LOAD: the driver runs its scripts by EVALSHA instead of as functions, ` +
          "which costs Redis about a fifth more per write. Grant it: ACL SETUSER <user> +fcall +function|load",
      ]);
      const id = sessionIdOf(newToken());
      const now = Date.now();
      await driver.create(id, { fields: { a: "1" }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, user: null, userAgent: null, ip: null });
      await driver.update(id, { set: { a: "2" }, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + 60_000 });
      expect((await driver.load(id))?.fields).toEqual({ a: "2" });
    });

    it("rejects with CONFIG_INVALID naming the missing command", async () => {
      for (const [user, missing] of [["nohdel", "HDEL"], ["norename", "RENAME"]] as const) {
        const client = await connect(plain.url, { username: user, password: "pw" });
        const failure = harness.createDriver(client, { prefix: "app" }).verify();
        await expect(failure).rejects.toMatchObject({ name: "SessionError", code: "CONFIG_INVALID" });
        await expect(failure).rejects.toThrow(new RegExp(`may not run ${missing} on keys under "app:"`));
      }
    });

    it("rejects with CONFIG_INVALID naming EVAL when the user may not run it", async () => {
      const client = await connect(plain.url, { username: "noeval", password: "pw" });
      await expect(harness.createDriver(client, { prefix: "app" }).verify()).rejects.toMatchObject({
        code: "CONFIG_INVALID",
        message: expect.stringMatching(/may not run EVAL/),
      });
    });

    it("rejects with CONFIG_INVALID naming the prefix when the user's key pattern does not cover it", async () => {
      const client = await connect(plain.url, { username: "otherkeys", password: "pw" });
      await expect(harness.createDriver(client, { prefix: "app" }).verify()).rejects.toMatchObject({
        code: "CONFIG_INVALID",
        message: expect.stringMatching(/may not access keys under the prefix "app:"/),
      });
    });

    it("warns once, however often it runs, that sessions do not survive a restart without the append-only file", async () => {
      const driver = harness.createDriver(admin, { prefix: "app" });
      const warnings: string[] = [];
      const first = await driver.verify({ onWarning: (m) => warnings.push(m) });
      await driver.verify({ onWarning: (m) => warnings.push(m) });
      expect(first.settings).toMatchObject({ appendonly: "no", "maxmemory-policy": "noeviction" });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(new RegExp(`^${escapeRegExp(harness.name)}: Redis runs without the append-only file \\(appendonly no\\)`));
    });

    it("does not warn with appendonly yes and noeviction", async () => {
      const client = await connect(durable.url);
      const warnings: string[] = [];
      const report = await harness.createDriver(client).verify({ onWarning: (m) => warnings.push(m) });
      expect(report.settings).toMatchObject({ appendonly: "yes", appendfsync: "everysec", "maxmemory-policy": "noeviction" });
      expect(warnings).toEqual([]);
    });

    it("warns that sessions can be evicted under an allkeys-* policy", async () => {
      const client = await connect(evicting.url);
      const warnings: string[] = [];
      await harness.createDriver(client).verify({ onWarning: (m) => warnings.push(m) });
      expect(warnings).toEqual([expect.stringMatching(/maxmemory-policy allkeys-lru.*can disappear before they expire/)]);
    });

    const connectResending = harness.connectResending;
    if (connectResending !== undefined) {
      it(`does not warn about a client that re-sends unfulfilled commands (${harness.name}'s default): writes carry write ids`, async () => {
        for (const connectOneWay of connectResending) {
          const client = await connectOneWay(durable.url);
          clients.push(client);
          const warnings: string[] = [];
          const report = await harness.createDriver(client).verify({ onWarning: (m) => warnings.push(m) });
          expect(report.warnings).toEqual([]);
          expect(warnings).toEqual([]);
        }
      });
    }

    it("rejects with STORE_UNAVAILABLE when the client is not connected", async () => {
      const client = await connect(plain.url);
      harness.close(client);
      await expect(harness.createDriver(client).verify()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    });
  });
}

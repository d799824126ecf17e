/**
 * The Redis side of taking over express-session + connect-redis and koa-session + koa-redis
 * sessions: the claim and settle steps of a conversion (lua/claim-1.lua, lua/settle-1.lua) on the
 * client the legacy store wrote to. Reading the legacy cookies and converting a legacy session is
 * core's (`connectRedisSource`, `koaRedisSource` in @sess/core); each driver package binds its
 * client to a `ScriptPort` and exports `fromConnectRedis` and `fromKoaRedis` built here.
 */
import { randomBytes } from "node:crypto";
import { configError, connectRedisSource, koaRedisSource } from "@sess/core";
import type { ConnectRedisSourceOptions, KoaRedisSourceOptions, LegacyClaim, LegacySession, LegacySource } from "@sess/core";
import type { ScriptPort } from "./port.js";
import { SCRIPTS, invoke } from "./scripts.js";

function text(value: unknown): string {
  return typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

/** The claim of a legacy key, on `port`: claim-1 with a random nonce; settle-1 deletes it once converted or restores it. */
export function createLegacyClaim(port: ScriptPort): LegacyClaim {
  return async (key, now, hold) => {
    const nonce = randomBytes(16).toString("base64url");
    const reply = await invoke(port, SCRIPTS.claim, { legacy: key }, { nonce, now: String(now), deadline: String(now + hold) });
    if (!Array.isArray(reply)) return { status: "none" };
    if (text(reply[0]) === "busy") return { status: "busy" };
    const original = text(reply[1]);
    const settle = async (action: "delete" | "restore"): Promise<void> => {
      await invoke(port, SCRIPTS.settle, { legacy: key }, { nonce, action, original: action === "restore" ? original : "" });
    };
    return {
      status: "claimed",
      legacy: JSON.parse(original) as LegacySession,
      ttl: Number(text(reply[2])),
      finish: () => settle("delete"),
      abandon: () => settle("restore"),
    };
  };
}

/**
 * `fromConnectRedis` and `fromKoaRedis` for one client family: `send` sends one command (an array of
 * strings) on a client that has the function `method`; anything else is refused as `legacy.client`.
 */
export function legacyFactories<C>(expected: string, method: string, send: (client: C, command: string[]) => Promise<unknown>) {
  function claimOf(options: { client: C } | null, factory: string): LegacyClaim {
    if (options === null || typeof options !== "object") throw configError("legacy", `expected the options of ${factory}`);
    const client = options.client as Record<string, unknown> | null;
    if (client === null || typeof client !== "object" || typeof client[method] !== "function") {
      throw configError("legacy.client", `expected ${expected} (the one the legacy store wrote to)`);
    }
    const script = (command: string, sha1OrSource: string, keys: string[], args: string[]) =>
      send(options.client, [command, sha1OrSource, String(keys.length), ...keys, ...args]);
    return createLegacyClaim({
      evalsha: (sha1, keys, args) => script("EVALSHA", sha1, keys, args),
      eval: (source, keys, args) => script("EVAL", source, keys, args),
    });
  }
  return {
    fromConnectRedis: (options: ConnectRedisSourceOptions & { client: C }): LegacySource =>
      connectRedisSource(options, claimOf(options, "fromConnectRedis({ client, secret })")),
    fromKoaRedis: (options: KoaRedisSourceOptions & { client: C }): LegacySource =>
      koaRedisSource(options, claimOf(options, "fromKoaRedis({ client, keys })")),
  };
}

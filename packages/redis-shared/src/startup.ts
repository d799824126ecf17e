/**
 * The start-up check of the Redis drivers (`driver.verify()`):
 *
 * (a) the connected user may run every command the driver sends and every command its scripts run,
 *     on keys under the prefix. One read-only probe script asks Redis itself (`redis.acl_check_cmd`,
 *     Redis ≥ 7.0): nothing is written, no key is touched. A missing command or key pattern is a
 *     `SessionError("CONFIG_INVALID")` naming what to grant; an unreachable server is `STORE_UNAVAILABLE`.
 *     FCALL and FUNCTION LOAD are asked about too, but only warned about: without them the driver
 *     runs the same scripts by EVALSHA (port.ts), at a higher cost to Redis per write.
 * (b) `CONFIG GET appendonly`, `maxmemory`, `maxmemory-policy` (when the user may run them): one
 *     warning per problem and per driver when sessions would not survive a Redis restart (no AOF) or
 *     could be evicted under memory pressure. What the user may not read is skipped silently.
 *
 * Client settings are not checked: a client that re-sends a command after a reconnect (ioredis's
 * default `autoResendUnfulfilledCommands`) is safe, since every session write carries a write id and
 * a re-sent script that finds its id writes nothing again (lua/include/writes.lua).
 */
import { SessionError } from "@sess/core";
import type { VerifyOptions, VerifyReport } from "@sess/core";
import { createKeySchema } from "./keys.js";
import { scripts } from "./lua.generated.js";
import { assertReady, messageOf, storeError } from "./port.js";
import type { RedisPort } from "./port.js";

/** What the start-up check needs beyond the port: `CONFIG GET <name>`, rejecting when not allowed. */
export interface StartupPort extends RedisPort {
  configGet(name: string): Promise<string | null>;
}

/** Commands the port sends itself (see port.ts and driver.ts). */
export const DRIVER_COMMANDS = ["EVALSHA", "EVAL", "HGETALL", "HMGET", "ZRANGE", "ZREM"] as const;

/** Commands the port sends when it may (the scripts as functions, port.ts); EVALSHA and EVAL otherwise. */
export const FUNCTION_COMMANDS = ["FCALL", "FUNCTION|LOAD"] as const;

/** Scripts that run on other keys than the prefix's: the legacy store's (legacy.ts). */
const OFF_PREFIX: ReadonlySet<string> = new Set([scripts.claim.name, scripts.settle.name]);

/** Commands run inside the embedded scripts on keys under the prefix, read from their sources so the list never drifts. */
export function scriptCommands(): string[] {
  const found = new Set<string>();
  for (const script of Object.values(scripts).filter((embedded) => !OFF_PREFIX.has(embedded.name))) {
    for (const match of script.source.matchAll(/(?:redis\.p?call|callInBatches|readHash)\(\s*['"]([A-Za-z]+)['"]/g)) found.add(match[1]!.toUpperCase());
  }
  return [...found].sort();
}

// KEYS[1] a session key under the prefix; ARGV[1] a user-index key, ARGV[2] a second session key
// (RENAME target), ARGV[3..] commands. Returns the commands the user may not run on those keys.
// no-writes: runs on replicas and under OOM; acl_check_cmd only asks, it never runs the command.
// FCALL and FUNCTION LOAD are asked with pcall: a server may have renamed them away (unknown: denied).
const PROBE = `#!lua flags=no-writes
local denied = {}
for i = 3, #ARGV do
  local c = ARGV[i]
  local ok
  if c == 'RENAME' then ok = redis.acl_check_cmd(c, KEYS[1], ARGV[2])
  elseif c == 'EVAL' or c == 'EVALSHA' then ok = redis.acl_check_cmd(c, 'return 0', '1', KEYS[1])
  elseif c == 'FCALL' then ok = select(2, pcall(redis.acl_check_cmd, c, 'sess_probe', '1', KEYS[1])) == true
  elseif c == 'FUNCTION|LOAD' then ok = select(2, pcall(redis.acl_check_cmd, 'FUNCTION', 'LOAD', 'return')) == true
  elseif string.sub(c, 1, 1) == 'Z' then ok = redis.acl_check_cmd(c, ARGV[1])
  else ok = redis.acl_check_cmd(c, KEYS[1]) end
  if not ok then denied[#denied + 1] = c end
end
return denied
`;

const PROBE_ID = `sessprobe${"A".repeat(42)}`;
const PROBE_ID_2 = `sessprobe${"B".repeat(42)}`;

function grant(prefix: string, commands: string[]): string {
  return `ACL SETUSER <user> ~${prefix}:* ${commands.map((c) => `+${c.toLowerCase()}`).join(" ")}`;
}

/** Whether the commands were checked (Redis ≥ 7.0), and the function commands the user may not run (FUNCTION_COMMANDS). */
interface CommandCheck {
  checked: boolean;
  functionsDenied: string[];
}

async function checkCommands(port: RedisPort, prefix: string): Promise<CommandCheck> {
  const keys = createKeySchema(prefix);
  const wanted = [...new Set([...DRIVER_COMMANDS, ...scriptCommands()]), ...FUNCTION_COMMANDS];
  let reply: unknown;
  try {
    reply = await port.eval(PROBE, [keys.session(PROBE_ID)], [keys.user("probe"), keys.session(PROBE_ID_2), ...wanted]);
  } catch (error) {
    const message = messageOf(error);
    if (/acl_check_cmd|Unknown Redis command called from script|unknown flag|Unexpected flag/i.test(message)) return { checked: false, functionsDenied: [] }; // Redis < 7.0
    if (message.startsWith("NOPERM") && /keys/i.test(message)) {
      throw new SessionError(
        "CONFIG_INVALID",
        `${port.name}: the Redis user may not access keys under the prefix "${prefix}:" (${message}); grant it: ${grant(prefix, wanted)}`,
        { cause: error },
      );
    }
    if (message.startsWith("NOPERM")) {
      throw new SessionError(
        "CONFIG_INVALID",
        `${port.name}: the Redis user may not run EVAL, which the driver needs (${message}); grant it: ${grant(prefix, wanted)}`,
        { cause: error },
      );
    }
    throw storeError(port, "start-up check", error);
  }
  const all = Array.isArray(reply) ? reply.map((value) => String(value)) : [];
  const functionsDenied = all.filter((command) => (FUNCTION_COMMANDS as readonly string[]).includes(command));
  const denied = all.filter((command) => !functionsDenied.includes(command));
  if (denied.length > 0) {
    throw new SessionError(
      "CONFIG_INVALID",
      `${port.name}: the Redis user may not run ${denied.join(", ")} on keys under "${prefix}:", which the driver needs; ` +
        `grant it: ${grant(prefix, wanted)}`,
    );
  }
  return { checked: true, functionsDenied };
}

async function readSettings(port: StartupPort): Promise<VerifyReport["settings"]> {
  const settings: VerifyReport["settings"] = {};
  for (const name of ["appendonly", "appendfsync", "maxmemory", "maxmemory-policy"] as const) {
    try {
      const value = await port.configGet(name);
      if (value !== null) settings[name] = value;
    } catch {
      // NOPERM, CONFIG renamed or disabled (managed Redis): skip silently.
    }
  }
  return settings;
}

function warningsOf(settings: VerifyReport["settings"]): string[] {
  const warnings: string[] = [];
  if (settings.appendonly === "no") {
    warnings.push(
      "Redis runs without the append-only file (appendonly no): sessions written since the last snapshot are lost " +
        "when Redis restarts or crashes (users are logged out). Set appendonly yes and appendfsync everysec.",
    );
  }
  const policy = settings["maxmemory-policy"];
  if (policy !== undefined && policy !== "noeviction" && settings.maxmemory !== "0") {
    warnings.push(
      `Redis evicts keys when it reaches maxmemory (maxmemory-policy ${policy}): sessions${policy.startsWith("volatile-") ? " (every session key has a TTL)" : ""} ` +
        "can disappear before they expire (users are logged out). Use maxmemory-policy noeviction: a full Redis then refuses new sessions (503) instead.",
    );
  }
  return warnings;
}

/**
 * Builds a driver's `verify()`. Each distinct warning is passed to `onWarning` once per driver,
 * however often `verify()` runs.
 */
export function createVerify(port: StartupPort, prefix: string | undefined): (options?: VerifyOptions) => Promise<VerifyReport> {
  const warned = new Set<string>();
  const keyPrefix = createKeySchema(prefix).prefix;
  return async (options = {}) => {
    assertReady(port, "verify");
    const commands = await checkCommands(port, keyPrefix);
    const settings = await readSettings(port);
    const warnings = warningsOf(settings);
    if (commands.functionsDenied.length > 0) {
      warnings.push(
        `the Redis user may not run ${commands.functionsDenied.join(", ")}: the driver runs its scripts by EVALSHA instead of as functions, ` +
          `which costs Redis about a fifth more per write. Grant it: ACL SETUSER <user> ${FUNCTION_COMMANDS.map((c) => `+${c.toLowerCase()}`).join(" ")}`,
      );
    }
    const warn = options.onWarning ?? ((message: string) => console.warn(`[sess] ${message}`));
    for (const message of warnings) {
      if (warned.has(message)) continue;
      warned.add(message);
      warn(`${port.name}: ${message}`);
    }
    return { commandsChecked: commands.checked, settings, warnings };
  };
}

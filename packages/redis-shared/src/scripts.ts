/**
 * One typed description per script: the names and order of its KEYS and ARGV, as its header in
 * lua/ lists them. Every caller runs a script through `invoke`, which builds KEYS and ARGV from named
 * values in that order and checks the number of keys against the script's own (`<verb>-<numkeys>`).
 */
import { SessionError } from "@sess/core";
import { scripts } from "./lua.generated.js";
import type { EmbeddedScript } from "./lua.generated.js";
import { runScript } from "./port.js";
import type { ScriptPort } from "./port.js";

export interface ScriptSpec<K extends string, A extends string> {
  readonly script: EmbeddedScript;
  /** KEYS, in order. */
  readonly keys: readonly K[];
  /** ARGV, in order; a script may take a variable tail after them (see its header). */
  readonly argv: readonly A[];
}

function spec<const K extends string, const A extends string>(
  script: EmbeddedScript,
  keys: readonly K[],
  argv: readonly A[],
): ScriptSpec<K, A> {
  if (keys.length !== script.numkeys) throw new Error(`${script.name}: described with ${keys.length} keys`);
  return { script, keys, argv };
}

/**
 * The ARGV layout update-1 and rotate-2 share (lua/include/change.lua); the field and spec tail
 * follows. `base` (with `userKey`, `previousUserKey`, `maxSessions`, `tombstoneMs`, `endOthers`) asks the script to
 * run the user-sessions, index and limit steps itself (lua/include/steps.lua); "" leaves them to the caller.
 */
const CHANGE_ARGV = [
  "now",
  "expiresAt",
  "lastSeenAt",
  "absoluteExpiresAt",
  "idleTimeout",
  "userOp",
  "userId",
  "score",
  "expectedAbsolute",
  "expectedUser",
  "writeId",
  "keepData",
  "nSet",
  "nRemove",
  "nIncrement",
  "nSpecs",
  "maxFields",
  "maxBytes",
  "base",
  "userKey",
  "previousUserKey",
  "maxSessions",
  "tombstoneMs",
  "endOthers",
] as const;

export const SCRIPTS = {
  /** Tail: nSpecs index spec triples, then field/value pairs (metadata and user fields). */
  create: spec(scripts.create, ["session"], ["now", "expiresAt", "userId", "score", "writeId", "base", "userKey", "maxSessions", "tombstoneMs", "nSpecs"]),
  /** Tail: set pairs, remove names, increment pairs, spec triples. */
  update: spec(scripts.update, ["session"], CHANGE_ARGV),
  /** Tail: as update. */
  rotate: spec(scripts.rotate, ["from", "to"], CHANGE_ARGV),
  destroy: spec(scripts.destroy, ["session"], ["userId"]),
  user: spec(scripts.user, ["userSessions"], ["now", "id", "score", "maxSessions"]),
  end: spec(scripts.end, ["session"], ["userId", "score", "tombstoneMs", "now"]),
  enlist: spec(scripts.enlist, ["index"], ["now", "id", "score"]),
  count: spec(scripts.count, ["index"], ["now"]),
  page: spec(scripts.page, ["index"], ["now", "offset", "limit"]),
  /** Legacy sessions (legacy.ts): on the legacy store's keys, not under the prefix. */
  claim: spec(scripts.claim, ["legacy"], ["nonce", "now", "deadline"]),
  settle: spec(scripts.settle, ["legacy"], ["nonce", "action", "original"]),
} as const;

type KeysOf<S> = S extends ScriptSpec<infer K, string> ? K : never;
type ArgvOf<S> = S extends ScriptSpec<string, infer A> ? A : never;

/** The KEYS and ARGV of a call to `s`, in the script's order. */
export function scriptArguments<S extends ScriptSpec<string, string>>(
  s: S,
  keys: Record<KeysOf<S>, string>,
  argv: Record<ArgvOf<S>, string>,
  tail: readonly string[] = [],
): { keys: string[]; args: string[] } {
  const keyList = s.keys.map((name) => (keys as Record<string, string>)[name]!);
  if (keyList.length !== s.script.numkeys || keyList.some((key) => typeof key !== "string")) {
    throw new SessionError("STORE_UNAVAILABLE", `${s.script.name}: expected ${s.script.numkeys} keys, got ${keyList.length}`);
  }
  const args = s.argv.map((name) => (argv as Record<string, string>)[name]!);
  args.push(...tail);
  return { keys: keyList, args };
}

/** Runs `s` with named KEYS and ARGV (plus its variable tail): as a function (FCALL) where the server allows, else by EVALSHA (port.ts, `runScript`). */
export function invoke<S extends ScriptSpec<string, string>>(
  port: ScriptPort,
  s: S,
  keys: Record<KeysOf<S>, string>,
  argv: Record<ArgvOf<S>, string>,
  tail: readonly string[] = [],
): Promise<unknown> {
  const call = scriptArguments(s, keys, argv, tail);
  return runScript(port, s.script, call.keys, call.args);
}

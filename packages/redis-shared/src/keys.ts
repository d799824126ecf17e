/**
 * The key schema: the only place sess builds Redis key strings. The layout (keys, hash fields,
 * tags and why) is described once, in the root README's "Redis data layout".
 *
 * The library never uses KEYS, SCAN or any pattern, so glob characters (`* ? [ ] \`) in a prefix are
 * plain characters. Braces are refused because they would move the cluster hash tag.
 */
import { createHash } from "node:crypto";
import { SessionError, TAG_LENGTH, tagOf } from "@sess/core";

/** Schema version segment: bumped when the layout of keys or fields changes incompatibly. */
export const SCHEMA_VERSION = "v2";
export const DEFAULT_PREFIX = "sess";

export interface KeySchema {
  readonly prefix: string;
  /** "<prefix>:<schema version>": what every key starts with (the scripts build session and index keys from it). */
  readonly base: string;
  /** What every session key starts with (the near cache's tracking prefix). */
  readonly sessionPrefix: string;
  session(id: string): string;
  /** The session id whose key `key` is (the inverse of `session`), or null when `key` is not a session key. */
  sessionIdOf(key: string): string | null;
  /** The sorted set of the user's sessions. */
  user(userId: string): string;
  /**
   * The sorted set listing the sessions under value `value` of the declared index `name`. Its tag is
   * the hex SHA-1 of the membership: a Lua script can build it (`redis.sha1hex`), so a standalone
   * server keeps the index in the session script itself. Not a secret, only a spread over slots.
   */
  index(name: string, value: string): string;
}

export function validatePrefix(prefix: unknown): string {
  if (typeof prefix !== "string" || prefix.length === 0) {
    throw new SessionError("CONFIG_INVALID", 'invalid option "prefix": must be a non-empty string (default "sess")');
  }
  if (prefix.includes("{") || prefix.includes("}")) {
    throw new SessionError(
      "CONFIG_INVALID",
      `invalid option "prefix": "${prefix}" contains "{" or "}", which would change the Redis Cluster hash tag; remove them`,
    );
  }
  return prefix;
}

export function createKeySchema(prefix: string = DEFAULT_PREFIX): KeySchema {
  const base = `${validatePrefix(prefix)}:${SCHEMA_VERSION}`;
  const sessionPrefix = `${base}:s:`;
  return {
    prefix,
    base,
    sessionPrefix,
    session(id) {
      return `${sessionPrefix}{${tagOf(id)}}${id.slice(TAG_LENGTH)}`;
    },
    sessionIdOf(key) {
      const at = sessionPrefix.length;
      if (!key.startsWith(sessionPrefix) || key[at] !== "{" || key[at + TAG_LENGTH + 1] !== "}") return null;
      return key.slice(at + 1, at + TAG_LENGTH + 1) + key.slice(at + TAG_LENGTH + 2);
    },
    user(userId) {
      return `${base}:u:{${createHash("sha256").update(userId).digest("base64url")}}`;
    },
    index(name, value) {
      return `${base}:x:{${createHash("sha1").update(`${name}\0${value}`).digest("hex")}}`;
    },
  };
}

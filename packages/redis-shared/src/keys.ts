/**
 * The key schema: the only place sess builds Redis key strings.
 *
 *   session    <prefix>:v1:s:{<tag>}<rest of id>   hash, one per session
 *   user index <prefix>:v1:u:{<sha256(userId)>}    sorted set, member = session id, score = absoluteExpiresAt
 *   index entry <prefix>:v1:x:{<sha256(name "\0" value)>}  sorted set, member = session id, score = expiresAt
 *
 * `<tag>` is the session's stable slot tag (`tagOf(id)`, its first 8 characters, kept by rotation),
 * so a session's old and new keys hash to the same cluster slot. It is also the token's first 8
 * characters: 48 random bits, public and outside the token's 256 secret bits; the rest of the key is
 * the SHA-256 of the whole token, so nothing in a key authenticates. The user index carries its own
 * tag (the base64url SHA-256 of the user id), so it usually lives in another slot: nothing ever
 * touches a session key and a user key in one command or script. Each secondary-index entry (one
 * per declared index name and value) has its own tag too, and is likewise only ever touched alone.
 *
 * The library never uses KEYS, SCAN or any pattern, so glob characters (`* ? [ ] \`) in a prefix are
 * plain characters. Braces are refused because they would move the cluster hash tag.
 */
import { createHash } from "node:crypto";
import { SessionError, TAG_LENGTH, tagOf } from "@sess/core";

/** Schema version segment: bumped when the layout of keys or fields changes incompatibly. */
export const SCHEMA_VERSION = "v1";
export const DEFAULT_PREFIX = "sess";

export interface KeySchema {
  readonly prefix: string;
  session(id: string): string;
  user(userId: string): string;
  /** The sorted set listing the sessions under value `value` of the declared index `name`. */
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
  return {
    prefix,
    session(id) {
      return `${base}:s:{${tagOf(id)}}${id.slice(TAG_LENGTH)}`;
    },
    user(userId) {
      return `${base}:u:{${createHash("sha256").update(userId).digest("base64url")}}`;
    },
    index(name, value) {
      return `${base}:x:{${createHash("sha256").update(`${name}\0${value}`).digest("base64url")}}`;
    },
  };
}

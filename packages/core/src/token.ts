import * as crypto from "node:crypto";

/**
 * A token is what the client holds: 8 characters of slot tag followed by 43 characters
 * encoding 256 bits from the CSPRNG, all base64url, 51 characters in all.
 *
 * The slot tag is chosen when a session is first stored and kept by every rotation, so the
 * old and new storage keys of a session hash to the same Redis Cluster slot.
 *
 * The session id (the public handle the store and listings see) is the tag followed by the
 * base64url SHA-256 of the whole token. The store never sees a token.
 */
export const TOKEN_LENGTH = 51;
export const TAG_LENGTH = 8;
export const SESSION_ID_LENGTH = 51;

// 32 bytes encode to 43 base64url characters whose last one carries 4 data bits and two zero
// bits; only these 16 characters can end a canonical encoding.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{50}[AEIMQUYcgkosw048]$/;
const ID_PATTERN = /^[A-Za-z0-9_-]{50}[AEIMQUYcgkosw048]$/;

function newTag(): string {
  return crypto.randomBytes(6).toString("base64url");
}

export function newToken(tag: string = newTag()): string {
  return tag + crypto.randomBytes(32).toString("base64url");
}

/** Strict format check: length, alphabet and canonical encoding. No store call happens for a token that fails it. */
export function isToken(value: unknown): value is string {
  return typeof value === "string" && value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value);
}

/** Format check for a session id (public handle), as given back to `endSession`. */
export function isSessionId(value: unknown): value is string {
  return typeof value === "string" && value.length === SESSION_ID_LENGTH && ID_PATTERN.test(value);
}

export function tagOf(tokenOrId: string): string {
  return tokenOrId.slice(0, TAG_LENGTH);
}

/**
 * One-shot SHA-256 as base64url: `crypto.hash` (Node 20.12 and 21.7 on) skips the Hash object a
 * `createHash` chain allocates; older versions fall back to it.
 */
// A namespace import: a named import of `hash` would fail to link on the Node versions without it.
const sha256: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (text) => crypto.hash("sha256", text, "base64url")
    : (text) => crypto.createHash("sha256").update(text).digest("base64url");

/** The session id derived from a token: tag + base64url(SHA-256(token)). */
export function sessionIdOf(token: string): string {
  return tagOf(token) + sha256(token);
}

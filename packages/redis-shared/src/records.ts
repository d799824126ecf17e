/**
 * Sessions as Redis replies hold them: the metadata fields (`$c`, `$s`, ...; the layout is in this
 * package's README, "Data layout") read from an HMGET or a whole HGETALL.
 */
import type { SessionMeta, SessionRecord } from "@sess/core";

export const META_FIELDS = ["$c", "$s", "$x", "$a", "$t", "$u", "$ua", "$ip"] as const;

/** A session's metadata from its `META_FIELDS` values; null when they do not describe a session. */
export function sessionMetaOf(id: string, values: readonly (string | null | undefined)[]): SessionMeta | null {
  const [c, s, x, a, t, u, ua, ip] = values;
  if (c == null || s == null || x == null || a == null) return null;
  const numbers = [Number(c), Number(s), Number(x), Number(a)] as const;
  if (!numbers.every(Number.isFinite)) return null;
  return {
    id,
    createdAt: numbers[0],
    lastSeenAt: numbers[1],
    expiresAt: numbers[2],
    absoluteExpiresAt: numbers[3],
    idleTimeout: t == null || !Number.isFinite(Number(t)) ? null : Number(t),
    userId: u ?? null,
    userAgent: ua ?? null,
    ip: ip ?? null,
  };
}

/**
 * The session a HGETALL reply holds, in one pass over it (as `sessionMetaOf` reads the metadata:
 * null without valid `$c`, `$s`, `$x`, `$a`), user fields (`__proto__` left out) copied as they are.
 */
export function recordOf(id: string, hash: Record<string, string>): SessionRecord | null {
  let c: string | undefined, s: string | undefined, x: string | undefined, a: string | undefined, t: string | undefined;
  let u: string | null = null, ua: string | null = null, ip: string | null = null;
  const fields: Record<string, string> = {};
  const names = Object.keys(hash);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = hash[name]!;
    if (name.charCodeAt(0) !== 36 /* $ */) {
      if (name !== "__proto__") fields[name] = value;
      continue;
    }
    switch (name) {
      case "$c": c = value; break;
      case "$s": s = value; break;
      case "$x": x = value; break;
      case "$a": a = value; break;
      case "$t": t = value; break;
      case "$u": u = value; break;
      case "$ua": ua = value; break;
      case "$ip": ip = value; break;
    }
  }
  if (c === undefined || s === undefined || x === undefined || a === undefined) return null;
  const createdAt = Number(c), lastSeenAt = Number(s), expiresAt = Number(x), absoluteExpiresAt = Number(a);
  if (!Number.isFinite(createdAt) || !Number.isFinite(lastSeenAt) || !Number.isFinite(expiresAt) || !Number.isFinite(absoluteExpiresAt)) return null;
  const idleTimeout = t === undefined || !Number.isFinite(Number(t)) ? null : Number(t);
  return { id, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, idleTimeout, userId: u, userAgent: ua, ip, fields };
}

/** `record` and its fields, frozen (the near cache's entries: shared by every request that hits them). */
export function frozenRecord(record: SessionRecord): SessionRecord {
  Object.freeze(record.fields);
  return Object.freeze(record);
}

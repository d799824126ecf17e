import { randomBytes } from "node:crypto";

/** Random bytes drawn in batches: a write id costs no CSPRNG call of its own. */
const WRITE_ID_BYTES = 6;
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * A write id, one per driver write call (see lua/include/writes.lua): 48 random bits as 8 base64url
 * characters, so the last 8 of them fit one 64-byte hash value. The chance that a write meets a
 * copy of its id among a session's last 8 is below 3e-14.
 */
export function newWriteId(): string {
  if (poolAt + WRITE_ID_BYTES > pool.length) {
    pool = randomBytes(WRITE_ID_BYTES * 256);
    poolAt = 0;
  }
  const id = pool.toString("base64url", poolAt, poolAt + WRITE_ID_BYTES);
  poolAt += WRITE_ID_BYTES;
  return id;
}

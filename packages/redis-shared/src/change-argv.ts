/** The ARGV the session scripts take for a write (their KEYS and ARGV names are in scripts.ts). */
import type { IndexSpec, SessionChange } from "@sess/core";

/** The ARGV of update-1 and rotate-2 before their tail (lua/include/change.lua), for one attempt. */
export interface ChangeArgv extends StepArgv {
  userId: string;
  score: string;
  expectedAbsolute: string;
  expectedUser: string;
  writeId: string;
  previousUserKey: string;
  endOthers: string;
}

/** The ARGV that has a session script run the steps inline (lua/include/steps.lua); all "" for none. */
export interface StepArgv {
  base: string;
  userKey: string;
  maxSessions: string;
  tombstoneMs: string;
}

export function changeArgv(change: SessionChange, now: number, keepData: boolean, attempt: ChangeArgv) {
  return {
    now: String(now),
    expiresAt: String(change.expiresAt),
    lastSeenAt: String(change.lastSeenAt),
    absoluteExpiresAt: change.absoluteExpiresAt === undefined ? "" : String(change.absoluteExpiresAt),
    idleTimeout: change.idleTimeout === undefined ? "" : change.idleTimeout === null ? "-" : String(change.idleTimeout),
    userOp: change.user === undefined ? "" : change.user === null ? "-" : "+",
    ...attempt,
    keepData: keepData ? "1" : "0",
    nSet: String(Object.keys(change.set).length),
    nRemove: String(change.remove.length),
    nIncrement: String(Object.keys(change.increment).length),
    nSpecs: String(change.indexes?.length ?? 0),
    maxFields: change.limits ? String(change.limits.maxFields) : "",
    maxBytes: change.limits ? String(change.limits.maxBytes) : "",
  };
}

/** The tail of update-1 and rotate-2: set pairs, remove names, increment pairs, index spec triples. */
export function changeTail(change: SessionChange): string[] {
  const tail: string[] = [];
  for (const [name, value] of Object.entries(change.set)) tail.push(name, value);
  tail.push(...change.remove);
  for (const [name, delta] of Object.entries(change.increment)) tail.push(name, String(delta));
  tail.push(...specArgs(change.indexes));
  return tail;
}

/** Index specs as the scripts take them: triples of kind ("f" or "p"), name, field or prefix. */
export function specArgs(indexes: readonly IndexSpec[] | undefined): string[] {
  const args: string[] = [];
  for (const spec of indexes ?? []) {
    if ("field" in spec) args.push("f", spec.name, spec.field);
    else args.push("p", spec.name, spec.fieldPrefix);
  }
  return args;
}

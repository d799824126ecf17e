import type { SessionDriver } from "@sess/core";

/** The kinds of corrupt data a harness may plant under a session id (see `ConformanceHarness.corrupt`). */
export type CorruptionKind = "wrong-type" | "bad-json-field" | "foreign-fields" | "missing-metadata";

/** What a driver's test file gives the suite. */
export interface ConformanceHarness {
  name: string;
  /** A fresh driver (fresh random key prefix for Redis drivers) for each test. */
  createDriver(): Promise<SessionDriver> | SessionDriver;
  /** The clock the driver judges expiry by, in milliseconds since the epoch. */
  now(): number;
  /** Lets time pass on that clock (fake clock advance for memory, real sleep for Redis). */
  sleep(ms: number): Promise<void>;
  /** Optional native view: remaining store TTL in ms of a session (Redis: PTTL), null if no key. */
  remainingTtl?(driver: SessionDriver, id: string): Promise<number | null>;
  /**
   * Optional: alters, behind the driver's back, the session the suite has just created under `id`
   * (it holds the field `intact` = `"kept"`):
   * - "wrong-type": replaces the session's storage with a value of another type (Redis: a string key);
   * - "bad-json-field": adds the field `CORRUPT_FIELD.name` holding `CORRUPT_FIELD.text`, which is not JSON;
   * - "foreign-fields": adds the field `FOREIGN_FIELD.name` = `FOREIGN_FIELD.text`, written by someone else;
   * - "missing-metadata": deletes the driver's own metadata, leaving the user fields.
   */
  corrupt?(driver: SessionDriver, id: string, kind: CorruptionKind): Promise<void>;
  /** Optional cleanup after each test (close the client the harness made, delete keys...), run after the suite's `driver.close()`. */
  cleanup?(driver: SessionDriver): Promise<void> | void;
}

export type ConformanceGroup =
  | "crud"
  | "fields"
  | "increments"
  | "resurrection"
  | "expiry"
  | "rotation"
  | "users"
  | "limits"
  | "corrupt"
  | "queries"
  | "lifetimes"
  | "results";

/** The field a "bad-json-field" corruption plants. */
export const CORRUPT_FIELD = { name: "bad", text: '{"unterminated": [1, 2' } as const;
/** The field a "foreign-fields" corruption plants. */
export const FOREIGN_FIELD = { name: "foreign", text: '"planted by another writer"' } as const;

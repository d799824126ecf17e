import { expect } from "vitest";
import { newToken, sessionIdOf, tagOf } from "@sess/core";
import type {
  NewSession,
  SessionChange,
  SessionDriver,
  SessionErrorCode,
  SessionMeta,
  SessionRotation,
} from "@sess/core";
import type { ConformanceHarness } from "./harness.js";

/** What each group's tests see: the harness and the driver made for the running test. */
export interface SuiteContext {
  harness: ConformanceHarness;
  driver(): SessionDriver;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A valid session id of a fresh token. */
export function newSessionId(): string {
  return sessionIdOf(newToken());
}

/** A valid rotation target for `fromId`: a fresh token with the same slot tag. */
export function rotationTargetOf(fromId: string): string {
  return sessionIdOf(newToken(tagOf(fromId)));
}

/** A user id no other test uses. */
export function newUserId(): string {
  return `user-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
}

export function newSession(harness: ConformanceHarness, overrides: Partial<NewSession> = {}): NewSession {
  const now = harness.now();
  return {
    fields: {},
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + MINUTE,
    absoluteExpiresAt: now + HOUR,
    user: null,
    userAgent: null,
    ip: null,
    ...overrides,
  };
}

export function newChange(harness: ConformanceHarness, overrides: Partial<SessionChange> = {}): SessionChange {
  const now = harness.now();
  return { set: {}, remove: [], increment: {}, lastSeenAt: now, expiresAt: now + MINUTE, ...overrides };
}

export function newRotation(harness: ConformanceHarness, overrides: Partial<SessionRotation> = {}): SessionRotation {
  return { ...newChange(harness), keepData: true, ...overrides };
}

/** Creates a session and fails the test unless the driver accepted it. Returns its id. */
export async function stored(
  context: SuiteContext,
  overrides: Partial<NewSession> = {},
  id: string = newSessionId(),
): Promise<string> {
  expect(await context.driver().create(id, newSession(context.harness, overrides))).not.toBeNull();
  return id;
}

/**
 * Checks that a promise rejects with a `SessionError` of `code`. Compared by name and code, not by
 * `instanceof`: a driver's test may load core from source while this suite loads it from `dist`.
 */
export async function expectSessionError(promise: Promise<unknown>, code: SessionErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason ?? new Error("rejected without a reason"),
  );
  expect(error, `expected a SessionError ${code}, but the call resolved`).toBeDefined();
  expect(error).toMatchObject({ name: "SessionError", code });
}

/** Whether a thrown value is a `SessionError` (by name and code, see `expectSessionError`). */
export function looksLikeSessionError(value: unknown): boolean {
  return (
    value instanceof Error && value.name === "SessionError" && typeof (value as { code?: unknown }).code === "string"
  );
}

/** The `SessionMeta` part of a listing entry or record, without anything else a driver may add. */
export function metaOf(value: SessionMeta): SessionMeta {
  return {
    id: value.id,
    createdAt: value.createdAt,
    lastSeenAt: value.lastSeenAt,
    expiresAt: value.expiresAt,
    absoluteExpiresAt: value.absoluteExpiresAt,
    idleTimeout: value.idleTimeout,
    userId: value.userId,
    userAgent: value.userAgent,
    ip: value.ip,
  };
}

/** Runs `count` tasks, at most `width` at a time. */
export async function inBatches(count: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += width) {
    const batch: Array<Promise<void>> = [];
    for (let index = start; index < Math.min(count, start + width); index += 1) batch.push(task(index));
    await Promise.all(batch);
  }
}

/** The ids among `ids` that still load. */
export async function liveIds(driver: SessionDriver, ids: readonly string[]): Promise<string[]> {
  const records = await Promise.all(ids.map((id) => driver.load(id)));
  return ids.filter((_, index) => records[index] !== null);
}

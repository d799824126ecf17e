/** The manager's `health()`: whether the store answers, and how fast, under the operation deadline. */
import type { SessionDriver } from "./driver.js";
import type { ManagerLifecycle, StoreCalls } from "./deadline.js";
import { SessionError, type SessionErrorCode } from "./errors.js";
import { newToken, sessionIdOf } from "./token.js";

/** What `health()` found. */
export interface StoreHealth {
  ok: boolean;
  /** Milliseconds the store took to answer (or to fail). */
  latency: number;
  /** Why the store is not healthy. */
  error?: SessionErrorCode;
}

/**
 * The driver's `ping()` (a session id that cannot exist is read where the driver has none), under
 * the operation deadline. Never touches a session; never rejects (a failure is `ok: false`).
 */
export async function checkHealth(
  driver: SessionDriver,
  withDeadline: StoreCalls["withDeadline"],
  lifecycle: ManagerLifecycle,
): Promise<StoreHealth> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 100) / 100;
  try {
    if (lifecycle.closed) throw new SessionError("CLOSED", "the session manager was closed");
    await withDeadline("health", () => (driver.ping ? driver.ping() : driver.load(sessionIdOf(newToken())).then(() => undefined)));
    return { ok: true, latency: latency() };
  } catch (error) {
    return { ok: false, latency: latency(), error: error instanceof SessionError ? error.code : "STORE_UNAVAILABLE" };
  }
}

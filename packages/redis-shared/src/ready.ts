/**
 * `driver.ready({ timeout })`: waits until the client is connected and would send a command now,
 * so a start-up sequence can wait for Redis without racing the client's first connection.
 */
import { SessionError } from "@sess/core";
import type { ReadyOptions } from "@sess/core";
import { assertReady, type RedisPort } from "./port.js";

export const DEFAULT_READY_TIMEOUT = 10_000;
const POLL_MS = 20;

/** Builds a driver's `ready()`: resolves once the client is ready; rejects with `STORE_UNAVAILABLE` (the client's last connection error as `cause`) after `timeout`. */
export function createReady(port: RedisPort): (options?: ReadyOptions) => Promise<void> {
  return async (options = {}) => {
    const timeout = options.timeout ?? DEFAULT_READY_TIMEOUT;
    if (!Number.isFinite(timeout) || timeout < 0) {
      throw new SessionError("CONFIG_INVALID", `invalid option "timeout" of ready(): expected milliseconds (0 or more), got ${String(timeout)}`);
    }
    const deadline = Date.now() + timeout;
    while (!port.isReady()) {
      const left = deadline - Date.now();
      if (left <= 0) assertReady(port, `ready() after ${timeout} ms`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(left, 1))));
    }
  };
}

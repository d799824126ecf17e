/**
 * The per-operation deadline: every store operation of a manager runs under it, traced on its
 * diagnostics channel (see tracing.ts), and fails as `STORE_UNAVAILABLE` when the store does not
 * answer in time. Nothing waits on a client's offline queue.
 */
import type { SessionDriver } from "./driver.js";
import { SessionError, toStoreError } from "./errors.js";
import { type StoreOperation, traced } from "./tracing.js";

/** Whether the manager was closed; shared with the manager that owns it. */
export interface ManagerLifecycle {
  closed: boolean;
}

/** The store calls of one manager, built once. */
export interface StoreCalls {
  /** Runs one store operation under the deadline, traced on its diagnostics channel (see tracing.ts). */
  call<V>(operation: StoreOperation, run: () => Promise<V>, sessionId?: string | null): Promise<V>;
  /** Runs `run` under the deadline, untraced; a driver failure becomes STORE_UNAVAILABLE. */
  withDeadline<V>(operation: StoreOperation | "health", run: () => Promise<V>): Promise<V>;
}

export function createStoreCalls(driver: SessionDriver, timeout: number, lifecycle: ManagerLifecycle): StoreCalls {
  /** Runs one store operation under the deadline, traced on its diagnostics channel (see tracing.ts). */
  function call<V>(operation: StoreOperation, run: () => Promise<V>, sessionId: string | null = null): Promise<V> {
    if (lifecycle.closed) return Promise.reject(new SessionError("CLOSED", "the session manager was closed"));
    return traced(operation, driver.name, sessionId, () => withDeadline(operation, run));
  }

  async function withDeadline<V>(operation: StoreOperation | "health", run: () => Promise<V>): Promise<V> {
    let timer: NodeJS.Timeout | undefined;
    let pending: Promise<V>;
    try {
      pending = run();
    } catch (error) {
      throw toStoreError(operation, error);
    }
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SessionError("STORE_UNAVAILABLE", `session store did not answer ${operation} within ${timeout} ms`)),
        timeout,
      );
    });
    try {
      return await Promise.race([pending, deadline]);
    } catch (error) {
      pending.catch(() => undefined); // a late failure after the deadline is not an unhandled rejection
      throw toStoreError(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  return { call, withDeadline };
}

/**
 * The per-operation deadline: every store operation of a manager runs under it, traced on its
 * diagnostics channel (see tracing.ts), and fails as `STORE_UNAVAILABLE` when the store does not
 * answer in time. Nothing waits on a client's offline queue.
 *
 * One timer per manager, not one per operation (a `setTimeout`, a deadline promise and a
 * `Promise.race` for every store call): the operations of a manager share one timeout, so their
 * deadlines fall in the order they started. Pending operations wait in a queue in that order; one
 * that settles in time is marked settled and leaves the front of the queue. The timer is armed for
 * the oldest operation still pending; when it fires it fails every operation whose deadline passed
 * and re-arms for the next. It holds the process open only while an operation is pending.
 */
import type { SessionDriver } from "./driver.js";
import { SessionError, toStoreError } from "./errors.js";
import { type StoreOperation, isTraced, traced } from "./tracing.js";

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

/** An operation waiting for the store; a class, not an object literal (why: `SessionState`). */
class Pending {
  /** `performance.now()` past which it fails. */
  readonly deadline: number;
  readonly operation: string;
  settled = false;
  readonly reject: (error: unknown) => void;

  constructor(deadline: number, operation: string, reject: (error: unknown) => void) {
    this.deadline = deadline;
    this.operation = operation;
    this.reject = reject;
  }
}

/** Settled operations the front of the queue may hold before the array is compacted. */
const COMPACT_AT = 1024;

export function createStoreCalls(driver: SessionDriver, timeout: number, lifecycle: ManagerLifecycle): StoreCalls {
  let queue: (Pending | undefined)[] = [];
  let head = 0;
  let live = 0;
  let timer: NodeJS.Timeout | null = null;

  /** Drops settled operations from the front of the queue. */
  function advance(): void {
    while (head < queue.length && queue[head]!.settled) queue[head++] = undefined;
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head >= COMPACT_AT && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  function expire(): void {
    timer = null;
    const now = performance.now();
    for (let entry = queue[head]; entry !== undefined && entry.deadline <= now; entry = queue[head]) {
      queue[head++] = undefined;
      if (entry.settled) continue;
      entry.settled = true;
      live--;
      entry.reject(new SessionError("STORE_UNAVAILABLE", `session store did not answer ${entry.operation} within ${timeout} ms`));
    }
    advance();
    if (head < queue.length) timer = setTimeout(expire, Math.max(1, Math.ceil(queue[head]!.deadline - now)));
  }

  function settle(entry: Pending): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    if (--live === 0) timer?.unref(); // none pending: the timer (it will find nothing) must not hold the process open
    if (entry === queue[head]) advance();
    return true;
  }

  function withDeadline<V>(operation: StoreOperation | "health", run: () => Promise<V>): Promise<V> {
    let pending: Promise<V>;
    try {
      pending = run();
    } catch (error) {
      return Promise.reject(toStoreError(operation, error));
    }
    return new Promise<V>((resolve, reject) => {
      const entry = new Pending(performance.now() + timeout, operation, reject);
      queue.push(entry);
      if (live++ === 0) timer?.ref();
      timer ??= setTimeout(expire, timeout);
      pending.then(
        (value) => {
          if (settle(entry)) resolve(value);
        },
        (error: unknown) => {
          // Past the deadline too: a late failure is handled here, never an unhandled rejection.
          if (settle(entry)) reject(toStoreError(operation, error));
        },
      );
    });
  }

  /** Runs one store operation under the deadline, traced on its diagnostics channel (see tracing.ts). */
  function call<V>(operation: StoreOperation, run: () => Promise<V>, sessionId: string | null = null): Promise<V> {
    if (lifecycle.closed) return Promise.reject(new SessionError("CLOSED", "the session manager was closed"));
    if (!isTraced(operation)) return withDeadline(operation, run); // no closure for the tracer when none listens
    return traced(operation, driver.name, sessionId, () => withDeadline(operation, run));
  }

  return { call, withDeadline };
}

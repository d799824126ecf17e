/**
 * Opt-in replica acknowledgement: the writes a failover must not lose (creation, login and logout,
 * rotation, destroy, ending a user's sessions) wait for `WAIT <replicas> <timeout>` once the
 * operation's last write is done, sent on the connection that wrote (routed by the session's or the
 * user index's key). WAIT counts the replicas that have every write of that connection so far: on
 * a standalone or Sentinel client that is the whole operation (session hash and index entries); on
 * a cluster, the writes on the session's own node.
 *
 * Replication stays asynchronous: a write is on the primary before WAIT answers, and a shortfall
 * does not undo it. It only tells the application that the write could be lost if the primary
 * failed now.
 */
import { configError, SessionError } from "@sess/core";
import type { ReplicaAckOptions, ReplicaShortfall, SessionDriver } from "@sess/core";
import type { KeySchema } from "./keys.js";
import { storeError } from "./port.js";
import type { RedisPort } from "./port.js";

/** What the acknowledgement needs of the client: WAIT on the connection that serves `key`. */
export interface ReplicaPort extends RedisPort {
  /** `WAIT replicas timeout` on the connection that serves `key`: the number of replicas that acknowledged. */
  waitForReplicas(key: string, replicas: number, timeout: number): Promise<number>;
}

/** `value` if it is a positive (safe) integer; else CONFIG_INVALID naming `option`. */
export function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw configError(option, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Validates `replicaAck`; undefined when not given. */
export function replicaAckOptions(options: ReplicaAckOptions | undefined): Required<Omit<ReplicaAckOptions, "onShortfall">> & Pick<ReplicaAckOptions, "onShortfall"> | undefined {
  if (options === undefined) return undefined;
  const replicas = positiveInteger("replicaAck.replicas", options.replicas);
  const timeout = positiveInteger("replicaAck.timeout", options.timeout);
  const shortfall = options.shortfall ?? "fail";
  if (shortfall !== "fail" && shortfall !== "accept") throw configError("replicaAck.shortfall", `must be "fail" or "accept", got ${String(shortfall)}`);
  if (options.onShortfall !== undefined && typeof options.onShortfall !== "function") throw configError("replicaAck.onShortfall", "must be a function");
  return { replicas, timeout, shortfall, onShortfall: options.onShortfall };
}

/** `driver` with replica acknowledgement on its failover-sensitive writes, or `driver` itself when `options` is undefined. */
export function withReplicaAck(driver: SessionDriver, port: ReplicaPort, keys: KeySchema, options: ReplicaAckOptions | undefined): SessionDriver {
  const settings = replicaAckOptions(options);
  if (settings === undefined) return driver;
  const { replicas, timeout, shortfall, onShortfall } = settings;

  async function acknowledge(operation: string, key: string): Promise<void> {
    let acknowledged: number;
    try {
      acknowledged = await port.waitForReplicas(key, replicas, timeout);
    } catch (error) {
      throw storeError(port, `${operation} (WAIT for replicas)`, error);
    }
    if (acknowledged >= replicas) return;
    const report: ReplicaShortfall = { operation, acknowledged, replicas, timeout };
    onShortfall?.(report);
    if (shortfall === "fail") {
      throw new SessionError(
        "STORE_UNAVAILABLE",
        `${port.name}: ${operation} written on the primary but acknowledged by ${acknowledged} of ${replicas} replicas within ${timeout} ms`,
      );
    }
  }

  /** `method` of the driver, then WAIT when `after` names the operation and the key whose connection wrote. */
  function acknowledged<A extends unknown[], R>(
    method: (...args: A) => Promise<R>,
    after: (result: R, ...args: A) => readonly [operation: string, key: string] | null,
  ): (...args: A) => Promise<R> {
    return async (...args) => {
      const result = await method.apply(driver, args);
      const step = after(result, ...args);
      if (step !== null) await acknowledge(...step);
      return result;
    };
  }

  return {
    ...driver,
    create: acknowledged(driver.create, (created, id) => (created ? ["create", keys.session(id)] : null)),
    update: acknowledged(driver.update, (result, id, change) =>
      result !== null && change.user !== undefined ? [change.user === null ? "logout" : "login", keys.session(id)] : null,
    ),
    rotate: acknowledged(driver.rotate, (result, _fromId, toId) => (result !== null ? ["rotate", keys.session(toId)] : null)),
    destroy: acknowledged(driver.destroy, (destroyed, id) => (destroyed ? ["destroy", keys.session(id)] : null)),
    endUserSessions: acknowledged(driver.endUserSessions, (ended, userId) => (ended > 0 ? ["endUserSessions", keys.user(userId)] : null)),
  };
}

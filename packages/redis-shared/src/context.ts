/** What every part of a Redis driver shares: the port, the key schema, and how a call is begun and sent. */
import { SessionError } from "@sess/core";
import type { At } from "@sess/core";
import { createKeySchema } from "./keys.js";
import type { KeySchema } from "./keys.js";
import { assertReady, storeError } from "./port.js";
import type { RedisPort } from "./port.js";
import { invoke } from "./scripts.js";
import type { ScriptSpec } from "./scripts.js";

export interface DriverContext {
  port: RedisPort;
  keys: KeySchema;
  /** One server holds every key: the session scripts run the user-sessions, index and limit steps. */
  inline: boolean;
  /** Checks the driver can send now; returns the time the call is judged at (the caller's `now`, else the clock). */
  begin(operation: string, at?: At): number;
  /** Sends one command; a failure becomes a STORE_UNAVAILABLE SessionError naming `operation`. */
  call<T>(operation: string, send: () => Promise<T>): Promise<T>;
  /** Runs one script with its named KEYS and ARGV (and the tail after them), as `call` does. */
  run<S extends ScriptSpec<string, string>>(
    operation: string,
    spec: S,
    scriptKeys: Parameters<typeof invoke<S>>[2],
    argv: Parameters<typeof invoke<S>>[3],
    tail?: readonly string[],
  ): Promise<unknown>;
  /** After this, every `begin` throws CLOSED. */
  close(): void;
}

export function createDriverContext(port: RedisPort, prefix: string | undefined): DriverContext {
  let closed = false;
  const call = async <T>(operation: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw storeError(port, operation, error);
    }
  };
  return {
    port,
    keys: createKeySchema(prefix),
    inline: port.oneServer === true,
    begin(operation, at) {
      if (closed) throw new SessionError("CLOSED", `${port.name} driver: ${operation} after close()`);
      assertReady(port, operation);
      return at?.now ?? Date.now();
    },
    call,
    run(operation, spec, scriptKeys, argv, tail = []) {
      return call(operation, () => invoke(port, spec, scriptKeys, argv, tail));
    },
    close() {
      closed = true;
      port.unwatch?.();
    },
  };
}

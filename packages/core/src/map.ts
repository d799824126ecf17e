/**
 * Map fields: a collection kept as one session field per entry (`cart:<key>`), so two requests that
 * change different entries never overwrite each other (a whole-object field would be written back
 * whole by each request, and the last one wins). Typed from the session interface:
 * `` interface Data { [k: `cart:${string}`]: number } `` gives `session.map("cart")` of numbers.
 */
import { SessionError } from "./errors.js";
import type { DeepReadonly } from "./session.js";

/** The map names of a session type: `P` for every `` `${P}:${string}` `` key (any name for an untyped session). */
export type MapName<T> = string extends keyof T
  ? string
  : { [K in keyof T & string]: K extends `${infer P}:${string}` ? P : never }[keyof T & string];

/** The entry type of map `P`. */
export type MapValue<T, P extends string> = string extends keyof T
  ? T[string & keyof T]
  : { [K in keyof T]: K extends `${P}:${string}` ? T[K] : never }[keyof T];

/** What a map uses of its session (the untyped field operations). */
export interface MapSession {
  get(field: string): unknown;
  set(field: string, value: unknown): void;
  unset(field: string): void;
  increment(field: string, by?: number): number;
  fieldNames(): IterableIterator<string>;
}

export class SessionMap<V> {
  readonly #session: MapSession;
  readonly #prefix: string;

  constructor(session: MapSession, name: string) {
    if (typeof name !== "string" || name.length === 0 || name.includes(":")) {
      throw new SessionError("VALUE_INVALID", `a map name is a non-empty string without ":", got ${JSON.stringify(String(name))}`);
    }
    this.#session = session;
    this.#prefix = `${name}:`;
  }

  #field(key: string): string {
    if (typeof key !== "string" || key.length === 0) {
      throw new SessionError("VALUE_INVALID", `a key of map "${this.#prefix.slice(0, -1)}" is a non-empty string`);
    }
    return this.#prefix + key;
  }

  get(key: string): DeepReadonly<V> | undefined {
    return this.#session.get(this.#field(key)) as DeepReadonly<V> | undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Writes one entry (one field); `undefined` removes it. */
  set(key: string, value: V | undefined): void {
    this.#session.set(this.#field(key), value);
  }

  /** Removes one entry. */
  delete(key: string): void {
    this.#session.unset(this.#field(key));
  }

  /** Adds `by` (default 1) to a number entry atomically in the store; concurrent increments all count. */
  increment(key: string, by = 1): number {
    return this.#session.increment(this.#field(key), by);
  }

  /** Every entry, by key. */
  all(): Record<string, DeepReadonly<V>> {
    const out: Record<string, DeepReadonly<V>> = {};
    for (const field of this.#session.fieldNames()) {
      if (!field.startsWith(this.#prefix)) continue;
      const value = this.#session.get(field);
      if (value !== undefined) out[field.slice(this.#prefix.length)] = value as DeepReadonly<V>;
    }
    return out;
  }

  /** Removes every entry. */
  clear(): void {
    for (const field of [...this.#session.fieldNames()]) {
      if (field.startsWith(this.#prefix)) this.#session.unset(field);
    }
  }
}

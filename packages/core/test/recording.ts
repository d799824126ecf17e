import type { SessionDriver } from "../src/index.js";
import { createMemoryDriver } from "../src/memory.js";

export interface Call {
  method: string;
  args: unknown[];
}

/** A memory driver that records every call made to it, with a controllable clock. */
export function recordingDriver(start = 1_700_000_000_000) {
  let now = start;
  const clock = () => now;
  const inner = createMemoryDriver({ clock });
  const calls: Call[] = [];
  const driver = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        calls.push({ method: property, args: structuredClone(args) });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as SessionDriver;
  return {
    driver,
    calls,
    clock,
    advance(ms: number) {
      now += ms;
    },
    methods: () => calls.map((call) => call.method),
  };
}

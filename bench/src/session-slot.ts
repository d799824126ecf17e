/**
 * What it costs an Express request to hold its session, by way of holding it (PROFILE-NOTES §10).
 *
 * Express moves every request to its app's request prototype (`Object.setPrototypeOf`), after which
 * the V8 of Node 20 and 22 takes a slow path for each property added to it. Per request, in one
 * process: a new `IncomingMessage`, moved to an Express 5 app's request prototype, with the
 * properties Express adds before any middleware runs; then one way of holding a session, read back
 * once through `req.session`:
 *
 * - `none`: nothing (the baseline);
 * - `slot`: a symbol property and one `session` accessor shared by every request (what sess does);
 * - `weakmap`: an entry in a `WeakMap` from request to session and a shared accessor;
 * - `closure`: one accessor whose getter closes over the session.
 *
 * Prints µs per request for each way, each round (the first round is a warm-up and not printed),
 * then the median of each over the rounds, minus `none`. Run it under each Node to compare.
 *
 * Usage: node --import tsx src/session-slot.ts [--requests=N] [--rounds=N]
 */
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import express from "express";

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const requests = option("requests", 200_000);
const rounds = option("rounds", 4);

type Held = { readonly n: number };
type Request = IncomingMessage & Record<PropertyKey, unknown>;

const proto = (express() as unknown as { request: object }).request;
const socket = new Socket();
const slot = Symbol("session");
const store = new WeakMap<object, Held>();
function refuse(): never {
  throw new TypeError("session cannot be replaced");
}
const slotAccessor: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request) {
    return this[slot];
  },
  set: refuse,
};
const mapAccessor: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request) {
    return store.get(this);
  },
  set: refuse,
};

const ways: Record<string, (req: Request, held: Held) => unknown> = {
  none: (_req, held) => held,
  slot(req, held) {
    req[slot] = held;
    Object.defineProperty(req, "session", slotAccessor);
    return req.session;
  },
  weakmap(req, held) {
    store.set(req, held);
    Object.defineProperty(req, "session", mapAccessor);
    return req.session;
  },
  closure(req, held) {
    Object.defineProperty(req, "session", { configurable: true, enumerable: true, get: () => held, set: refuse });
    return req.session;
  },
};

function request(): Request {
  const req = new IncomingMessage(socket) as Request;
  Object.setPrototypeOf(req, proto);
  // What Express's router sets on every request before the first middleware.
  req.res = null;
  req.next = null;
  req.baseUrl = "";
  req.originalUrl = "/me";
  req.params = {};
  return req;
}

const timings = new Map<string, number[]>(Object.keys(ways).map((name) => [name, []]));
let mismatches = 0;
for (let round = 0; round <= rounds; round++) {
  for (const [name, hold] of Object.entries(ways)) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < requests; i++) {
      const held = { n: i };
      if (hold(request(), held) !== held) mismatches++;
    }
    const us = Number(process.hrtime.bigint() - started) / 1000 / requests;
    if (round > 0) {
      timings.get(name)!.push(us);
      console.log(`round ${round} ${name.padEnd(8)} ${us.toFixed(3)} µs/request`);
    }
  }
}
if (mismatches > 0) throw new Error(`${mismatches} requests read back another session`);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const base = median(timings.get("none")!);
console.log(`\nNode ${process.versions.node} (V8 ${process.versions.v8}), ${requests} requests per way, median of ${rounds} rounds, over none:`);
for (const [name, values] of timings) {
  if (name !== "none") console.log(`  ${name.padEnd(8)} +${(median(values) - base).toFixed(2)} µs/request`);
}

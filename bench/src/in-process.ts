/**
 * An in-process stand-in for a Koa request, for the benchmarks that run sess's middleware with no
 * HTTP server and no framework (`hit-path.ts`, `redis-cost.ts`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SessionContext } from "@sess/koa";

/** The part of a response the middleware uses: headers kept in a map (a class: no closures per request). */
export class Response {
  statusCode = 200;
  headersSent = false;
  readonly headersOut = new Map<string, unknown>();
  setHeader(name: string, value: unknown): void {
    this.headersOut.set(name.toLowerCase(), value);
  }
  getHeader(name: string): unknown {
    return this.headersOut.get(name.toLowerCase());
  }
  appendHeader(name: string, value: unknown): void {
    const previous = this.headersOut.get(name.toLowerCase());
    this.headersOut.set(name.toLowerCase(), previous === undefined ? value : [previous, value].flat());
  }
  getHeaderNames(): string[] {
    return [...this.headersOut.keys()];
  }
  removeHeader(name: string): void {
    this.headersOut.delete(name.toLowerCase());
  }
}

const SOCKET = { remoteAddress: "127.0.0.1" };

/** What every context is made from, as Koa makes each request's context from its application's `app.context`. */
const APP_CONTEXT: object = {};

/** A Koa-like context: the request headers the middleware reads, a response that keeps the headers set on it. */
export function contextOf(cookie: string | undefined): SessionContext & { res: Response } {
  const req = { headers: cookie === undefined ? {} : { cookie }, socket: SOCKET };
  const ctx = Object.create(APP_CONTEXT) as SessionContext & { res: Response };
  ctx.req = req as unknown as IncomingMessage;
  ctx.res = new Response() as Response & ServerResponse;
  ctx.ip = "127.0.0.1";
  return ctx;
}

/** The `name=value` part of the session cookie a response set. */
export function cookieOf(ctx: { res: Response }): string {
  const setCookie = ctx.res.headersOut.get("set-cookie");
  return String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(";")[0]!;
}

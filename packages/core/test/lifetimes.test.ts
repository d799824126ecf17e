import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RequestInfo, Session, SessionManager, SessionManagerOptions } from "../src/index.js";
import { createSessionManager, sessionIdOf } from "../src/index.js";
import { recordingDriver } from "./recording.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const REMEMBER = { idleTimeout: 7 * DAY, absoluteTimeout: 30 * DAY };

let rec: ReturnType<typeof recordingDriver>;
let manager: SessionManager<Record<string, number>>;

function makeManager(options: Partial<SessionManagerOptions> = {}) {
  return createSessionManager<Record<string, number>>({
    driver: rec.driver,
    clock: rec.clock,
    idleTimeout: 30 * MIN,
    absoluteTimeout: 12 * HOUR,
    renewAfter: MIN,
    onWarning: () => {},
    ...options,
  });
}

function request(token?: string): RequestInfo {
  return { header: (name) => (name === "cookie" && token ? `sess=${token}` : undefined), secure: false };
}

/** One request: open, handler, commit. Returns the token and Max-Age of the cookie it set (if any). */
async function run(token: string | undefined, handler: (session: Session<Record<string, number>>) => void = () => {}) {
  const open = await manager.open(request(token));
  handler(open.session);
  const { headers } = await open.commit();
  const cookie = headers.find(([name]) => name === "set-cookie")?.[1];
  const issued = cookie === undefined ? undefined : /^sess=([^;]*)/.exec(cookie)?.[1];
  const maxAge = cookie === undefined ? undefined : Number(/Max-Age=(\d+)/.exec(cookie)?.[1]);
  return { token: issued || token, maxAge, session: open.session };
}

async function stored(token: string) {
  return rec.driver.load(sessionIdOf(token));
}

beforeEach(() => {
  rec = recordingDriver();
  manager = makeManager();
});

afterEach(async () => {
  await manager.close();
});

describe("session.login with lifetimes (remember me)", () => {
  it("stores the session's own idle timeout and absolute deadline; the cookie and the store expiry follow them", async () => {
    const start = rec.clock();
    const { token, maxAge } = await run(undefined, (s) => s.login("ada", REMEMBER));
    expect(maxAge).toBe((7 * DAY) / 1000);
    expect(await stored(token!)).toMatchObject({ idleTimeout: 7 * DAY, expiresAt: start + 7 * DAY, absoluteExpiresAt: start + 30 * DAY });
    expect((rec.driver as unknown as { remainingTtl(id: string): number }).remainingTtl(sessionIdOf(token!))).toBe(7 * DAY);
  });

  it("works on a stored anonymous session too (rotation), keeping its data", async () => {
    const first = await run(undefined, (s) => s.set("cart:mug", 1));
    const { token, maxAge } = await run(first.token, (s) => s.login("ada", REMEMBER));
    expect(maxAge).toBe((7 * DAY) / 1000);
    expect(await stored(token!)).toMatchObject({ fields: { "cart:mug": "1" }, idleTimeout: 7 * DAY, userId: "ada" });
  });

  it("renews by the session's own idle timeout: the sliding window is 7 days, not the manager's 30 minutes", async () => {
    const { token } = await run(undefined, (s) => s.login("ada", REMEMBER));
    rec.advance(2 * DAY); // far past the manager's idle timeout
    const read = await run(token);
    expect(read.session.userId).toBe("ada");
    expect(read.maxAge).toBe((7 * DAY) / 1000);
    expect((await stored(token!))?.expiresAt).toBe(rec.clock() + 7 * DAY);
  });

  it("never renews past the session's absolute deadline", async () => {
    const start = rec.clock();
    const { token } = await run(undefined, (s) => s.login("ada", REMEMBER));
    for (let day = 0; day < 27; day += 6) {
      rec.advance(6 * DAY);
      await run(token);
    }
    rec.advance(1 * DAY); // day 31
    const late = await run(token);
    expect(late.session.userId).toBeNull();
    expect(rec.clock()).toBeGreaterThan(start + 30 * DAY);
  });

  it("keeps the lifetimes across regenerate()", async () => {
    const start = rec.clock();
    const { token } = await run(undefined, (s) => s.login("ada", REMEMBER));
    rec.advance(HOUR);
    const rotated = await run(token, (s) => s.regenerate());
    expect(rotated.token).not.toBe(token);
    expect(rotated.maxAge).toBe((7 * DAY) / 1000);
    expect(await stored(rotated.token!)).toMatchObject({ idleTimeout: 7 * DAY, absoluteExpiresAt: start + 30 * DAY });
  });

  it("regenerate() with lifetimes gives them to the session, the absolute one counted from now", async () => {
    const { token } = await run(undefined, (s) => s.login("ada"));
    rec.advance(HOUR);
    const rotated = await run(token, (s) => s.regenerate({ idleTimeout: 2 * DAY, absoluteTimeout: 10 * DAY }));
    expect(rotated.maxAge).toBe((2 * DAY) / 1000);
    expect(await stored(rotated.token!)).toMatchObject({ idleTimeout: 2 * DAY, absoluteExpiresAt: rec.clock() + 10 * DAY });
  });

  it("a later login without lifetimes returns the session to the manager's", async () => {
    const { token } = await run(undefined, (s) => s.login("ada", REMEMBER));
    rec.advance(HOUR);
    const again = await run(token, (s) => s.login("ada"));
    expect(again.maxAge).toBe((30 * MIN) / 1000);
    expect(await stored(again.token!)).toMatchObject({
      idleTimeout: null,
      expiresAt: rec.clock() + 30 * MIN,
      absoluteExpiresAt: rec.clock() + 12 * HOUR,
    });
  });

  it("lists the lifetimes with the user's sessions", async () => {
    await run(undefined, (s) => s.login("ada", REMEMBER));
    expect((await manager.listUserSessions("ada")).map((meta) => meta.idleTimeout)).toEqual([7 * DAY]);
  });

  describe("when the lifetimes are invalid", () => {
    it.each([
      [{ idleTimeout: 1800.5 }, /"idleTimeout": expected a positive whole number of milliseconds, got 1800.5/],
      [{ absoluteTimeout: 0 }, /"absoluteTimeout": expected a positive whole number of milliseconds, got 0/],
      [{ idleTimeout: "7d" }, /"idleTimeout": expected a positive whole number of milliseconds, got "7d"/],
      [{ idleTimeout: 13 * HOUR }, /longer than the session's absolute lifetime \(43200000 ms\)/],
      [{ idleTimeout: 2 * DAY, absoluteTimeout: DAY }, /longer than the session's absolute lifetime/],
      [{ absoluteTimeout: 401 * DAY }, /a persistent cookie cannot outlive 400 days/],
    ])("login throws VALUE_INVALID for %o and changes nothing", async (lifetime, message) => {
      const open = await manager.open(request());
      expect(() => open.session.login("ada", lifetime as never)).toThrow(expect.objectContaining({ code: "VALUE_INVALID", message: expect.stringMatching(message) }));
      expect(() => open.session.regenerate(lifetime as never)).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
      expect(open.session.userId).toBeNull();
      expect(open.session.id).toBeNull();
      expect((await open.commit()).headers).toEqual([]);
      expect(rec.calls).toEqual([]);
    });

    it("allows an absolute lifetime past 400 days when the cookie is a browser-session cookie", async () => {
      await manager.close();
      rec = recordingDriver();
      manager = makeManager({ cookie: { persistent: false } });
      const { token } = await run(undefined, (s) => s.login("ada", { absoluteTimeout: 500 * DAY }));
      expect((await stored(token!))?.absoluteExpiresAt).toBe(rec.clock() + 500 * DAY);
    });
  });
});

describe("one clock", () => {
  it("tells the driver the manager's clock as now on every call", async () => {
    const { token } = await run(undefined, (s) => s.login("ada"));
    rec.advance(2 * MIN);
    await run(token, (s) => s.set("n", 1));
    await manager.listUserSessions("ada");
    await manager.endUserSessions("ada");
    const nows = rec.calls.map((call) => {
      const last = call.args.at(-1) as { now?: number } | undefined;
      return [call.method, last?.now];
    });
    expect(nows).toEqual([
      ["create", rec.clock() - 2 * MIN],
      ["load", rec.clock()],
      ["update", rec.clock()],
      ["listUserSessions", rec.clock()],
      ["endUserSessions", rec.clock()],
    ]);
  });
});

describe("manager.endSession with a user id", () => {
  it("is one driver call that ends the session only when it belongs to that user", async () => {
    const { token } = await run(undefined, (s) => s.login("ada"));
    const id = sessionIdOf(token!);
    rec.calls.length = 0;
    expect(await manager.endSession(id, { userId: "bob" })).toBe(false);
    expect(await stored(token!)).not.toBeNull();
    expect(await manager.endSession(id, { userId: "ada" })).toBe(true);
    expect(await stored(token!)).toBeNull();
    expect(rec.methods().filter((method) => method !== "load")).toEqual(["destroy", "destroy"]);
    expect(rec.calls[0]!.args).toEqual([id, { userId: "bob", now: rec.clock() }]);
  });
});

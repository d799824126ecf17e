/**
 * The session events a manager reports (`onEvent` and the `sess:event` channel), each produced by a
 * real scenario on one driver. Run by the memory driver's tests and by both Redis drivers'.
 */
import { channel } from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import {
  EVENT_CHANNEL,
  createSessionManager,
  sessionIdOf,
  type RequestInfo,
  type SessionDriver,
  type SessionEvent,
  type SessionManager,
  type SessionManagerOptions,
} from "@sess/core";

export interface EventHarness {
  name: string;
  /** A fresh driver (its own key prefix); closed by the suite. */
  createDriver(): SessionDriver | Promise<SessionDriver>;
}

type Data = Record<string, unknown>;

export function request(token?: string, userAgent = "events-test/1"): RequestInfo {
  return {
    header: (name) => (name === "cookie" && token ? `sess=${token}` : name === "user-agent" ? userAgent : undefined),
    secure: false,
  };
}

export function tokenOf(headers: ReadonlyArray<readonly [string, string]>): string {
  const cookie = headers.find(([name]) => name === "set-cookie")?.[1];
  const token = /^sess=([^;]+)/.exec(cookie ?? "")?.[1];
  if (!token) throw new Error("no session cookie was issued");
  return token;
}

export function describeSessionEvents(harness: EventHarness): void {
  describe(`session events on the ${harness.name} driver`, () => {
    const open: Array<SessionManager<Data>> = [];
    afterEach(async () => {
      for (const manager of open.splice(0)) await manager.close();
    });

    async function setup(options: Partial<SessionManagerOptions> = {}) {
      const events: SessionEvent[] = [];
      const driver = await harness.createDriver();
      const manager = createSessionManager<Data>({ driver, onEvent: (event) => events.push(event), ...options });
      open.push(manager);
      async function login(userId: string, token?: string): Promise<string> {
        const opened = await manager.open(request(token));
        opened.session.login(userId);
        return tokenOf((await opened.commit()).headers);
      }
      async function anonymous(): Promise<string> {
        const opened = await manager.open(request());
        opened.session.set("theme", "dark");
        return tokenOf((await opened.commit()).headers);
      }
      return { events, driver, manager, login, anonymous };
    }

    it("reports created, rotated by login and by regenerate, and ended by logout", async () => {
      const { events, manager, login, anonymous } = await setup();
      const first = await anonymous();
      const loggedIn = await login("u1", first);
      let opened = await manager.open(request(loggedIn));
      opened.session.regenerate();
      const regenerated = tokenOf((await opened.commit()).headers);
      opened = await manager.open(request(regenerated));
      opened.session.destroy();
      await opened.commit();
      expect(events).toEqual([
        { type: "created", sessionId: sessionIdOf(first) },
        { type: "rotated", reason: "login", sessionId: sessionIdOf(loggedIn), previousId: sessionIdOf(first) },
        { type: "rotated", reason: "regenerate", sessionId: sessionIdOf(regenerated), previousId: sessionIdOf(loggedIn) },
        { type: "ended", reason: "logout", operation: "destroy", sessionId: sessionIdOf(regenerated), count: 1 },
      ]);
    });

    it("reports sessions ended by id and user-wide, with the count and the kept session", async () => {
      const { events, manager, login } = await setup();
      const a = await login("u1");
      const b = await login("u1");
      await login("u1");
      await login("u1");
      events.length = 0;
      expect(await manager.endSession(sessionIdOf(a))).toBe(true);
      expect(await manager.endSession(sessionIdOf(a))).toBe(false); // already ended: no event
      expect(await manager.endUserSessions("u1", { exceptId: sessionIdOf(b) })).toBe(2);
      expect(await manager.endUserSessions("nobody")).toBe(0); // nothing ended: no event
      expect(events).toEqual([
        { type: "ended", reason: "end", operation: "endSession", sessionId: sessionIdOf(a), count: 1 },
        { type: "ended", reason: "user", operation: "endUserSessions", sessionId: null, count: 2, keptId: sessionIdOf(b) },
      ]);
      const e = await login("u1");
      events.length = 0;
      const opened = await manager.open(request(e));
      opened.session.regenerate({ endOtherSessions: true });
      const kept = tokenOf((await opened.commit()).headers);
      expect(events).toEqual([
        { type: "ended", reason: "user", operation: "endUserSessions", sessionId: null, count: 1, keptId: sessionIdOf(e) },
        { type: "rotated", reason: "regenerate", sessionId: sessionIdOf(kept), previousId: sessionIdOf(e) },
      ]);
      expect((await manager.listUserSessions("u1")).map((meta) => meta.id)).toEqual([sessionIdOf(kept)]);
    });

    it("reports each session ended by maxSessionsPerUser, by the write that ended it", async () => {
      const { events, manager, login, anonymous } = await setup({ maxSessionsPerUser: 2 });
      const tick = () => new Promise((resolve) => setTimeout(resolve, 5)); // the oldest is told by its login time
      const a = await login("u1");
      await tick();
      const b = await login("u1");
      await tick();
      events.length = 0;
      const c = await login("u1");
      await tick();
      expect(events).toEqual([
        { type: "created", sessionId: sessionIdOf(c) },
        { type: "ended", reason: "limit", operation: "create", sessionId: sessionIdOf(a), count: 1 },
      ]);
      const guest = await anonymous();
      events.length = 0;
      await tick();
      const d = await login("u1", guest);
      expect(events).toEqual([
        { type: "rotated", reason: "login", sessionId: sessionIdOf(d), previousId: sessionIdOf(guest) },
        { type: "ended", reason: "limit", operation: "rotate", sessionId: sessionIdOf(b), count: 1 },
      ]);
      expect((await manager.listUserSessions("u1")).map((meta) => meta.id)).toEqual([sessionIdOf(c), sessionIdOf(d)]);
    });

    it("reports a session ended by a binding mismatch, with what differed", async () => {
      const { events, manager, anonymous } = await setup({ bind: { userAgent: true } });
      const token = await anonymous();
      events.length = 0;
      expect((await manager.open(request(token, "other-agent/2"))).session.isNew).toBe(true);
      expect(events).toEqual([
        { type: "ended", reason: "binding", operation: "destroy", sessionId: sessionIdOf(token), count: 1, mismatch: "user-agent" },
      ]);
    });

    it("reports a session the driver returned past its deadline by the manager's clock", async () => {
      const { events, driver, anonymous } = await setup({ idleTimeout: 60_000 });
      const token = await anonymous();
      const later: SessionEvent[] = [];
      // The manager's clock is ahead of the one the driver judges by (this driver is not told the manager's now).
      const behind: SessionDriver = Object.assign(Object.create(driver) as SessionDriver, { load: (id: string) => driver.load(id) });
      const ahead = createSessionManager<Data>({ driver: behind, idleTimeout: 60_000, clock: () => Date.now() + 120_000, onEvent: (event) => later.push(event) });
      expect((await ahead.open(request(token))).session.isNew).toBe(true);
      expect(later).toEqual([{ type: "ended", reason: "expired", operation: "load", sessionId: sessionIdOf(token), count: 1 }]);
      expect(events.map((event) => event.type)).toEqual(["created"]);
    });

    it("reports a write refused because a parallel request ended the session", async () => {
      const { events, manager, login } = await setup();
      const token = await login("u1");
      events.length = 0;
      const slow = await manager.open(request(token));
      await manager.endSession(sessionIdOf(token));
      slow.session.set("cart", 1);
      await expect(slow.commit()).rejects.toMatchObject({ code: "CONFLICT" });
      expect(events).toEqual([
        { type: "ended", reason: "end", operation: "endSession", sessionId: sessionIdOf(token), count: 1 },
        { type: "conflict", sessionId: sessionIdOf(token), operation: "update", rotated: false },
      ]);
    });

    it("reports a write refused because a parallel request rotated the session", async () => {
      const { events, manager, login } = await setup();
      const token = await login("u1");
      events.length = 0;
      const slow = await manager.open(request(token));
      const fast = await manager.open(request(token));
      fast.session.regenerate();
      const next = tokenOf((await fast.commit()).headers);
      slow.session.set("cart", 1);
      await expect(slow.commit()).rejects.toMatchObject({ code: "CONFLICT" });
      expect(events).toEqual([
        { type: "rotated", reason: "regenerate", sessionId: sessionIdOf(next), previousId: sessionIdOf(token) },
        { type: "conflict", sessionId: sessionIdOf(token), operation: "update", rotated: true },
      ]);
    });

    it("publishes every event on the sess:event channel, with or without onEvent", async () => {
      const published: unknown[] = [];
      const listener = (message: unknown) => published.push(message);
      channel(EVENT_CHANNEL).subscribe(listener);
      try {
        const manager = createSessionManager<Data>({ driver: await harness.createDriver() });
        open.push(manager);
        const opened = await manager.open(request());
        opened.session.login("u1");
        const token = tokenOf((await opened.commit()).headers);
        expect(await manager.endSession(sessionIdOf(token))).toBe(true);
        expect(published).toEqual([
          { type: "created", sessionId: sessionIdOf(token) },
          { type: "ended", reason: "end", operation: "endSession", sessionId: sessionIdOf(token), count: 1 },
        ]);
      } finally {
        channel(EVENT_CHANNEL).unsubscribe(listener);
      }
    });

    it("keeps serving the request when an onEvent listener throws or rejects, and warns", async () => {
      const warnings: string[] = [];
      for (const onEvent of [
        () => {
          throw new Error("listener broke");
        },
        () => Promise.reject(new Error("listener rejected")),
      ]) {
        // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async listener that rejects is one of the cases under test
        const manager = createSessionManager<Data>({ driver: await harness.createDriver(), onEvent, onWarning: (message) => warnings.push(message) });
        open.push(manager);
        const opened = await manager.open(request());
        opened.session.set("theme", "dark");
        const token = tokenOf((await opened.commit()).headers);
        expect(await manager.endSession(sessionIdOf(token))).toBe(true);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.includes("listener broke"))).toHaveLength(2);
      expect(warnings.filter((warning) => warning.includes("listener rejected"))).toHaveLength(2);
    });
  });
}

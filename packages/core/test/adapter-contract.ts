/**
 * What every framework adapter must do over real HTTP, whatever the framework: one suite, run by
 * each adapter's tests against its own app. The app is built by the adapter's test (`serve`) with
 * the routes listed on `ContractServe`; the suite owns the driver and every assertion.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SessionDriver } from "../src/driver.js";
import { createMemoryDriver } from "../src/memory.js";

export interface CartData {
  name: string;
  visits: number;
}

/** Switches for the driver under an app: `down` makes every call fail, `delayUpdate` slows updates. */
export interface DriverControl {
  down: boolean;
  calls: number;
  delayUpdate: number;
}

/** A real memory driver that can be switched off, counting the calls that reach it. */
export function switchableDriver(): { driver: SessionDriver; control: DriverControl } {
  const inner = createMemoryDriver();
  const control: DriverControl = { down: false, calls: 0, delayUpdate: 0 };
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      control.calls += 1;
      if (control.down) throw new Error("connection refused");
      return fn(...args);
    };
  const driver: SessionDriver = {
    name: "switchable",
    load: guard((id, at) => inner.load(id, at)),
    create: guard((id, s) => inner.create(id, s)),
    update: guard(async (id, change) => {
      if (control.delayUpdate > 0) await new Promise((resolve) => setTimeout(resolve, control.delayUpdate));
      return inner.update(id, change);
    }),
    rotate: guard((from, to, r) => inner.rotate(from, to, r)),
    destroy: guard((id, o) => inner.destroy(id, o)),
    listUserSessions: guard((u, at) => inner.listUserSessions(u, at)),
    endUserSessions: guard((u, o) => inner.endUserSessions(u, o)),
    countIndex: guard((n, v, at) => inner.countIndex(n, v, at)),
    findIndex: guard((n, v, p) => inner.findIndex(n, v, p)),
    close: () => inner.close(),
  };
  return { driver, control };
}

export interface Served {
  url: string;
  /** What the app's own error handler received (empty with the framework's default handling and the ready-made handler). */
  errors: unknown[];
  close(): Promise<void>;
}

/**
 * Starts an app on loopback with the adapter built from `options`. Routes:
 * - `GET /health` → `{ok: true}`, answered where the session layer does not run;
 * - `GET /read` → `{name, visits}` (null and 0 when unset);
 * - `POST /body` sets name "body" and answers JSON; `POST /redirect` sets name "redirect" and redirects to /read;
 * - `POST /stream` increments visits and streams "a", "b", "c" as text/plain;
 * - `POST /runtime-property` sets name "runtime" through the untyped `.session` property;
 * - `POST /send` sets name "send" and answers the text "sent";
 * - `POST /ended-meanwhile` sets name "late", ends the session through the manager, sets `x-handler: yes`, answers JSON;
 * - `POST /fail-commit` sets name "lost", sets `control.down`, sets `x-handler: yes`, answers JSON;
 * - `POST /login` logs "ada" in through the helper; `POST /logout` logs out (204); `POST /logout-everywhere` → `{ended}`;
 * - `GET /outside` → `{user, name}` of the session the adapter's `openSession` opens from the request, answered
 *   where the session layer does not run (like `/health`);
 * - `POST /current` (a JSON body the app reads first) → `{name, same}`: after a timer, a function not handed the
 *   request reads `currentSession()` (from the adapter's package); `same` is whether it is the request's session;
 * - `GET /boom` throws `new Error("boom")`.
 * Error handling, by `errors`: `"app"`: the app's error handler records the error and answers `error.status` (500
 * otherwise), the error's `headers`, and `{error: message}`; `"default"`: the framework's default answers;
 * `"ready-made"`: the adapter's `sessionErrorHandler` answers, the framework's default for other errors.
 */
export type ContractServe = (
  /** The adapter's options (`SessionMiddlewareOptions<CartData>`; typed loosely, as core's build and source types differ). */
  options: object,
  control: DriverControl,
  errors: ErrorHandling,
) => Promise<Served>;

export type ErrorHandling = "app" | "default" | "ready-made";

/** For the `/current` route: what a service layer does, with no request at hand. */
export async function currentName(currentSession: () => { get(name: "name"): unknown }): Promise<unknown> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return currentSession().get("name") ?? null;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

export function cookieOf(response: Response): string | undefined {
  return response.headers.getSetCookie()[0]?.split(";")[0];
}

export function describeAdapterContract(
  label: string,
  serve: ContractServe,
  /** Builds the adapter from its options (as `serve` does): for the option checks. */
  create: (options: object) => { manager: object },
): void {
  describe(`${label}: the adapter contract`, () => {
    const running: Served[] = [];
    afterEach(async () => {
      for (const served of running.splice(0)) await served.close();
    });

    async function start(options: object = {}, errors: ErrorHandling = "app") {
      const { driver, control } = switchableDriver();
      const served = await serve({ driver, ...options }, control, errors);
      running.push(served);
      return { ...served, control };
    }

    it("sends no cookie and calls no store for a request without a token that writes nothing", async () => {
      const { url, control } = await start();
      const response = await fetch(`${url}/read`);
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(control.calls).toBe(0);
    });

    it.each(["body", "redirect", "runtime-property", "send"])("sets the session cookie with no-store on a %s response", async (route) => {
      const { url } = await start();
      const response = await fetch(`${url}/${route}`, { method: "POST", redirect: "manual" });
      expect(response.status).toBeLessThan(400);
      expect(response.headers.getSetCookie()[0]).toMatch(/^sess=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1800/);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const read = await fetch(`${url}/read`, { headers: { cookie: cookieOf(response)! } });
      expect(await json(read)).toEqual({ name: route === "runtime-property" ? "runtime" : route, visits: 0 });
    });

    it("commits before a streamed body is sent and keeps the body intact", async () => {
      const { url } = await start();
      const first = await fetch(`${url}/stream`, { method: "POST" });
      expect(await first.text()).toBe("abc");
      const cookie = cookieOf(first)!;
      expect(cookie).toMatch(/^sess=/);
      expect(await (await fetch(`${url}/stream`, { method: "POST", headers: { cookie } })).text()).toBe("abc");
      expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).visits).toBe(2);
    });

    it("sends the response only once the store has the write", async () => {
      const { url, control } = await start();
      const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
      control.delayUpdate = 150;
      const started = Date.now();
      const response = await fetch(`${url}/send`, { method: "POST", headers: { cookie } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(await response.text()).toBe("sent");
      expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBe("send");
    });

    it("answers 503 through the app's error handler with no Set-Cookie when the store fails at open", async () => {
      const { url, control, errors } = await start();
      const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
      control.down = true;
      const response = await fetch(`${url}/read`, { headers: { cookie } });
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(errors[0]).toMatchObject({ name: "SessionError", code: "STORE_UNAVAILABLE", status: 503 });
    });

    it("replaces the handler's answer with the 503 error answer when the store fails at commit", async () => {
      const { url, errors } = await start();
      const response = await fetch(`${url}/fail-commit`, { method: "POST" });
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get("x-handler")).toBeNull();
      expect((await json(response)).error).toMatch(/session store failed/);
      expect(errors[0]).toMatchObject({ name: "SessionError", code: "STORE_UNAVAILABLE" });
    });

    it("answers 503 with no Set-Cookie through the framework's default error handling", async () => {
      const { url } = await start({}, "default");
      const response = await fetch(`${url}/fail-commit`, { method: "POST" });
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get("x-handler")).toBeNull();
    });

    it("answers 409 with a clearing cookie through the framework's default error handling when the session ended meanwhile", async () => {
      const { url } = await start({}, "default");
      const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
      const response = await fetch(`${url}/ended-meanwhile`, { method: "POST", headers: { cookie } });
      expect(response.status).toBe(409);
      expect(response.headers.get("x-handler")).toBeNull();
      expect(response.headers.getSetCookie()).toHaveLength(1);
      expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
    });

    it("marks the cookie Secure with the __Host- prefix behind a trusted proxy only", async () => {
      const trusted = await start({ trustProxy: true });
      const secure = await fetch(`${trusted.url}/body`, { method: "POST", headers: { "x-forwarded-proto": "https" } });
      expect(secure.headers.getSetCookie()[0]).toMatch(/^__Host-sess=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
      const plain = await start();
      const insecure = await fetch(`${plain.url}/body`, { method: "POST", headers: { "x-forwarded-proto": "https" } });
      expect(insecure.headers.getSetCookie()[0]).toMatch(/^sess=/);
      expect(insecure.headers.getSetCookie()[0]).not.toMatch(/Secure/);
    });

    it("warns once when a Secure cookie is configured but the request is plain HTTP", async () => {
      const warnings: string[] = [];
      const { url } = await start({ cookie: { secure: true }, onWarning: (message: string) => warnings.push(message) });
      await fetch(`${url}/body`, { method: "POST" });
      await fetch(`${url}/body`, { method: "POST" });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/trustProxy/);
    });

    it("carries the token in headers with the header transport", async () => {
      const { url } = await start({ cookie: false, header: true });
      const created = await fetch(`${url}/body`, { method: "POST" });
      expect(created.headers.getSetCookie()).toEqual([]);
      const token = created.headers.get("session-token")!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const read = await fetch(`${url}/read`, { headers: { authorization: `Bearer ${token}` } });
      expect((await json(read)).name).toBe("body");
    });

    it("issues a new token at login and the old one stops working, data kept", async () => {
      const { url } = await start();
      const before = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
      const after = cookieOf(await fetch(`${url}/login`, { method: "POST", headers: { cookie: before } }))!;
      expect(after).not.toBe(before);
      expect((await json(await fetch(`${url}/read`, { headers: { cookie: after } }))).name).toBe("body");
      expect((await json(await fetch(`${url}/read`, { headers: { cookie: before } }))).name).toBeNull();
    });

    it("ends the session and clears the cookie at logout", async () => {
      const { url } = await start();
      const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
      const response = await fetch(`${url}/logout`, { method: "POST", headers: { cookie } });
      expect(response.status).toBe(204);
      expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; .*Max-Age=0/);
      expect((await json(await fetch(`${url}/read`, { headers: { cookie } }))).name).toBeNull();
    });

    it("ends the user's other sessions with logoutEverywhere", async () => {
      const { url } = await start();
      const a = cookieOf(await fetch(`${url}/login`, { method: "POST" }))!;
      const b = cookieOf(await fetch(`${url}/login`, { method: "POST" }))!;
      await fetch(`${url}/body`, { method: "POST", headers: { cookie: b } });
      expect(await json(await fetch(`${url}/logout-everywhere`, { method: "POST", headers: { cookie: a } }))).toEqual({ ended: 1 });
      expect((await json(await fetch(`${url}/read`, { headers: { cookie: b } }))).name).toBeNull();
    });

    it("never opens a session where the session layer does not run", async () => {
      const { url, control } = await start();
      const response = await fetch(`${url}/health`, { headers: { cookie: "sess=whatever" } });
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(control.calls).toBe(0);
    });

    describe("sessionErrorHandler()", () => {
      it("answers a store outage with 503, Retry-After, no-store and a JSON body without stack or internal detail", async () => {
        const { url, control } = await start({}, "ready-made");
        const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
        control.down = true;
        const response = await fetch(`${url}/read`, { headers: { cookie } });
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).toBe("1");
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        expect(response.headers.getSetCookie()).toEqual([]);
        const text = await response.text();
        expect(JSON.parse(text)).toEqual({ error: "STORE_UNAVAILABLE", message: "the session store is unavailable, try again" });
        expect(text).not.toMatch(/connection refused|at |\.ts/);
      });

      it("replaces the handler's answer when the store fails at commit", async () => {
        const { url } = await start({}, "ready-made");
        const response = await fetch(`${url}/fail-commit`, { method: "POST" });
        expect(response.status).toBe(503);
        expect(response.headers.get("x-handler")).toBeNull();
        expect(response.headers.getSetCookie()).toEqual([]);
        expect((await json(response)).error).toBe("STORE_UNAVAILABLE");
      });

      it("sends the clearing cookie of a session that ended while the request used it", async () => {
        const { url } = await start({}, "ready-made");
        const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
        const response = await fetch(`${url}/ended-meanwhile`, { method: "POST", headers: { cookie } });
        expect(response.status).toBe(409);
        expect(response.headers.get("x-handler")).toBeNull();
        expect(response.headers.getSetCookie()).toHaveLength(1);
        expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
        expect(await json(response)).toEqual({ error: "CONFLICT", message: expect.stringMatching(/nothing was saved/) });
      });

      it("leaves any other error to the framework's own handling", async () => {
        const { url } = await start({}, "ready-made");
        const response = await fetch(`${url}/boom`);
        expect(response.status).toBe(500);
        expect(await response.text()).not.toMatch(/STORE_UNAVAILABLE|CONFLICT/);
      });
    });

    describe("openSession(request)", () => {
      it("opens the session of a request the session layer does not handle", async () => {
        const { url, control } = await start();
        const before = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
        const cookie = cookieOf(await fetch(`${url}/login`, { method: "POST", headers: { cookie: before } }))!;
        expect(await json(await fetch(`${url}/outside`, { headers: { cookie } }))).toEqual({ user: "ada", name: "body" });
        const calls = control.calls;
        expect(await json(await fetch(`${url}/outside`))).toEqual({ user: null, name: null });
        expect(await json(await fetch(`${url}/outside`, { headers: { cookie: before } }))).toEqual({ user: null, name: null });
        expect(control.calls).toBe(calls + 1); // none for the request without a token
      });
    });

    describe("currentSession()", () => {
      it("returns each request's own session in code not handed the request, with asyncContext: true", async () => {
        const { url } = await start({ asyncContext: true });
        const cookie = cookieOf(await fetch(`${url}/body`, { method: "POST" }))!;
        const post = (headers: Record<string, string>) =>
          fetch(`${url}/current`, { method: "POST", body: "{}", headers: { "content-type": "application/json", ...headers } }).then(json);
        const answers = await Promise.all([post({ cookie }), post({}), post({ cookie }), post({})]);
        expect(answers).toEqual([
          { name: "body", same: true },
          { name: null, same: true },
          { name: "body", same: true },
          { name: null, same: true },
        ]);
      });

      it("throws a message naming asyncContext without it", async () => {
        const { url, errors } = await start();
        const response = await fetch(`${url}/current`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
        expect(response.status).toBe(500);
        expect(String((errors[0] as Error).message)).toMatch(/asyncContext: true/);
      });

      it("throws a config error for a non-boolean asyncContext", () => {
        expect(() => create({ driver: createMemoryDriver(), asyncContext: 1 })).toThrow(/asyncContext/);
      });
    });

    it("throws a config error for a non-boolean trustProxy", () => {
      expect(() => create({ driver: createMemoryDriver(), trustProxy: "yes" })).toThrow(/trustProxy/);
    });

    it("reuses a given manager", () => {
      const first = create({ driver: createMemoryDriver() });
      expect(create({ manager: first.manager }).manager).toBe(first.manager);
    });
  });
}

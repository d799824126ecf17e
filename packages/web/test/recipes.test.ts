/** The recipes of the README, run as written (a Next.js route handler is a plain `(Request) => Response`). */
import { Elysia } from "elysia";
import { describe, expect, it } from "vitest";
import { switchableDriver } from "../../core/test/adapter-contract.js";
import { SessionError, sessionErrorResponse, webSessions, withSessionHeaders } from "../src/index.js";

interface MySession {
  username: string;
  visits: number;
}

function setup() {
  const { driver, control } = switchableDriver();
  return { sessions: webSessions<MySession>({ driver }), control };
}

function cookieOf(response: Response): string {
  return response.headers.getSetCookie().find((line) => line.startsWith("sess="))!.split(";")[0]!;
}

describe("recipe: a fetch handler (Bun.serve, Deno.serve, Workers)", () => {
  const { sessions, control } = setup();
  async function fetchHandler(request: Request): Promise<Response> {
    try {
      const opened = await sessions.open(request);
      const visits = opened.session.increment("visits");
      return withSessionHeaders(Response.json({ visits }), await opened.commit());
    } catch (error) {
      return sessionErrorResponse(error);
    }
  }

  it("counts visits in the session and answers 503 without a cookie when the store is down", async () => {
    const first = await fetchHandler(new Request("http://app.test/"));
    const cookie = cookieOf(first);
    const second = await fetchHandler(new Request("http://app.test/", { headers: { cookie } }));
    expect(await second.json()).toEqual({ visits: 2 });
    control.down = true;
    const down = await fetchHandler(new Request("http://app.test/", { headers: { cookie } }));
    expect(down.status).toBe(503);
    expect(down.headers.getSetCookie()).toEqual([]);
    control.down = false;
  });
});

describe("recipe: a Next.js route handler", () => {
  const { sessions } = setup();
  // app/api/login/route.ts
  async function POST(request: Request): Promise<Response> {
    try {
      const opened = await sessions.open(request);
      const { username } = (await request.json()) as { username: string };
      sessions.login(request, username).set("username", username);
      const { headers } = await opened.commit();
      return Response.json({ username }, { headers });
    } catch (error) {
      return sessionErrorResponse(error);
    }
  }
  // app/api/me/route.ts
  async function GET(request: Request): Promise<Response> {
    const opened = await sessions.open(request);
    const username = opened.session.get("username") ?? null;
    return Response.json({ username }, { headers: (opened.commitNow() ?? (await opened.commit())).headers });
  }

  it("logs in with a new token and reads the user back", async () => {
    const login = await POST(new Request("http://app.test/api/login", { method: "POST", body: JSON.stringify({ username: "ada" }) }));
    expect(login.headers.get("cache-control")).toBe("no-store");
    const me = await GET(new Request("http://app.test/api/me", { headers: { cookie: cookieOf(login) } }));
    expect(await me.json()).toEqual({ username: "ada" });
  });
});

describe("recipe: Elysia", () => {
  const { sessions, control } = setup();
  const app = new Elysia()
    .derive({ as: "global" }, async ({ request }) => {
      const opened = await sessions.open(request);
      return { session: opened.session, commitSession: () => opened.commit() };
    })
    .onAfterHandle({ as: "global" }, async ({ commitSession, cookie, set }) => {
      const { headers, cookie: sessionCookie } = await commitSession();
      if (sessionCookie) cookie[sessionCookie.name]!.set({ value: sessionCookie.value, ...sessionCookie.attributes });
      for (const [name, value] of headers) if (name !== "set-cookie") set.headers[name] = value;
    })
    .onError(({ error }) => {
      if (error instanceof SessionError) return sessionErrorResponse(error);
    })
    .get("/visits", ({ session }) => ({ visits: session.increment("visits") }))
    .post("/logout", ({ request, set }) => {
      sessions.logout(request);
      set.status = 204;
    });

  it("counts visits through Elysia's cookie API, clears the cookie at logout, answers 503 when the store is down", async () => {
    const first = await app.handle(new Request("http://localhost/visits"));
    const cookie = cookieOf(first);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const second = await app.handle(new Request("http://localhost/visits", { headers: { cookie } }));
    expect(await second.json()).toEqual({ visits: 2 });
    const logout = await app.handle(new Request("http://localhost/logout", { method: "POST", headers: { cookie } }));
    expect(logout.headers.getSetCookie()[0]).toMatch(/^sess=; Max-Age=0/);
    const after = await app.handle(new Request("http://localhost/visits", { headers: { cookie } }));
    expect(await after.json()).toEqual({ visits: 1 });
    control.down = true;
    const down = await app.handle(new Request("http://localhost/visits", { headers: { cookie: cookieOf(after) } }));
    expect(down.status).toBe(503);
    expect(down.headers.getSetCookie()).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { SessionError } from "@sess/core";
import { createMemoryDriver } from "@sess/core/memory";
import { switchableDriver, type CartData } from "../../core/test/adapter-contract.js";
import { sessionErrorResponse, webSessions, withSessionHeaders, type SessionMiddlewareOptions } from "../src/index.js";

function build(options: Partial<SessionMiddlewareOptions<CartData>> = {}) {
  const { driver, control } = switchableDriver();
  const sessions = webSessions<CartData>({ driver, ...options } as SessionMiddlewareOptions<CartData>);
  return { sessions, control };
}

/** A token-carrying follow-up request for the cookie a commit set. */
function withCookie(url: string, commit: { cookie: { name: string; value: string } | null }, init: RequestInit = {}): Request {
  return new Request(url, { ...init, headers: { cookie: `${commit.cookie!.name}=${commit.cookie!.value}` } });
}

describe("webSessions", () => {
  it("opens a Request without a token with no store call and commits nothing", async () => {
    const { sessions, control } = build();
    const opened = await sessions.open(new Request("http://app.test/read"));
    expect(opened.session.get("name")).toBeUndefined();
    expect(opened.commitNow()).toEqual({ headers: [], cookie: null });
    expect(control.calls).toBe(0);
  });

  it("returns the headers to add and the cookie as name, value and attributes", async () => {
    const { sessions } = build();
    const request = new Request("http://app.test/cart", { method: "POST" });
    const opened = await sessions.open(request);
    sessions.of(request).set("name", "web");
    expect(opened.commitNow()).toBeNull();
    const commit = await opened.commit();
    const [setCookie] = commit.headers.filter(([name]) => name === "set-cookie").map(([, value]) => value);
    expect(setCookie).toMatch(/^sess=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1800; Expires=/);
    expect(commit.headers).toContainEqual(["cache-control", "no-store"]);
    expect(commit.cookie).toEqual({
      name: "sess",
      value: setCookie!.split(";")[0]!.slice("sess=".length),
      attributes: { path: "/", httpOnly: true, secure: false, sameSite: "lax", maxAge: 1800, expires: expect.any(Date) },
    });
    expect(Math.abs(commit.cookie!.attributes.expires!.getTime() - Date.now() - 1_800_000)).toBeLessThan(2000);
    const again = await sessions.open(withCookie("http://app.test/read", commit));
    expect(again.session.get("name")).toBe("web");
  });

  it("reads a request given as headers and URL, and keys the helpers by that object", async () => {
    const { sessions } = build();
    const parts = { headers: new Headers(), url: new URL("https://app.test/login") };
    const opened = await sessions.open(parts);
    sessions.login(parts, "ada");
    const commit = await opened.commit();
    expect(commit.cookie).toMatchObject({ name: "__Host-sess", attributes: { secure: true, sameSite: "lax" } });
    expect(opened.session.userId).toBe("ada");
  });

  it("makes a request secure from its https URL, from X-Forwarded-Proto only with trustProxy, and from the secure option first", async () => {
    const commitOf = async (sessions: ReturnType<typeof build>["sessions"], request: Request, secure?: boolean) => {
      const opened = await sessions.open(request, secure === undefined ? {} : { secure });
      opened.session.set("name", "x");
      return (await opened.commit()).cookie!;
    };
    const plain = build().sessions;
    const trusted = build({ trustProxy: true }).sessions;
    const forwarded = () => new Request("http://app.test/", { headers: { "x-forwarded-proto": "https" } });
    expect((await commitOf(plain, new Request("https://app.test/"))).name).toBe("__Host-sess");
    expect((await commitOf(plain, forwarded())).name).toBe("sess");
    expect((await commitOf(trusted, forwarded())).name).toBe("__Host-sess");
    // The runtime knows the socket is plain even when the client sent an absolute https:// target.
    expect((await commitOf(plain, new Request("https://app.test/"), false)).name).toBe("sess");
  });

  it("clears the cookie at logout: empty value, Max-Age 0", async () => {
    const { sessions } = build();
    const first = await sessions.open(new Request("http://app.test/"));
    first.session.set("name", "x");
    const created = await first.commit();
    const request = withCookie("http://app.test/logout", created, { method: "POST" });
    const opened = await sessions.open(request);
    sessions.logout(request);
    const commit = await opened.commit();
    expect(commit.cookie).toMatchObject({ name: "sess", value: "", attributes: { maxAge: 0 } });
  });

  it("carries the token in a header with the header transport, and no cookie", async () => {
    const { sessions } = build({ cookie: false, header: true });
    const opened = await sessions.open(new Request("http://app.test/"));
    opened.session.set("name", "api");
    const commit = await opened.commit();
    expect(commit.cookie).toBeNull();
    const token = commit.headers.find(([name]) => name === "session-token")![1];
    const again = await sessions.open(new Request("http://app.test/", { headers: { authorization: `Bearer ${token}` } }));
    expect(again.session.get("name")).toBe("api");
  });

  it("rejects with a 503 SessionError when the store fails, answered by sessionErrorResponse without a cookie", async () => {
    const { sessions, control } = build();
    const opened = await sessions.open(new Request("http://app.test/"));
    opened.session.set("name", "lost");
    control.down = true;
    const error = await opened.commit().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SessionError);
    const response = sessionErrorResponse(error);
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toEqual({ error: "STORE_UNAVAILABLE", message: "the session store is unavailable, try again" });
    expect((error as Error).message).toMatch(/session store failed/);
    expect(() => sessionErrorResponse(new Error("other"))).toThrow("other");
  });

  it("answers 409 with the clearing cookie when the session ended meanwhile", async () => {
    const { sessions } = build();
    const first = await sessions.open(new Request("http://app.test/"));
    first.session.set("name", "x");
    const created = await first.commit();
    const opened = await sessions.open(withCookie("http://app.test/", created));
    opened.session.set("name", "late");
    await sessions.manager.endSession(opened.session.id!);
    const response = sessionErrorResponse(await opened.commit().catch((caught: unknown) => caught));
    expect(response.status).toBe(409);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sess=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
  });

  it("adds a commit's headers to a Response, copying one whose headers cannot change", async () => {
    const { sessions } = build();
    const opened = await sessions.open(new Request("http://app.test/"));
    opened.session.set("name", "x");
    const commit = await opened.commit();
    const own = new Response("ok", { headers: { "set-cookie": "theme=dark; Path=/" } });
    expect(withSessionHeaders(own, commit)).toBe(own);
    expect(own.headers.getSetCookie()).toEqual(["theme=dark; Path=/", expect.stringMatching(/^sess=/)]);
    const redirect = Response.redirect("http://app.test/next", 303);
    const copied = withSessionHeaders(redirect, commit);
    expect(copied).not.toBe(redirect);
    expect(copied.status).toBe(303);
    expect(copied.headers.get("location")).toBe("http://app.test/next");
    expect(copied.headers.getSetCookie()[0]).toMatch(/^sess=/);
  });

  it("throws a config error for a non-boolean trustProxy and reuses a given manager", () => {
    expect(() => webSessions({ driver: createMemoryDriver(), trustProxy: "yes" as never })).toThrow(/trustProxy/);
    const first = webSessions({ driver: createMemoryDriver() });
    expect(webSessions({ manager: first.manager }).manager).toBe(first.manager);
  });
});

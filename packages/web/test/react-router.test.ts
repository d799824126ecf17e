/** The README's React Router recipe, run as written: `createSessionStorage` backed by sess. */
import { createCookie, createSessionStorage } from "react-router";
import { describe, expect, it } from "vitest";
import { createMemoryDriver } from "@sess/core/memory";
import { webSessions } from "../src/index.js";

function setup() {
  const driver = createMemoryDriver();

  // --- the recipe ---
  // sess holds the data and issues the token; React Router's signed cookie carries the token.
  const TOKEN_HEADER = "x-sess-token";
  const CREATED = "rr:created"; // a new session needs a write to exist, even with no data
  const LOADED = "__sess_loaded"; // what the request read, so that only its own changes are written
  const sess = webSessions({ driver, cookie: false, header: { name: TOKEN_HEADER } });
  const open = (token: string | null) =>
    sess.open({ headers: new Headers(token === null ? {} : { [TOKEN_HEADER]: token }), url: "http://sessions.internal/" });

  const sessionStorage = createSessionStorage({
    cookie: createCookie("__session", { httpOnly: true, sameSite: "lax", path: "/", secrets: ["change me"] }),
    async createData(data) {
      const { [LOADED]: _loaded, ...fields } = data;
      const opened = await open(null);
      for (const [name, value] of Object.entries(fields)) opened.session.set(name, value);
      opened.session.set(CREATED, true);
      const { headers } = await opened.commit();
      return headers.find(([name]) => name === "session-token")![1]; // the new token
    },
    async readData(token) {
      const opened = await open(token);
      if (opened.session.isNew) return null; // unknown, expired or ended
      const { [CREATED]: _created, ...data } = opened.session.all();
      await (opened.commitNow() ?? opened.commit()); // renews the session when due
      return { ...data, [LOADED]: JSON.stringify(data) };
    },
    async updateData(token, data) {
      const { [LOADED]: loaded, ...fields } = data;
      const before = (typeof loaded === "string" ? JSON.parse(loaded) : {}) as Record<string, unknown>;
      const opened = await open(token);
      if (opened.session.isNew) return; // ended meanwhile: never resurrected
      // Only what this request changed is written: concurrent requests keep each other's changes.
      for (const name of Object.keys(before)) if (!(name in fields)) opened.session.unset(name);
      for (const [name, value] of Object.entries(fields)) {
        if (JSON.stringify(before[name]) !== JSON.stringify(value)) opened.session.set(name, value);
      }
      await opened.commit();
    },
    async deleteData(token) {
      const opened = await open(token);
      if (!opened.session.isNew) opened.session.destroy();
      await opened.commit();
    },
  });
  // --- end of the recipe ---

  return { sessionStorage, driver };
}

/** The `Cookie` header a browser sends back after a `Set-Cookie`. */
const cookieOf = (setCookie: string) => setCookie.split(";")[0]!;

describe("recipe: React Router createSessionStorage", () => {
  it("stores the data in sess and reads it back through React Router's cookie", async () => {
    const { sessionStorage } = setup();
    const session = await sessionStorage.getSession(null);
    session.set("username", "ada");
    const cookie = cookieOf(await sessionStorage.commitSession(session));
    expect(cookie).toMatch(/^__session=/);

    const again = await sessionStorage.getSession(cookie);
    expect(again.get("username")).toBe("ada");
  });

  it("keeps the changes of two overlapping requests to different fields", async () => {
    const { sessionStorage } = setup();
    const first = await sessionStorage.getSession(null);
    first.set("username", "ada");
    first.set("theme", "light");
    const cookie = cookieOf(await sessionStorage.commitSession(first));

    const left = await sessionStorage.getSession(cookie);
    const right = await sessionStorage.getSession(cookie);
    right.set("locale", "en-GB");
    await sessionStorage.commitSession(right);
    left.set("theme", "dark"); // read before right's commit, committed after it
    await sessionStorage.commitSession(left);

    const after = await sessionStorage.getSession(cookie);
    expect([after.get("username"), after.get("theme"), after.get("locale")]).toEqual(["ada", "dark", "en-GB"]);
  });

  it("removes a field the request unset", async () => {
    const { sessionStorage } = setup();
    const first = await sessionStorage.getSession(null);
    first.set("username", "ada");
    first.set("theme", "dark");
    const cookie = cookieOf(await sessionStorage.commitSession(first));

    const request = await sessionStorage.getSession(cookie);
    request.unset("theme");
    await sessionStorage.commitSession(request);
    const after = await sessionStorage.getSession(cookie);
    expect([after.get("username"), after.has("theme")]).toEqual(["ada", false]);
  });

  it("shows a flash message once", async () => {
    const { sessionStorage } = setup();
    const session = await sessionStorage.getSession(null);
    session.flash("notice", "saved");
    const cookie = cookieOf(await sessionStorage.commitSession(session));

    const reading = await sessionStorage.getSession(cookie);
    expect(reading.get("notice")).toBe("saved");
    await sessionStorage.commitSession(reading);
    expect((await sessionStorage.getSession(cookie)).get("notice")).toBeUndefined();
  });

  it("ends the session on destroySession, and a later write does not bring it back", async () => {
    const { sessionStorage } = setup();
    const session = await sessionStorage.getSession(null);
    session.set("username", "ada");
    const cookie = cookieOf(await sessionStorage.commitSession(session));

    const slow = await sessionStorage.getSession(cookie); // a request still running
    const ending = await sessionStorage.getSession(cookie);
    const cleared = await sessionStorage.destroySession(ending);
    expect(cleared).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);

    slow.set("theme", "dark");
    await sessionStorage.commitSession(slow);
    const after = await sessionStorage.getSession(cookie);
    expect(after.has("username")).toBe(false);
    expect(after.has("theme")).toBe(false);
  });

  it("starts empty for a cookie whose token sess never issued", async () => {
    const { sessionStorage } = setup();
    const session = await sessionStorage.getSession(null);
    session.set("username", "ada");
    await sessionStorage.commitSession(session);
    const forged = await createCookie("__session", { secrets: ["change me"] }).serialize("A".repeat(51));
    expect((await sessionStorage.getSession(cookieOf(forged))).has("username")).toBe(false);
  });
});

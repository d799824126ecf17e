import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { boot, frameworks, redisStore, type Booted } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
afterAll(async () => {
  await browser?.close();
});

/** A fetch from inside the page: the browser sends and stores the cookie itself. */
async function call(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const response = await fetch(path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
    },
    { method, path, body },
  );
}

const combos = frameworks.flatMap((framework) => (["ioredis", "node-redis"] as const).map((driver) => [framework, driver] as const));

describe.each(combos)("the %s demo on %s in Chromium", (framework, driver) => {
  let app: Booted;
  beforeAll(async () => {
    app = await boot(framework, await redisStore(driver, inject("redisUrl")));
  });
  afterAll(async () => {
    await app.close();
  });

  it("lists two browsers' sessions of one user, and logout-all from one ends the other", async () => {
    const laptop = await browser.newContext({ userAgent: "laptop-browser" });
    const phone = await browser.newContext({ userAgent: "phone-browser" });
    try {
      const [a, b] = [await laptop.newPage(), await phone.newPage()];
      await a.goto(`${app.url}/health`);
      await b.goto(`${app.url}/health`);
      expect((await call(a, "POST", "/login", { username: "grace" })).status).toBe(200);
      expect((await call(b, "POST", "/login", { username: "grace" })).status).toBe(200);

      const listed = await call(a, "GET", "/sessions");
      expect(listed.status).toBe(200);
      const sessions = listed.body as Array<{ userAgent: string; current: boolean }>;
      expect(sessions.map((s) => s.userAgent).sort()).toEqual(["laptop-browser", "phone-browser"]);
      expect(sessions.find((s) => s.current)?.userAgent).toBe("laptop-browser");

      expect((await call(b, "GET", "/me")).status).toBe(200);
      expect((await call(a, "POST", "/logout-all")).status).toBe(204);
      expect((await call(b, "GET", "/me")).status).toBe(401);
      expect((await call(a, "GET", "/me")).status).toBe(401);
      expect(await laptop.cookies(app.url)).toEqual([]);
    } finally {
      await laptop.close();
      await phone.close();
    }
  });

  it("keeps the session cookie out of document.cookie", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/health`);
      expect((await call(page, "POST", "/login", { username: "linus" })).status).toBe(200);
      const cookies = await context.cookies(app.url);
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({ name: "sess", httpOnly: true, sameSite: "Lax" });
      expect(await page.evaluate("document.cookie")).toBe("");
      expect((await call(page, "GET", "/me")).status).toBe(200);
    } finally {
      await context.close();
    }
  });
});

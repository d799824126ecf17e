import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { boot, frameworks, redisStore, switchableMemoryStore, type Booted } from "./harness.js";

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

describe.each(frameworks)("the %s demo page in Chromium", (framework) => {
  let app: Booted;
  let store: ReturnType<typeof switchableMemoryStore>;
  beforeAll(async () => {
    store = switchableMemoryStore();
    app = await boot(framework, store);
  });
  afterAll(async () => {
    await app.close();
  });

  async function logIn(page: Page, username: string, tenant: string): Promise<void> {
    await page.goto(`${app.url}/`);
    const form = page.getByRole("region", { name: "Log in" });
    await form.getByLabel("Username").pressSequentially(username);
    await form.getByLabel("Tenant").fill(tenant);
    await form.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: `Signed in as ${username}` }).waitFor();
  }

  it("serves the page with a strict content security policy", async () => {
    const response = await fetch(`${app.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("<title>sess demo</title>");
    for (const [path, type] of [["/app.js", /^text\/javascript/], ["/app.css", /^text\/css/]] as const) {
      const asset = await fetch(`${app.url}${path}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(type);
    }
  });

  it("logs one user in on two browsers, lists both devices, and ends the other from one", async () => {
    const laptop = await browser.newContext({ userAgent: "laptop-browser" });
    const phone = await browser.newContext({ userAgent: "phone-browser" });
    try {
      const [a, b] = [await laptop.newPage(), await phone.newPage()];
      const errors: string[] = [];
      for (const page of [a, b]) page.on("pageerror", (error) => errors.push(error.message));

      await logIn(a, "grace", "acme");
      const cart = a.getByRole("region", { name: "Cart" });
      await cart.getByLabel("SKU").fill("apple");
      await cart.getByLabel("Quantity").fill("3");
      await cart.getByRole("button", { name: "Add to cart" }).click();
      await expect.poll(() => a.getByRole("list", { name: "Cart contents" }).innerText()).toBe("apple × 3");

      await logIn(b, "grace", "acme");
      await a.reload();
      const devices = a.getByRole("region", { name: "Your devices" }).getByRole("row");
      await expect.poll(() => devices.count()).toBe(3); // header + two devices
      const laptopRow = devices.filter({ hasText: "laptop-browser" });
      const phoneRow = devices.filter({ hasText: "phone-browser" });
      expect(await laptopRow.innerText()).toContain("This device");
      expect(await laptopRow.getByRole("button", { name: /^End/ }).count()).toBe(0);
      expect(await phoneRow.innerText()).not.toContain("This device");
      expect(await a.getByRole("list", { name: "Cart contents" }).innerText()).toBe("apple × 3");
      // DEMO_SCREENSHOT=<file.png> saves the page as the README shows it.
      const screenshot = process.env.DEMO_SCREENSHOT;
      if (screenshot && framework === "express") {
        await a.setViewportSize({ width: 1000, height: 800 });
        await a.screenshot({ path: screenshot, fullPage: true });
      }

      await phoneRow.getByRole("button", { name: /^End/ }).click();
      await a.getByText("That device was logged out.").waitFor();
      await expect.poll(() => devices.count()).toBe(2);

      // The phone's page notices on its next poll and shows the login form again.
      await b.getByText("You were logged out: this session was ended.").waitFor({ timeout: 10_000 });
      expect(await b.getByRole("region", { name: "Log in" }).isVisible()).toBe(true);
      expect(await phone.cookies(app.url)).toEqual([]);
      expect(await a.getByRole("heading", { name: "Signed in as grace" }).isVisible()).toBe(true);

      expect(errors).toEqual([]);
    } finally {
      await laptop.close();
      await phone.close();
    }
  });

  it("says so in the page when the store is unavailable, and works again when it is back", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, "ada", "acme");
      const cart = page.getByRole("region", { name: "Cart" });
      await cart.getByLabel("SKU").fill("pear");
      store.down = true;
      await cart.getByRole("button", { name: "Add to cart" }).click();
      await page.getByRole("alert").getByText(/session store is unavailable/).waitFor();
      store.down = false;
      await cart.getByRole("button", { name: "Add to cart" }).click();
      await expect.poll(() => page.getByRole("list", { name: "Cart contents" }).innerText()).toBe("pear × 1");
      expect(await page.getByRole("heading", { name: "Signed in as ada" }).isVisible()).toBe(true);
    } finally {
      store.down = false;
      await context.close();
    }
  });

  it("runs the admin queries with the admin token", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, "root", "ops");
      const admin = page.getByRole("region", { name: "Admin" });
      await admin.getByLabel("Admin token").fill("wrong");
      await admin.getByLabel("Tenant").fill("ops");
      await admin.getByRole("button", { name: "Count sessions" }).click();
      await expect.poll(() => admin.locator("output").innerText()).toBe("Wrong admin token.");
      await admin.getByLabel("Admin token").fill("admin-secret");
      await admin.getByRole("button", { name: "Count sessions" }).click();
      await expect.poll(async () => JSON.parse((await admin.locator("output").innerText()) || "{}")).toEqual({ tenant: "ops", count: 1 });
      await admin.getByLabel("User").fill("root");
      await admin.getByRole("button", { name: "Revoke user" }).click();
      await page.getByText("You were logged out: this session was ended.").waitFor();
    } finally {
      await context.close();
    }
  });
});

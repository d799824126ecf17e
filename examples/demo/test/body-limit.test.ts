import { afterEach, describe, expect, it } from "vitest";
import { boot, frameworks, switchableMemoryStore, type Booted } from "./harness.js";

describe.each(frameworks)("the %s demo with an oversized body", (framework) => {
  let app: Booted | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("answers a 2 MB JSON body with a 413 the client reads, then serves the next request", async () => {
    app = await boot(framework, switchableMemoryStore());
    const client = app.client();
    const big = JSON.stringify({ sku: "mug", padding: "x".repeat(2 * 1024 * 1024) });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const answer = await client.call("POST", "/cart", big);
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({ error: "request body too large" });
      expect(answer.setCookie).toEqual([]);
    }
    expect((await client.call("POST", "/cart", { sku: "mug" })).body).toEqual({ cart: { mug: 1 } });
  });

  it("answers a 2 MB body streamed without a length with a 413 the client reads", async () => {
    app = await boot(framework, switchableMemoryStore());
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 32) controller.close();
        else {
          sent += 1;
          controller.enqueue(chunk);
        }
      },
    });
    const response = await fetch(`${app.url}/cart`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: "request body too large" });
  });
});

/**
 * The demo's web page: three static files from `public/`, read once and served by every framework
 * through the route table (no build step). The page talks to the JSON API with fetch.
 */
import { readFileSync } from "node:fs";
import type { Reply, Route } from "./api.js";


const FILES: Array<[path: string, file: string, type: string]> = [
  ["/", "index.html", "text/html; charset=utf-8"],
  ["/app.js", "app.js", "text/javascript; charset=utf-8"],
  ["/app.css", "app.css", "text/css; charset=utf-8"],
];

/** The headers of a text reply: the page loads only its own script and style, cannot be framed, and is always revalidated. */
export function textHeaders(type: string): Record<string, string> {
  return {
    "content-type": type,
    "content-security-policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
  };
}

export function pageRoutes(): Route[] {
  const folder = new URL("../public/", import.meta.url);
  return FILES.map(([path, file, type]) => {
    const reply: Reply = { status: 200, text: { type, content: readFileSync(new URL(file, folder), "utf8") } };
    return { method: "GET", path, session: false, handle: async () => reply };
  });
}

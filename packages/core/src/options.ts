/**
 * Options checked by name: a key sess does not know throws `CONFIG_INVALID` naming the nearest sess
 * option (or, for the express-session / connect-redis / koa-session habits, what to do instead), and
 * a duration that looks like seconds (a session lifetime under a minute, a renewal throttle under a
 * second) warns that durations are in milliseconds.
 */
import { configError } from "./errors.js";

const MANAGER_KEYS = [
  "driver",
  "cookie",
  "header",
  "limits",
  "operationTimeout",
  "maxSessionsPerUser",
  "recordDevice",
  "indexes",
  "bind",
  "onEvent",
  "onWarning",
  "clock",
  "idleTimeout",
  "absoluteTimeout",
  "renewAfter",
  "legacy",
] as const;

/** What the adapters add to the manager options. */
export const ADAPTER_KEYS = ["trustProxy", "manager", "asyncContext"] as const;

const NESTED: Record<string, readonly string[]> = {
  cookie: ["name", "secure", "sameSite", "path", "domain", "hostPrefix", "persistent"],
  header: ["name", "responseHeader"],
  limits: ["maxBytes", "maxFields"],
  recordDevice: ["userAgent", "ip"],
  bind: ["userAgent", "ipPrefix", "ipv6Prefix"],
};

const LIFETIME = "the cookie's Max-Age follows the session's store expiry: set idleTimeout and absoluteTimeout (milliseconds); cookie.persistent: false makes a browser-session cookie";

/** What users of other session libraries reach for, and the sess way to say it. */
const HINTS: Record<string, string> = {
  ttl: "use idleTimeout, in milliseconds (connect-redis's ttl is in seconds: ttl 1800 is idleTimeout 1_800_000)",
  maxAge: "use absoluteTimeout (lifetime since creation or login, in milliseconds) or idleTimeout (sliding)",
  expires: "use absoluteTimeout (lifetime since creation or login, in milliseconds)",
  rolling: "remove it: renewal is automatic, at most once per renewAfter (milliseconds)",
  resave: "remove it: sess writes only the fields a request changed, never the whole session",
  saveUninitialized: "remove it: nothing is stored until a request writes to the session",
  secret: "remove it: tokens are 256-bit random values stored only as a SHA-256 hash, there is nothing to sign",
  secrets: "remove it: tokens are 256-bit random values stored only as a SHA-256 hash, there is nothing to sign",
  keys: "remove it: tokens are 256-bit random values stored only as a SHA-256 hash, there is nothing to sign",
  signed: "remove it: tokens are 256-bit random values stored only as a SHA-256 hash, there is nothing to sign",
  store: "use driver: createIoredisDriver({ client }), createNodeRedisDriver({ client }) or createMemoryDriver()",
  client: "give the client to the driver: driver: createIoredisDriver({ client }) or createNodeRedisDriver({ client })",
  prefix: "the key prefix is a driver option: createIoredisDriver({ client, prefix }) or createNodeRedisDriver({ client, prefix })",
  name: "use cookie.name",
  genid: "remove it: session ids are derived from the 256-bit token and cannot be chosen",
  proxy: "use trustProxy (adapters)",
  unset: "remove it: call session.destroy() to end a session, session.unset(field) to remove a field",
  cookieName: "use cookie.name",
  renew: "use renewAfter (milliseconds)",
  timeout: "use operationTimeout (milliseconds)",
};

const COOKIE_HINTS: Record<string, string> = {
  maxAge: LIFETIME,
  expires: LIFETIME,
  httpOnly: "remove it: the session cookie is always HttpOnly, so scripts cannot read the token",
  signed: HINTS.signed!,
};

/**
 * Throws `CONFIG_INVALID` for an option sess does not know (`allowed` adds the adapters' keys) and
 * warns through `warn` (when given) for a duration that looks like seconds.
 */
export function checkOptionNames(
  options: object,
  warn: ((message: string) => void) | null,
  allowed: readonly string[] = [],
): void {
  const known = [...MANAGER_KEYS, ...allowed];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw unknown(key, key, known, HINTS);
    const nested = NESTED[key];
    const value = (options as Record<string, unknown>)[key];
    if (nested && value !== null && typeof value === "object") {
      for (const inner of Object.keys(value)) {
        if (!nested.includes(inner)) throw unknown(`${key}.${inner}`, inner, nested, key === "cookie" ? COOKIE_HINTS : {});
      }
    }
  }
  for (const [key, below] of [["idleTimeout", 60_000], ["absoluteTimeout", 60_000], ["renewAfter", 1000]] as const) {
    const value = (options as Record<string, unknown>)[key];
    if (warn && typeof value === "number" && value > 0 && value < below) {
      warn(
        `${key} is ${value} ms: sess durations are in milliseconds ` +
          `(${value} seconds would be ${key}: ${(value * 1000).toLocaleString("en-US").replaceAll(",", "_")})`,
      );
    }
  }
}

function unknown(path: string, key: string, known: readonly string[], hints: Record<string, string>): Error {
  const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
  if (hint !== undefined) return configError(path, `sess has no such option; ${hint}`);
  const nearest = nearestName(key, known);
  const prefix = path.slice(0, path.length - key.length);
  return configError(
    path,
    nearest === null
      ? `sess has no such option (known: ${known.join(", ")})`
      : `sess has no such option; did you mean ${prefix}${nearest}?`,
  );
}

/** The known name closest to `key` (case-insensitive edit distance, or one containing the other), or null. */
export function nearestName(key: string, known: readonly string[]): string | null {
  const wanted = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of known) {
    const candidate = name.toLowerCase();
    const distance = candidate.includes(wanted) || wanted.includes(candidate) ? 1 : editDistance(wanted, candidate);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The options of `createSessionManager`, checked once at construction: every problem throws
 * `CONFIG_INVALID` synchronously, naming the option and what to change.
 */
import type { CookieConfig, CookieOptions } from "./cookie.js";
import { MAX_COOKIE_LIFETIME, createCookieConfig } from "./cookie.js";
import { describe } from "./describe.js";
import type { BindOptions, DeviceConfig, RecordDeviceOptions } from "./device.js";
import { createDeviceConfig } from "./device.js";
import type { IndexSpec, SessionDriver } from "./driver.js";
import type { SessionEvent } from "./events.js";
import { configError } from "./errors.js";
import type { ExpirationOptions, ExpirationPolicy, SessionLifetime } from "./expiration.js";
import { checkDuration, createExpirationPolicy } from "./expiration.js";
import type { IndexDefinition } from "./indexes.js";
import { createIndexSpecs } from "./indexes.js";
import type { LegacySource } from "./legacy.js";
import { checkOptionNames } from "./options.js";
import type { HeaderConfig, HeaderOptions } from "./transport.js";
import { createHeaderConfig } from "./transport.js";
import type { LimitOptions, Limits } from "./values.js";
import { createLimits } from "./values.js";

export interface SessionManagerOptions extends ExpirationOptions {
  driver: SessionDriver;
  /** Cookie transport (default on). `false` turns it off; then `header` must be set. */
  cookie?: CookieOptions | false;
  /** Header transport for APIs and mobile clients (default off). When a request carries both, the header wins. */
  header?: HeaderOptions | boolean;
  limits?: LimitOptions;
  /** Deadline for each store operation, in milliseconds. Default 1000. Past it the request gets STORE_UNAVAILABLE. */
  operationTimeout?: number;
  /** Bound on one user's live sessions; a login beyond it ends that user's oldest sessions. Default none. */
  maxSessionsPerUser?: number;
  /** Device metadata stored with a new session and shown in listings. Default: user agent yes, IP no. */
  recordDevice?: RecordDeviceOptions;
  /**
   * Declared secondary indexes, by name (`[A-Za-z0-9_.-]{1,64}`): `{ field }` lists a session under
   * the value of one field (string, number or boolean), `{ fieldPrefix }` under the rest of the name
   * of every field with that prefix. Query them with `count` and `find`. Default none.
   */
  indexes?: Record<string, IndexDefinition>;
  /**
   * Binds a session to the device that created it: a request whose user agent (with `userAgent`)
   * or network (with `ipPrefix`: IPv4 prefix bits, e.g. 24; IPv6 addresses by `ipv6Prefix` bits,
   * default 64) differs ends the session and is served as having none. Default off.
   */
  bind?: BindOptions;
  /**
   * Receives every `SessionEvent` (sessions created, rotated, ended and why, write conflicts, the
   * store unavailable); also published on the `sess:event` diagnostics channel. A listener that
   * throws (or rejects) is reported through `onWarning`, never to the request. Default none.
   */
  onEvent?: (event: SessionEvent) => void;
  /** Where warnings go (insecure cookie setup, unreadable stored field). Default `console.warn`. */
  onWarning?: (message: string) => void;
  /** The clock policies judge by. Default `Date.now`; tests pass the memory driver's clock. */
  clock?: () => number;
  /**
   * Takes over the sessions of the store being replaced: `fromConnectRedis(…)` (express-session)
   * or `fromKoaRedis(…)` (koa-session), from `@sess/ioredis` or `@sess/node-redis`. A request with no sess token and a validly signed legacy
   * cookie continues its legacy session as a sess session, converted once. Default none.
   */
  legacy?: LegacySource;
}

export const DEFAULT_OPERATION_TIMEOUT = 1000;

/** The checked options of one manager. */
export interface ManagerConfig {
  driver: SessionDriver;
  policy: ExpirationPolicy;
  limits: Limits;
  /** The per-operation deadline, in milliseconds. */
  timeout: number;
  clock: () => number;
  warn: (message: string) => void;
  maxSessions: number | undefined;
  device: DeviceConfig;
  indexes: readonly IndexSpec[];
  cookie: CookieConfig | null;
  header: HeaderConfig | null;
  onEvent: ((event: SessionEvent) => void) | undefined;
  legacy: LegacySource | undefined;
  /** Checks the lifetimes given to login() or regenerate(): as the manager options, within 400 days with a persistent cookie. */
  checkLifetime: (operation: string, lifetime: unknown) => SessionLifetime;
}

export function createManagerConfig(options: SessionManagerOptions): ManagerConfig {
  if (options === null || typeof options !== "object") throw configError("options", "expected an object");
  const warn = options.onWarning ?? ((message: string) => console.warn(`[sess] ${message}`));
  checkOptionNames(options, warn);
  const driver = options.driver;
  if (!driver || typeof driver.load !== "function" || typeof driver.update !== "function") {
    throw configError("driver", "expected a SessionDriver (createMemoryDriver(), createIoredisDriver(…), createNodeRedisDriver(…))");
  }
  const policy = createExpirationPolicy(options);
  const limits = createLimits(options.limits);
  const timeout = checkDuration("operationTimeout", options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT);
  const clock = options.clock ?? Date.now;
  const maxSessions = options.maxSessionsPerUser;
  if (maxSessions !== undefined && (!Number.isSafeInteger(maxSessions) || maxSessions < 1)) {
    throw configError("maxSessionsPerUser", `expected a positive whole number, got ${describe(maxSessions)}`);
  }
  const indexes = createIndexSpecs(options.indexes);
  const device = createDeviceConfig(options.recordDevice, options.bind);

  const cookie: CookieConfig | null = options.cookie === false ? null : createCookieConfig(options.cookie);
  if (cookie?.persistent && policy.absoluteTimeout > MAX_COOKIE_LIFETIME) {
    throw configError("absoluteTimeout", `a persistent cookie cannot outlive 400 days (browsers cap it); got ${policy.absoluteTimeout} ms`);
  }
  const header = createHeaderConfig(options.header);
  if (!cookie && !header) throw configError("cookie", "with cookie: false, enable the header transport (header: true)");
  const legacy = options.legacy;
  if (legacy !== undefined && (legacy === null || typeof legacy !== "object" || typeof legacy.keyOf !== "function")) {
    throw configError("legacy", "expected fromConnectRedis({ client, secret }) or fromKoaRedis({ client, keys }) of @sess/ioredis or @sess/node-redis");
  }
  const checkLifetime = (operation: string, lifetime: unknown) =>
    policy.checkLifetime(operation, lifetime, cookie?.persistent ? MAX_COOKIE_LIFETIME : null);
  return { driver, policy, limits, timeout, clock, warn, maxSessions, device, indexes, cookie, header, onEvent: options.onEvent, legacy, checkLifetime };
}

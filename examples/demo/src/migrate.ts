/**
 * `MIGRATE_FROM=connect-redis`: sessions of an express-session + connect-redis version of the demo
 * (`{ username, tenant, cart: { <sku>: <qty> }, preferences }`, `username` the logged-in user)
 * continue as sess sessions on their first request, in the demo's layout: `cart:<sku>` and
 * `pref:<key>` fields, bound to the user.
 */
import type { ConnectRedisSourceOptions, LegacySource } from "@sess/core";
import type { MigrateSettings } from "./settings.js";

/** `fromConnectRedis` is the store's: `@sess/ioredis`'s or `@sess/node-redis`'s, on the store's client. */
export function legacySource(settings: MigrateSettings, fromConnectRedis: (options: ConnectRedisSourceOptions) => LegacySource): LegacySource {
  return fromConnectRedis({
    secret: settings.secrets,
    prefix: settings.prefix,
    cookie: settings.cookie,
    userOf: (legacy) => (typeof legacy.username === "string" ? legacy.username : null),
    fields(legacy) {
      const fields: Record<string, unknown> = {};
      if (typeof legacy.username === "string") fields.username = legacy.username;
      fields.tenant = typeof legacy.tenant === "string" ? legacy.tenant : "default";
      for (const [sku, qty] of entries(legacy.cart)) if (typeof qty === "number") fields[`cart:${sku}`] = qty;
      for (const [key, value] of entries(legacy.preferences)) fields[`pref:${key}`] = value;
      return fields;
    },
  });
}

function entries(value: unknown): Array<[string, unknown]> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
}

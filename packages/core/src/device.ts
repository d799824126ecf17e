/**
 * The device a session was created on: the user agent and IP address recorded with a new session
 * (`recordDevice`), and the binding checks (`bind`) that end a session used from another device,
 * IPv4 and IPv6 networks compared by prefix.
 */
import type { SessionRecord } from "./driver.js";
import { describe } from "./describe.js";
import { configError } from "./errors.js";
import type { RequestInfo } from "./transport.js";

export interface RecordDeviceOptions {
  /**
   * true (default): the first 64 bytes of the user agent, so the value keeps a Redis session in its
   * compact listpack encoding (hash-max-listpack-value 64); "full": up to 256 characters; false: none.
   */
  userAgent?: boolean | "full";
  ip?: boolean;
}

export interface BindOptions {
  userAgent?: boolean;
  ipPrefix?: number;
  ipv6Prefix?: number;
}

/** The checked `recordDevice` and `bind` options. */
export interface DeviceConfig {
  recordUserAgent: boolean;
  /** The stored user agent's bound: 64 UTF-8 bytes, or 256 characters with `recordDevice.userAgent: "full"`. */
  fullUserAgent: boolean;
  recordIp: boolean;
  bindUserAgent: boolean;
  /** IPv4 prefix bits a request's network is compared by; undefined: the network is not bound. */
  bindIpPrefix: number | undefined;
  bindIpv6Prefix: number;
}

/** Why a loaded session may not be used by a request. */
export type BindingMismatch = "user-agent" | "ip";

const MAX_USER_AGENT = 256;
/** The stored user agent by default: at most one listpack value (hash-max-listpack-value 64). */
const USER_AGENT_BYTES = 64;
/** IPv6 networks are compared by this many leading bits unless `bind.ipv6Prefix` says otherwise. */
const DEFAULT_IPV6_PREFIX = 64;

export function createDeviceConfig(
  recordDevice: RecordDeviceOptions | undefined,
  bind: BindOptions | undefined,
): DeviceConfig {
  const userAgentOption = recordDevice?.userAgent ?? true;
  if (userAgentOption !== true && userAgentOption !== false && userAgentOption !== "full") {
    throw configError("recordDevice.userAgent", `expected true, false or "full", got ${describe(userAgentOption)}`);
  }
  const recordUserAgent = userAgentOption !== false;
  const fullUserAgent = userAgentOption === "full";
  const recordIp = recordDevice?.ip ?? false;
  const bindUserAgent = bind?.userAgent ?? false;
  const bindIpPrefix = bind?.ipPrefix;
  if (bind !== undefined && (bind === null || typeof bind !== "object")) {
    throw configError("bind", `expected { userAgent?, ipPrefix? }, got ${describe(bind)}`);
  }
  if (bindUserAgent && recordDevice?.userAgent === false) {
    throw configError("bind.userAgent", "binding to the user agent needs it recorded: remove recordDevice.userAgent: false");
  }
  if (bindIpPrefix !== undefined && (!Number.isSafeInteger(bindIpPrefix) || bindIpPrefix < 1 || bindIpPrefix > 32)) {
    throw configError("bind.ipPrefix", `expected IPv4 prefix bits from 1 to 32, got ${describe(bindIpPrefix)}`);
  }
  const bindIpv6Prefix = bind?.ipv6Prefix ?? DEFAULT_IPV6_PREFIX;
  if (!Number.isSafeInteger(bindIpv6Prefix) || bindIpv6Prefix < 1 || bindIpv6Prefix > 128) {
    throw configError("bind.ipv6Prefix", `expected IPv6 prefix bits from 1 to 128, got ${describe(bindIpv6Prefix)}`);
  }
  return { recordUserAgent, fullUserAgent, recordIp, bindUserAgent, bindIpPrefix, bindIpv6Prefix };
}

function fullUserAgentOf(request: RequestInfo): string | null {
  return request.header("user-agent")?.slice(0, MAX_USER_AGENT) ?? null;
}

/** The user agent as a session stores it: its first 64 UTF-8 bytes (whole characters), or up to 256 characters with "full". */
function userAgentOf(config: DeviceConfig, request: RequestInfo): string | null {
  const full = fullUserAgentOf(request);
  if (full === null || config.fullUserAgent || full.length * 3 <= USER_AGENT_BYTES) return full;
  let out = "";
  let bytes = 0;
  for (const char of full) {
    bytes += Buffer.byteLength(char);
    if (bytes > USER_AGENT_BYTES) break;
    out += char;
  }
  return out;
}

/**
 * What a new session stores as `userAgent`. Bound to the user agent, a request without one records ""
 * so a later one with a user agent differs.
 */
export function storedUserAgent(config: DeviceConfig, request: RequestInfo): string | null {
  return config.recordUserAgent ? (userAgentOf(config, request) ?? (config.bindUserAgent ? "" : null)) : null;
}

/** What a new session stores as `ip`: the address with `recordDevice.ip`, else its bound prefix (or null). */
export function storedIp(config: DeviceConfig, request: RequestInfo): string | null {
  const ip = request.ip ?? null;
  if (config.recordIp || ip === null) return ip;
  return config.bindIpPrefix === undefined ? null : ipPrefixOf(ip, config.bindIpPrefix, config.bindIpv6Prefix);
}

/** Why a loaded session may not be used by this request, or null. Sessions stored without the data are not judged. */
export function bindingMismatch(config: DeviceConfig, record: SessionRecord, request: RequestInfo): BindingMismatch | null {
  // Compared as stored; a session stored with the whole user agent (by "full", or by an earlier version) is compared whole.
  if (
    config.bindUserAgent &&
    record.userAgent !== null &&
    (userAgentOf(config, request) ?? "") !== record.userAgent &&
    (fullUserAgentOf(request) ?? "") !== record.userAgent
  ) {
    return "user-agent";
  }
  const bits = config.bindIpPrefix;
  if (bits !== undefined && record.ip !== null) {
    const ip = request.ip;
    if (ip === undefined || ipPrefixOf(ip, bits, config.bindIpv6Prefix) !== ipPrefixOf(record.ip, bits, config.bindIpv6Prefix)) {
      return "ip";
    }
  }
  return null;
}

/**
 * The network part of an address: the first `bits` bits of an IPv4 address ("203.0.113.0/24"),
 * IPv4-mapped IPv6 included, or the first `bits6` bits of an IPv6 address, every group written
 * out ("2001:db8:0:0:0:0:0:0/64"; a zone "%eth0" is left out). Anything else is kept whole
 * (compared exactly), a stored network included.
 */
export function ipPrefixOf(ip: string, bits: number, bits6 = DEFAULT_IPV6_PREFIX): string {
  const address = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  const value = ipv4Value(address);
  if (value === null) {
    const groups = ipv6Groups(address);
    if (groups === null) return address;
    const masked = groups.map((group, i) => {
      const kept = Math.min(16, Math.max(0, bits6 - 16 * i));
      return group & ((0xffff << (16 - kept)) & 0xffff);
    });
    return `${masked.map((group) => group.toString(16)).join(":")}/${bits6}`;
  }
  const network = bits === 32 ? value : value - (value % 2 ** (32 - bits));
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join(".")}/${bits}`;
}

/** A dotted-quad IPv4 address as a number, or null. */
function ipv4Value(address: string): number | null {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return null;
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** The eight 16-bit groups of an IPv6 address ("::" and a trailing dotted quad expanded), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.split("%")[0]!;
  const tail: number[] = [];
  if (text.includes(".")) {
    const at = text.lastIndexOf(":");
    const value = ipv4Value(text.slice(at + 1));
    if (at < 0 || value === null) return null;
    tail.push(Math.floor(value / 65536), value % 65536);
    text = text.slice(0, at);
    if (text.endsWith(":")) text += ":";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string | undefined) => (half ? half.split(":") : []);
  const left = groupsOf(halves[0]);
  const right = groupsOf(halves[1]);
  if (![...left, ...right].every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  const missing = 8 - left.length - right.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const parse = (groups: string[]) => groups.map((group) => parseInt(group, 16));
  return [...parse(left), ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...parse(right), ...tail];
}

import { describe, expect, it } from "vitest";
import { bindingMismatch, createDeviceConfig, ipPrefixOf, storedUserAgent } from "../src/device.js";

describe("ipPrefixOf(ip, bits, bits6)", () => {
  it("keeps the first bits of an IPv4 address", () => {
    expect(ipPrefixOf("203.0.113.77", 24)).toBe("203.0.113.0/24");
    expect(ipPrefixOf("203.0.113.77", 12)).toBe("203.0.0.0/12");
    expect(ipPrefixOf("203.0.113.77", 32)).toBe("203.0.113.77/32");
  });

  it("reads an IPv4-mapped IPv6 address as IPv4", () => {
    expect(ipPrefixOf("::ffff:203.0.113.77", 24)).toBe("203.0.113.0/24");
  });

  it("keeps the first bits6 bits of an IPv6 address, every group written out", () => {
    expect(ipPrefixOf("2001:db8:1:2:3:4:5:6", 24)).toBe("2001:db8:1:2:0:0:0:0/64");
    expect(ipPrefixOf("2001:db8::1", 24, 48)).toBe("2001:db8:0:0:0:0:0:0/48");
    expect(ipPrefixOf("fe80::abcd%eth0", 24, 10)).toBe("fe80:0:0:0:0:0:0:0/10");
    expect(ipPrefixOf("64:ff9b::192.0.2.33", 24, 128)).toBe("64:ff9b:0:0:0:0:c000:221/128");
  });

  it("keeps anything else whole, a stored network included", () => {
    expect(ipPrefixOf("203.0.113.0/24", 24)).toBe("203.0.113.0/24");
    expect(ipPrefixOf("not an address", 24)).toBe("not an address");
    expect(ipPrefixOf("1:2:3:4:5:6:7", 24)).toBe("1:2:3:4:5:6:7");
  });
});

describe("the recorded user agent", () => {
  const UA =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0 OPR/115.0.0.0 x";
  const requestWith = (userAgent: string) => ({ header: (name: string) => (name === "user-agent" ? userAgent : undefined), secure: false });

  it("is the first 64 bytes of a long user agent by default, so it fits one listpack value", () => {
    expect(UA.length).toBeGreaterThanOrEqual(130);
    const stored = storedUserAgent(createDeviceConfig(undefined, undefined), requestWith(UA));
    expect(stored).toBe(UA.slice(0, 64));
  });

  it("cuts at whole characters: never more than 64 UTF-8 bytes", () => {
    const stored = storedUserAgent(createDeviceConfig(undefined, undefined), requestWith("é".repeat(40)))!;
    expect(stored).toBe("é".repeat(32));
    expect(Buffer.byteLength(stored)).toBe(64);
  });

  it('is the whole user agent (up to 256 characters) with recordDevice.userAgent: "full"', () => {
    expect(storedUserAgent(createDeviceConfig({ userAgent: "full" }, undefined), requestWith(UA))).toBe(UA);
  });

  it("binds by what was stored: the same browser matches, another does not, a whole stored one still matches", () => {
    const config = createDeviceConfig(undefined, { userAgent: true });
    const record = (userAgent: string) => ({ userAgent, ip: null }) as Parameters<typeof bindingMismatch>[1];
    expect(bindingMismatch(config, record(UA.slice(0, 64)), requestWith(UA))).toBeNull();
    expect(bindingMismatch(config, record(UA), requestWith(UA))).toBeNull();
    expect(bindingMismatch(config, record(UA.slice(0, 64)), requestWith("curl/8.5"))).toBe("user-agent");
  });

  it("refuses another value of recordDevice.userAgent", () => {
    expect(() => createDeviceConfig({ userAgent: "short" as never }, undefined)).toThrow(/recordDevice.userAgent/);
  });
});

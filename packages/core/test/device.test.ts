import { describe, expect, it } from "vitest";
import { ipPrefixOf } from "../src/device.js";

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

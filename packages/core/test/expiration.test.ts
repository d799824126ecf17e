import { describe, expect, it } from "vitest";
import { SessionError, createExpirationPolicy } from "../src/index.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

describe("createExpirationPolicy", () => {
  it("defaults to a 30 minute idle timeout, a 12 hour absolute lifetime and renewal after 60 seconds", () => {
    const policy = createExpirationPolicy();
    expect([policy.idleTimeout, policy.absoluteTimeout, policy.renewAfter]).toEqual([30 * MIN, 12 * HOUR, 60_000]);
  });

  it("defaults renewal to half the idle timeout when that is shorter than 60 seconds", () => {
    expect(createExpirationPolicy({ idleTimeout: 10_000 }).renewAfter).toBe(5_000);
  });

  describe("when an option is invalid", () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ["idleTimeout", { idleTimeout: 0 }],
      ["idleTimeout", { idleTimeout: -5 }],
      ["idleTimeout", { idleTimeout: Number.NaN }],
      ["idleTimeout", { idleTimeout: Number.POSITIVE_INFINITY }],
      ["idleTimeout", { idleTimeout: 1.5 }],
      ["idleTimeout", { idleTimeout: "1000" }],
      ["absoluteTimeout", { absoluteTimeout: 0 }],
      ["absoluteTimeout", { absoluteTimeout: Number.NaN }],
      ["absoluteTimeout", { absoluteTimeout: Number.POSITIVE_INFINITY }],
      ["absoluteTimeout", { idleTimeout: 2 * HOUR, absoluteTimeout: HOUR }],
      ["renewAfter", { renewAfter: -1 }],
      ["renewAfter", { renewAfter: 30 * MIN }],
      ["renewAfter", { idleTimeout: MIN, renewAfter: 2 * MIN }],
    ];
    it.each(cases)("throws CONFIG_INVALID naming %s for %o", (option, options) => {
      let caught: unknown;
      try {
        createExpirationPolicy(options);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SessionError);
      expect((caught as SessionError).code).toBe("CONFIG_INVALID");
      expect((caught as SessionError).message).toContain(`"${option}"`);
    });
  });
});

describe("policy.start", () => {
  it("sets the store expiry to the idle deadline and the absolute deadline from now", () => {
    const policy = createExpirationPolicy({ idleTimeout: MIN, absoluteTimeout: HOUR });
    expect(policy.start(1_000)).toEqual({
      createdAt: 1_000,
      lastSeenAt: 1_000,
      expiresAt: 1_000 + MIN,
      absoluteExpiresAt: 1_000 + HOUR,
    });
  });

  it("caps the store expiry at the absolute deadline when both timeouts are equal", () => {
    const policy = createExpirationPolicy({ idleTimeout: HOUR, absoluteTimeout: HOUR });
    const times = policy.start(0);
    expect(times.expiresAt).toBe(times.absoluteExpiresAt);
  });
});

describe("policy.expiresAt", () => {
  const policy = createExpirationPolicy({ idleTimeout: 10 * MIN, absoluteTimeout: HOUR });

  it("slides the idle deadline with activity", () => {
    expect(policy.expiresAt(5 * MIN, HOUR)).toBe(15 * MIN);
  });

  it("never extends past the absolute deadline", () => {
    expect(policy.expiresAt(55 * MIN, HOUR)).toBe(HOUR);
  });
});

describe("policy.isRenewalDue", () => {
  const policy = createExpirationPolicy({ idleTimeout: 10 * MIN, absoluteTimeout: HOUR, renewAfter: MIN });
  const times = { lastSeenAt: 0, expiresAt: 10 * MIN, absoluteExpiresAt: HOUR };

  it("is false before renewAfter has passed since the last renewal", () => {
    expect(policy.isRenewalDue(times, MIN - 1)).toBe(false);
  });

  it("is true once renewAfter has passed", () => {
    expect(policy.isRenewalDue(times, MIN)).toBe(true);
  });

  it("is false when the store expiry already equals the absolute deadline", () => {
    expect(policy.isRenewalDue({ lastSeenAt: 0, expiresAt: HOUR, absoluteExpiresAt: HOUR }, 30 * MIN)).toBe(false);
  });
});

describe("policy.isExpired", () => {
  const policy = createExpirationPolicy();

  it("is true at the store expiry", () => {
    expect(policy.isExpired({ expiresAt: 100, absoluteExpiresAt: 1_000 }, 100)).toBe(true);
  });

  it("is true at the absolute deadline even when the store expiry is later", () => {
    expect(policy.isExpired({ expiresAt: 2_000, absoluteExpiresAt: 1_000 }, 1_000)).toBe(true);
  });

  it("is false before both deadlines", () => {
    expect(policy.isExpired({ expiresAt: 100, absoluteExpiresAt: 1_000 }, 99)).toBe(false);
  });
});

/**
 * The conformance suite every sess storage driver runs unchanged.
 *
 * A driver's test file builds a `ConformanceHarness` and calls `describeDriverConformance(harness)`
 * at the top level; the suite declares vitest tests, each on a fresh driver that it closes afterwards.
 */
import { afterEach, beforeEach, describe } from "vitest";
import type { SessionDriver } from "@sess/core";
import type { ConformanceGroup, ConformanceHarness } from "./harness.js";
import type { SuiteContext } from "./context.js";
import { crudTests } from "./crud.js";
import { fieldTests } from "./fields.js";
import { incrementTests } from "./increments.js";
import { resurrectionTests } from "./resurrection.js";
import { expiryTests } from "./expiry.js";
import { rotationTests } from "./rotation.js";
import { userTests } from "./users.js";
import { limitTests } from "./limits.js";
import { corruptTests } from "./corrupt.js";
import { queryTests } from "./queries.js";
import { lifetimeTests } from "./lifetimes.js";
import { resultTests } from "./results.js";

export type { ConformanceGroup, ConformanceHarness, CorruptionKind } from "./harness.js";
export { CORRUPT_FIELD, FOREIGN_FIELD } from "./harness.js";
export { describeSessionEvents, type EventHarness } from "./events.js";

const GROUPS: Record<ConformanceGroup, (context: SuiteContext) => void> = {
  crud: crudTests,
  fields: fieldTests,
  increments: incrementTests,
  resurrection: resurrectionTests,
  expiry: expiryTests,
  rotation: rotationTests,
  users: userTests,
  limits: limitTests,
  corrupt: corruptTests,
  queries: queryTests,
  lifetimes: lifetimeTests,
  results: resultTests,
};

/** Every group, in the order the suite runs them. */
export const CONFORMANCE_GROUPS = Object.keys(GROUPS) as ConformanceGroup[];

export function describeDriverConformance(
  harness: ConformanceHarness,
  options: { groups?: ConformanceGroup[] } = {},
): void {
  const selected = new Set(options.groups ?? CONFORMANCE_GROUPS);

  describe(`${harness.name} driver conformance`, () => {
    let current: SessionDriver | undefined;

    beforeEach(async () => {
      current = await harness.createDriver();
    });

    afterEach(async () => {
      const driver = current;
      current = undefined;
      if (driver === undefined) return;
      try {
        await driver.close();
      } finally {
        await harness.cleanup?.(driver);
      }
    });

    const context: SuiteContext = {
      harness,
      driver() {
        if (current === undefined) throw new Error("no driver: call context.driver() inside a test");
        return current;
      },
    };

    for (const group of CONFORMANCE_GROUPS) {
      if (selected.has(group)) describe(group, () => GROUPS[group](context));
    }
  });
}

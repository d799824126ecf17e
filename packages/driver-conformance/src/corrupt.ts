import { describe, expect, it } from "vitest";
import type { SessionRecord } from "@sess/core";
import { CORRUPT_FIELD, FOREIGN_FIELD, type CorruptionKind } from "./harness.js";
import { type SuiteContext, looksLikeSessionError, newChange, stored } from "./context.js";

type Outcome<T> = { value: T } | { error: unknown };

async function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/**
 * What load must resolve for each kind of corrupt data. A driver may also reject with a
 * `SessionError`; it must never reject with anything else, nor crash.
 * - wrong-type: null (the session is unreadable).
 * - bad-json-field: the record, with the raw text unchanged: drivers do not parse JSON, core does.
 * - foreign-fields: the record, with the foreign field among the fields.
 * - missing-metadata: null (without its metadata a session cannot be judged live).
 */
const EXPECTED: Record<CorruptionKind, (record: SessionRecord | null) => void> = {
  "wrong-type": (record) => expect(record).toBeNull(),
  "bad-json-field": (record) =>
    expect(record?.fields).toEqual({ intact: '"kept"', [CORRUPT_FIELD.name]: CORRUPT_FIELD.text }),
  "foreign-fields": (record) =>
    expect(record?.fields).toEqual({ intact: '"kept"', [FOREIGN_FIELD.name]: FOREIGN_FIELD.text }),
  "missing-metadata": (record) => expect(record).toBeNull(),
};

function expectOnlySessionErrors(outcome: Outcome<unknown>): void {
  if ("error" in outcome) {
    expect(looksLikeSessionError(outcome.error), `rejected with ${String(outcome.error)}`).toBe(true);
  }
}

export function corruptTests(context: SuiteContext): void {
  const { harness } = context;
  const corrupt = harness.corrupt;
  const missing = corrupt === undefined;

  async function corrupted(kind: CorruptionKind): Promise<string> {
    if (corrupt === undefined) throw new Error("the harness has no corrupt");
    const id = await stored(context, { fields: { intact: '"kept"' } });
    await corrupt.call(harness, context.driver(), id, kind);
    return id;
  }

  describe("load", () => {
    for (const kind of Object.keys(EXPECTED) as CorruptionKind[]) {
      describe(`when the stored session is corrupt (${kind})`, () => {
        it.skipIf(missing)("resolves what the contract says or rejects with a SessionError", async () => {
          const id = await corrupted(kind);
          const outcome = await settle(context.driver().load(id));
          expectOnlySessionErrors(outcome);
          if ("value" in outcome) EXPECTED[kind](outcome.value);
        });
      });
    }
  });

  describe("update", () => {
    describe("when the stored session has the wrong type", () => {
      it.skipIf(missing)("resolves null or rejects with a SessionError, and the driver keeps working", async () => {
        const driver = context.driver();
        const id = await corrupted("wrong-type");
        const outcome = await settle(driver.update(id, newChange(harness, { set: { a: "1" }, increment: { n: 1 } })));
        expectOnlySessionErrors(outcome);
        if ("value" in outcome) expect(outcome.value).toBeNull();
        const healthy = await stored(context, { fields: { ok: "true" } });
        expect((await driver.load(healthy))?.fields).toEqual({ ok: "true" });
      });
    });

    for (const kind of ["bad-json-field", "foreign-fields"] as const) {
      describe(`when the stored session is corrupt (${kind})`, () => {
        it.skipIf(missing)("writes other fields without touching the odd one", async () => {
          const driver = context.driver();
          const id = await corrupted(kind);
          const outcome = await settle(driver.update(id, newChange(harness, { set: { added: "1" } })));
          expectOnlySessionErrors(outcome);
          const record = await driver.load(id);
          expect(record?.fields["intact"]).toBe('"kept"');
          const odd = kind === "bad-json-field" ? CORRUPT_FIELD : FOREIGN_FIELD;
          expect(record?.fields[odd.name]).toBe(odd.text);
        });
      });
    }
  });

  describe("destroy", () => {
    for (const kind of Object.keys(EXPECTED) as CorruptionKind[]) {
      describe(`when the stored session is corrupt (${kind})`, () => {
        it.skipIf(missing)("removes it or rejects with a SessionError, and load then resolves null", async () => {
          const driver = context.driver();
          const id = await corrupted(kind);
          expectOnlySessionErrors(await settle(driver.destroy(id)));
          const after = await settle(driver.load(id));
          expectOnlySessionErrors(after);
          if ("value" in after) expect(after.value).toBeNull();
        });
      });
    }
  });
}

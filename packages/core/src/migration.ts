/**
 * The manager's side of the `legacy` option: a request that carries no sess token and whose
 * session is new gets its legacy session (see `legacy.ts`) converted into this new session, stored
 * at commit; the legacy key is deleted only once the sess session is stored, and put back when the
 * commit fails or stores nothing (an error response after a refused write).
 */
import { SessionError } from "./errors.js";
import type { LegacySource } from "./legacy.js";
import type { CommitOutcome, CommitResult, OpenSession } from "./manager.js";
import type { SessionData } from "./session.js";
import type { SessionState } from "./session-state.js";

/** How long a claim holds before another request may take the legacy session over (the first one died). */
export const LEGACY_CLAIM_HOLD = 60_000;

export interface TakeOver {
  source: LegacySource;
  cookieHeader: string | undefined;
  now: number;
  /** Runs a store call under the manager's deadline and error wrapping. */
  claim: (run: () => ReturnType<LegacySource["claim"]>) => ReturnType<LegacySource["claim"]>;
  warn: (message: string) => void;
}

/** `opened`, with the legacy session of the request converted into it when there is one. */
export async function takeOverLegacy<T extends SessionData>(
  opened: OpenSession<T>,
  state: SessionState,
  { source, cookieHeader, now, claim: run, warn }: TakeOver,
): Promise<OpenSession<T>> {
  const key = source.keyOf(cookieHeader);
  if (key === null) return opened; // no legacy cookie, or a bad signature: no Redis call
  const claim = await run(() => source.claim(key, now, LEGACY_CLAIM_HOLD));
  if (claim.status === "none") return opened;
  if (claim.status === "busy") {
    // A parallel request is converting this session: serve this one without a session, and refuse
    // to create a second one (its cookie could replace the converted session's).
    return {
      session: opened.session,
      commitNow: (outcome) => opened.commitNow(outcome),
      idleUntilChange: (onChange) => opened.idleUntilChange(onChange), // a change then fails at commit
      commit(outcome) {
        const ready = opened.commitNow(outcome);
        if (ready) return Promise.resolve(ready);
        return Promise.reject(
          new SessionError("CONFLICT", `a parallel request is converting this request's ${source.kind} session; nothing was saved, retry`),
        );
      },
    };
  }
  const converted = source.convert(claim.legacy, claim.ttl, now);
  const session = opened.session as unknown as { set(name: string, value: unknown): void; login(userId: string): void };
  let refused: string | null = converted === null ? "it has expired or its mapping returned no fields object" : null;
  if (converted !== null) {
    for (const [name, value] of Object.entries(converted.fields)) {
      if (value === undefined) continue;
      try {
        session.set(name, value);
      } catch (error) {
        refused = `its field "${name.slice(0, 64)}" was refused (${(error as { code?: string }).code ?? "error"})`;
        break;
      }
    }
  }
  if (converted === null || refused !== null) {
    await claim.abandon().catch(() => undefined);
    warn(`a ${source.kind} session was not converted: ${refused ?? ""}; the request continues without a session`);
    return opened;
  }
  if (converted.userId !== null) session.login(converted.userId);
  state.expiresBy = converted.expiresBy;

  let result: Promise<CommitResult> | null = null;
  const commit = async (outcome?: CommitOutcome): Promise<CommitResult> => {
    let committed: CommitResult;
    try {
      committed = await opened.commit(outcome);
    } catch (error) {
      await claim.abandon().catch(() => undefined);
      throw error;
    }
    if (state.record === null && !state.destroyed) {
      // Nothing was stored (an error response after a refused write): the legacy session stays.
      await claim.abandon().catch(() => undefined);
      return committed;
    }
    // A failed delete leaves a claim that expires with the legacy key; the cleared cookie never sends it again.
    await claim.finish().catch(() => undefined);
    return { headers: [...committed.headers, ...source.clearing.map((value): [string, string] => ["set-cookie", value])] };
  };
  return {
    session: opened.session,
    commitNow: () => null, // the converted session is always stored
    idleUntilChange: () => false,
    commit: (outcome) => (result ??= commit(outcome)),
  };
}

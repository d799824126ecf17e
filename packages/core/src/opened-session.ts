/**
 * What the manager's `open` answers: the request's session and the calls that commit it. Classes,
 * not object literals, as `SessionState` explains: both point into the request.
 */
import type { CommitOutcome, CommitResult, OpenSession } from "./manager.js";
import type { Session, SessionData } from "./session.js";
import type { SessionState } from "./session-state.js";
import type { RequestInfo, TokenSource } from "./transport.js";

/** What the commit of one request keeps from its `open`. */
export class CommitContext {
  readonly state: SessionState;
  /** The token of the loaded session (null while the session is new). */
  readonly token: string | null;
  /** Where the request's token came from; null when it carried none. */
  readonly source: TokenSource | null;
  readonly secure: boolean;
  readonly request: RequestInfo;

  constructor(state: SessionState, token: string | null, source: TokenSource | null, secure: boolean, request: RequestInfo) {
    this.state = state;
    this.token = token;
    this.source = source;
    this.secure = secure;
    this.request = request;
  }
}

/** The manager's commit, shared by every session it opens. */
export interface CommitSteps {
  /** Writes what changed (one store call at most) and returns the headers to send. */
  commit(context: CommitContext, outcome?: CommitOutcome): Promise<CommitResult>;
  /** The result of a commit that needs no store call, or null when it needs one. */
  settled(context: CommitContext, outcome?: CommitOutcome): CommitResult | null;
}

export class OpenedSession<T extends SessionData> implements OpenSession<T> {
  readonly session: Session<T>;
  readonly #context: CommitContext;
  readonly #steps: CommitSteps;
  /** The commit, once started: every later call answers the same. */
  #result: Promise<CommitResult> | null = null;

  constructor(session: Session<T>, context: CommitContext, steps: CommitSteps) {
    this.session = session;
    this.#context = context;
    this.#steps = steps;
  }

  commit(outcome?: CommitOutcome): Promise<CommitResult> {
    this.#context.state.committed = true;
    return (this.#result ??= this.#steps.commit(this.#context, outcome));
  }

  commitNow(outcome?: CommitOutcome): CommitResult | null {
    if (this.#result) return null;
    const ready = this.#steps.settled(this.#context, outcome);
    if (ready) {
      this.#context.state.committed = true;
      this.#result = Promise.resolve(ready);
    }
    return ready;
  }

  idleUntilChange(onChange: () => void): boolean {
    const state = this.#context.state;
    if (this.#result || state.beforeChange !== null) return false;
    const ready = this.#steps.settled(this.#context);
    if (ready === null || ready.headers.length > 0) return false;
    state.beforeChange = onChange;
    return true;
  }
}

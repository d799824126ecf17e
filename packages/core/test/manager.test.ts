import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RequestInfo, Session, SessionDriver, SessionManager, SessionManagerOptions, SessionRecord } from "../src/index.js";
import { SessionError, createSessionManager, isToken, newToken, sessionIdOf } from "../src/index.js";
import { recordingDriver } from "./recording.js";

interface Data {
  username: string;
  cart: Record<string, number>;
  visits: number;
  note: string;
}

const MIN = 60_000;

function request(headers: Record<string, string> = {}, secure = false): RequestInfo {
  return { header: (name) => headers[name], secure };
}

function tokenFrom(setCookie: string | undefined): string {
  const match = /^sess=([^;]*)/.exec(setCookie ?? "");
  if (!match?.[1]) throw new Error(`no session cookie in ${String(setCookie)}`);
  return match[1];
}

function header(headers: Array<[string, string]>, name: string): string | undefined {
  return headers.find(([key]) => key === name)?.[1];
}

let rec: ReturnType<typeof recordingDriver>;
let manager: SessionManager<Data>;
let warnings: string[];

function makeManager(options: Partial<SessionManagerOptions> = {}) {
  warnings = [];
  return createSessionManager<Data>({
    driver: rec.driver,
    clock: rec.clock,
    idleTimeout: 30 * MIN,
    absoluteTimeout: 12 * 60 * MIN,
    renewAfter: MIN,
    onWarning: (message) => warnings.push(message),
    ...options,
  });
}

/** Runs one request: open, handler, commit. Returns the response headers. */
async function run(
  headers: Record<string, string>,
  handler: (session: Session<Data>) => void = () => {},
  on: SessionManager<Data> = manager,
) {
  const open = await on.open(request(headers));
  handler(open.session);
  const result = await open.commit();
  return { headers: result.headers, session: open.session };
}

async function login(username = "ada") {
  const { headers } = await run({}, (s) => {
    s.login(username);
    s.set("username", username);
  });
  return tokenFrom(header(headers, "set-cookie"));
}

beforeEach(() => {
  rec = recordingDriver();
  manager = makeManager();
});

afterEach(async () => {
  await manager.close();
});

describe("manager.open", () => {
  it("makes no store call for a request without a token", async () => {
    await run({});
    expect(rec.calls).toEqual([]);
  });

  describe("when the token is malformed", () => {
    const valid = newToken();
    const malformed = [
      "",
      "x",
      valid.slice(1),
      `${valid}A`,
      `${valid.slice(0, 50)}=`,
      `${valid.slice(0, 50)}B`,
      encodeURIComponent(`${valid.slice(0, 49)}+/`),
      `${valid.slice(0, 25)}\u0001${valid.slice(26)}`,
      "a".repeat(10_000),
      `${valid} ${valid}`,
    ];

    it("never reaches the store, from a cookie or a bearer header", async () => {
      const both = makeManager({ header: true });
      for (const token of malformed) {
        await run({ cookie: `sess=${token}` }, () => {}, both);
        await run({ authorization: `Bearer ${token}` }, () => {}, both);
      }
      expect(rec.calls).toEqual([]);
    });

    it("clears the malformed cookie and never adopts it when the request writes", async () => {
      const { headers } = await run({ cookie: `sess=${malformed[2]}` }, (s) => s.set("note", "hi"));
      const token = tokenFrom(header(headers, "set-cookie"));
      expect(token).not.toBe(malformed[2]);
      expect(rec.methods()).toEqual(["create"]);
    });
  });

  describe("when the cookie header carries several session cookies (a tossed cookie)", () => {
    it("tries every well-formed value in order and uses the first that names a live session", async () => {
      const token = await login("ada");
      for (const cookie of [`sess=${newToken()}; sess=${token}`, `sess=${token}; sess=${newToken()}`, `sess=bad; sess=${newToken()}; sess=${token}`]) {
        const { session, headers } = await run({ cookie });
        expect(session.userId).toBe("ada");
        expect(header(headers, "set-cookie")).toBeUndefined(); // no clearing cookie that would delete the real one
      }
    });

    it("tries at most 4 values, so a request cannot make many store calls", async () => {
      const token = await login("ada");
      rec.calls.length = 0;
      const tossed = Array.from({ length: 10 }, () => `sess=${newToken()}`).join("; ");
      const { session } = await run({ cookie: `${tossed}; sess=${token}` });
      expect(session.isNew).toBe(true);
      expect(rec.methods()).toEqual(["load", "load", "load", "load"]);
    });
  });

  it("never adopts a well-formed token the server did not issue", async () => {
    const forged = newToken();
    const { headers } = await run({ cookie: `sess=${forged}` }, (s) => s.set("note", "hi"));
    const issued = tokenFrom(header(headers, "set-cookie"));
    expect(issued).not.toBe(forged);
    expect(rec.methods()).toEqual(["load", "create"]);
    expect(await rec.driver.load(sessionIdOf(forged))).toBeNull();
  });

  it("gives the driver the session id, never the token", async () => {
    const token = await login();
    rec.calls.length = 0;
    await run({ cookie: `sess=${token}` }, (s) => s.set("note", "x"));
    const serialized = JSON.stringify(rec.calls);
    expect(serialized).not.toContain(token);
    expect(serialized).toContain(sessionIdOf(token));
  });

  it("rejects with STORE_UNAVAILABLE when the driver does not answer within operationTimeout", async () => {
    const stuck: SessionDriver = { ...rec.driver, name: "stuck", load: () => new Promise(() => {}) };
    const slow = createSessionManager({ driver: stuck, operationTimeout: 50 });
    const started = performance.now();
    const error = await slow.open(request({ cookie: `sess=${newToken()}` })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe("STORE_UNAVAILABLE");
    expect((error as SessionError).status).toBe(503);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("wraps a driver failure into STORE_UNAVAILABLE with the original as cause", async () => {
    const cause = new Error("ECONNREFUSED");
    const failing: SessionDriver = { ...rec.driver, name: "failing", load: () => Promise.reject(cause) };
    const broken = createSessionManager({ driver: failing });
    const error = (await broken.open(request({ cookie: `sess=${newToken()}` })).catch((e: unknown) => e)) as SessionError;
    expect(error.code).toBe("STORE_UNAVAILABLE");
    expect(error.cause).toBe(cause);
    expect(error.message).not.toMatch(/sess=/);
  });

  it("warns once when requests say X-Forwarded-Proto: https but the adapter does not trust the proxy", async () => {
    const proxied = makeManager();
    await proxied.open(request({ "x-forwarded-proto": "https" }));
    await proxied.open(request({ "x-forwarded-proto": "https, http" }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/X-Forwarded-Proto: https.*trustProxy/s);
    const direct = makeManager();
    await direct.open(request({ "x-forwarded-proto": "http" }));
    await direct.open(request({ "x-forwarded-proto": "https" }, true)); // trusted: the adapter made it secure
    await makeManager({ cookie: { secure: false } }).open(request({ "x-forwarded-proto": "https" }));
    expect(warnings).toEqual([]);
  });

  it("warns once when a Secure cookie is configured and requests arrive over plain HTTP", async () => {
    const strict = makeManager({ cookie: { secure: true } });
    await strict.open(request({}));
    await strict.open(request({}));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/trustProxy/);
  });
});

describe("open.commit", () => {
  it("stores nothing for a request that writes nothing", async () => {
    const { headers, session } = await run({}, (s) => s.get("note"));
    expect(headers).toEqual([]);
    expect(session.isNew).toBe(true);
    expect(rec.calls).toEqual([]);
  });

  it("creates the session on the first write and sets a cookie expiring with it", async () => {
    const { headers, session } = await run({}, (s) => s.set("note", "hello"));
    const cookie = header(headers, "set-cookie")!;
    expect(isToken(tokenFrom(cookie))).toBe(true);
    expect(cookie).toContain(`Max-Age=${30 * 60}`);
    expect(header(headers, "cache-control")).toBe("no-store");
    expect(rec.methods()).toEqual(["create"]);
    expect(session.id).toBe(sessionIdOf(tokenFrom(cookie)));
  });

  it("sends only the changed fields to the driver", async () => {
    const token = await login();
    await run({ cookie: `sess=${token}` }, (s) => {
      s.set("note", "a");
      s.set("visits", 1);
      s.set("cart", { x: 1 });
    });
    rec.calls.length = 0;
    await run({ cookie: `sess=${token}` }, (s) => {
      s.set("note", "b");
      s.unset("cart");
      s.increment("visits", 2);
    });
    expect(rec.methods()).toEqual(["load", "update"]);
    const change = rec.calls[1]!.args[1] as { set: object; remove: string[]; increment: object };
    expect(change.set).toEqual({ note: '"b"' });
    expect(change.remove).toEqual(["cart"]);
    expect(change.increment).toEqual({ visits: 2 });
  });

  it("makes no write for a read-only request while renewal is not due", async () => {
    const token = await login();
    rec.calls.length = 0;
    rec.advance(MIN - 1);
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.get("username"));
    expect(rec.methods()).toEqual(["load"]);
    expect(headers).toEqual([]);
  });

  it("renews a read-only session once renewal is due, and re-sends the cookie with the new expiry", async () => {
    const token = await login();
    rec.calls.length = 0;
    rec.advance(MIN);
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.get("username"));
    expect(rec.methods()).toEqual(["load", "update"]);
    const change = rec.calls[1]!.args[1] as { expiresAt: number; lastSeenAt: number };
    expect(change.lastSeenAt).toBe(rec.clock());
    expect(change.expiresAt).toBe(rec.clock() + 30 * MIN);
    expect(tokenFrom(header(headers, "set-cookie"))).toBe(token);
    expect(header(headers, "set-cookie")).toContain(`Max-Age=${30 * 60}`);
  });

  it("writes without moving the expiry or re-sending the cookie while renewal is not due", async () => {
    const token = await login();
    const before = await rec.driver.load(sessionIdOf(token));
    rec.calls.length = 0;
    rec.advance(MIN - 1);
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.set("note", "x"));
    expect(rec.methods()).toEqual(["load", "update"]);
    const change = rec.calls[1]!.args[1] as { expiresAt: number; lastSeenAt: number };
    expect(change.expiresAt).toBe(before!.expiresAt);
    expect(change.lastSeenAt).toBe(before!.lastSeenAt);
    expect(headers).toEqual([]);
  });

  it("renews in the same write once renewal is due", async () => {
    const token = await login();
    rec.calls.length = 0;
    rec.advance(MIN);
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.set("note", "x"));
    expect(rec.methods()).toEqual(["load", "update"]);
    expect((rec.calls[1]!.args[1] as { expiresAt: number }).expiresAt).toBe(rec.clock() + 30 * MIN);
    expect(tokenFrom(header(headers, "set-cookie"))).toBe(token);
  });

  it("ends a session at its absolute deadline however active it is", async () => {
    const short = makeManager({ idleTimeout: 10 * MIN, absoluteTimeout: 30 * MIN, renewAfter: MIN });
    const token = await (async () => {
      const { headers } = await run({}, (s) => s.set("note", "x"), short);
      return tokenFrom(header(headers, "set-cookie"));
    })();
    for (let i = 0; i < 5; i++) {
      rec.advance(5 * MIN);
      const { session } = await run({ cookie: `sess=${token}` }, () => {}, short);
      expect(session.isNew).toBe(false);
      expect(session.expiresAt).toBeLessThanOrEqual(session.createdAt! + 30 * MIN);
    }
    rec.advance(5 * MIN);
    const { session } = await run({ cookie: `sess=${token}` }, () => {}, short);
    expect(session.isNew).toBe(true);
  });

  it("ends a session idle for longer than the idle timeout", async () => {
    const token = await login();
    rec.advance(30 * MIN);
    const { session, headers } = await run({ cookie: `sess=${token}` });
    expect(session.isNew).toBe(true);
    expect(header(headers, "set-cookie")).toMatch(/^sess=; .*Max-Age=0/);
  });

  it("answers the loser of two parallel logins CONFLICT without a cookie that would drop the winner's", async () => {
    const token = await login();
    const [first, second] = await Promise.all([0, 1].map(() => manager.open(request({ cookie: `sess=${token}` }))));
    first!.session.login("ada");
    second!.session.regenerate();
    const won = await first!.commit();
    expect(tokenFrom(header(won.headers, "set-cookie"))).not.toBe(token);
    const error = (await second!.commit().catch((e: unknown) => e)) as SessionError & { headers?: Record<string, string> };
    expect(error.code).toBe("CONFLICT");
    expect(error.headers?.["set-cookie"]).toBeUndefined();
  });

  it("throws CONFLICT for a change made once the commit started, instead of dropping it", async () => {
    const token = await login();
    for (const finish of ["commit", "commitNow"] as const) {
      const open = await manager.open(request({ cookie: `sess=${token}` }));
      if (finish === "commit") await open.commit();
      else expect(open.commitNow()).not.toBeNull();
      for (const change of [
        () => open.session.set("note", "late"),
        () => open.session.increment("visits"),
        () => open.session.unset("note"),
        () => open.session.regenerate(),
        () => open.session.login("eve"),
        () => open.session.destroy(),
      ]) {
        expect(change).toThrow(expect.objectContaining({ code: "CONFLICT", message: expect.stringMatching(/already committed/) }));
      }
      expect(open.session.get("username")).toBe("ada");
    }
  });

  it("answers a write that lost to a parallel login CONFLICT without a clearing cookie", async () => {
    const token = await login();
    const [write, rotation] = await Promise.all([0, 1].map(() => manager.open(request({ cookie: `sess=${token}` }))));
    rotation!.session.login("ada");
    const rotated = tokenFrom(header((await rotation!.commit()).headers, "set-cookie"));
    write!.session.set("note", "late");
    const error = (await write!.commit().catch((e: unknown) => e)) as SessionError & { headers?: Record<string, string> };
    expect(error.code).toBe("CONFLICT");
    expect(error.headers?.["set-cookie"]).toBeUndefined();
    expect((await run({ cookie: `sess=${rotated}` })).session.userId).toBe("ada");
  });

  it("ends the rotated session when a logout raced a rotation of it", async () => {
    const token = await login("ada");
    const bystander = await login("ada");
    const [logout, rotation] = await Promise.all([0, 1].map(() => manager.open(request({ cookie: `sess=${token}` }))));
    rotation!.session.regenerate();
    const rotated = tokenFrom(header((await rotation!.commit()).headers, "set-cookie"));
    logout!.session.destroy();
    expect(header((await logout!.commit()).headers, "set-cookie")).toMatch(/^sess=; /);
    expect((await run({ cookie: `sess=${rotated}` })).session.isNew).toBe(true);
    expect((await run({ cookie: `sess=${bystander}` })).session.userId).toBe("ada");
  });

  it("rejects with CONFLICT and a clearing cookie when the session ended during the request", async () => {
    const token = await login();
    const open = await manager.open(request({ cookie: `sess=${token}` }));
    await manager.endUserSessions("ada");
    open.session.set("note", "late");
    const error = (await open.commit().catch((e: unknown) => e)) as SessionError & { headers: Record<string, string> };
    expect(error.code).toBe("CONFLICT");
    expect(error.status).toBe(409);
    expect(error.headers["set-cookie"]).toMatch(/^sess=; /);
    expect(error.headers["cache-control"]).toBe("no-store");
    expect(await rec.driver.load(sessionIdOf(token))).toBeNull();
  });

  it("commits a read-only request synchronously with commitNow, and refuses when a store call is needed", async () => {
    const token = await login();
    rec.calls.length = 0;
    const reading = await manager.open(request({ cookie: `sess=${token}` }));
    reading.session.get("username");
    expect(reading.commitNow()).toEqual({ headers: [] });
    expect(await reading.commit()).toEqual({ headers: [] });
    const writing = await manager.open(request({ cookie: `sess=${token}` }));
    writing.session.set("note", "x");
    expect(writing.commitNow()).toBeNull();
    await writing.commit();
    expect(rec.methods()).toEqual(["load", "load", "update"]);
    rec.advance(MIN);
    const due = await manager.open(request({ cookie: `sess=${token}` }));
    expect(due.commitNow()).toBeNull();
  });

  it("commits once however often it is called", async () => {
    const open = await manager.open(request({}));
    open.session.set("note", "x");
    const [a, b] = await Promise.all([open.commit(), open.commit()]);
    expect(a).toBe(b);
    expect(rec.methods()).toEqual(["create"]);
  });
});

describe("session.regenerate", () => {
  it("keeps the data under a new token and kills the old token at once", async () => {
    const token = await login();
    await run({ cookie: `sess=${token}` }, (s) => s.set("cart", { apple: 2 }));
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.regenerate());
    const fresh = tokenFrom(header(headers, "set-cookie"));
    expect(fresh).not.toBe(token);
    const old = await run({ cookie: `sess=${token}` });
    expect(old.session.isNew).toBe(true);
    const current = await run({ cookie: `sess=${fresh}` });
    expect(current.session.get("cart")).toEqual({ apple: 2 });
    expect(current.session.get("username")).toBe("ada");
  });

  it("drops the data when asked to", async () => {
    const token = await login();
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.regenerate({ keepData: false }));
    const current = await run({ cookie: `sess=${tokenFrom(header(headers, "set-cookie"))}` });
    expect(current.session.all()).toEqual({});
    expect(current.session.isNew).toBe(false);
  });
});

describe("session.login", () => {
  it("keeps data written before login, issues a new token and binds the user", async () => {
    const { headers } = await run({}, (s) => s.set("cart", { pear: 1 }));
    const anonymous = tokenFrom(header(headers, "set-cookie"));
    const after = await run({ cookie: `sess=${anonymous}` }, (s) => s.login("grace"));
    const token = tokenFrom(header(after.headers, "set-cookie"));
    expect(token).not.toBe(anonymous);
    expect((await run({ cookie: `sess=${anonymous}` })).session.isNew).toBe(true);
    const current = await run({ cookie: `sess=${token}` });
    expect(current.session.userId).toBe("grace");
    expect(current.session.get("cart")).toEqual({ pear: 1 });
    const listed = await manager.listUserSessions("grace");
    expect(listed.map((s) => s.id)).toEqual([current.session.id]);
  });

  it("counts the absolute lifetime from login", async () => {
    const { headers } = await run({}, (s) => s.set("note", "x"));
    const anonymous = tokenFrom(header(headers, "set-cookie"));
    rec.advance(10 * MIN);
    const after = await run({ cookie: `sess=${anonymous}` }, (s) => s.login("grace"));
    const change = rec.calls.at(-1)!.args[2] as { absoluteExpiresAt: number };
    expect(change.absoluteExpiresAt).toBe(rec.clock() + 12 * 60 * MIN);
    expect(after.session.userId).toBe("grace");
  });

  it("ends the oldest sessions beyond maxSessionsPerUser", async () => {
    const limited = makeManager({ maxSessionsPerUser: 2 });
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { headers } = await run({}, (s) => s.login("lin"), limited);
      tokens.push(tokenFrom(header(headers, "set-cookie")));
      rec.advance(1_000);
    }
    expect((await run({ cookie: `sess=${tokens[0]}` }, () => {}, limited)).session.isNew).toBe(true);
    expect((await limited.listUserSessions("lin")).length).toBe(2);
  });
});

describe("session.destroy", () => {
  it("deletes the session and clears the cookie with the same attributes", async () => {
    const token = await login();
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.destroy());
    expect(header(headers, "set-cookie")).toBe(
      "sess=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    );
    expect(await rec.driver.load(sessionIdOf(token))).toBeNull();
  });

  it("refuses writes after destroy in the same request", async () => {
    const open = await manager.open(request({}));
    open.session.destroy();
    expect(() => open.session.set("note", "x")).toThrow(SessionError);
  });
});

describe("session.increment", () => {
  it("adds to the stored value and reports what the store holds after commit", async () => {
    const token = await login();
    await run({ cookie: `sess=${token}` }, (s) => s.increment("visits"));
    await Promise.all(
      Array.from({ length: 20 }, () => run({ cookie: `sess=${token}` }, (s) => s.increment("visits", 5))),
    );
    const { session } = await run({ cookie: `sess=${token}` }, (s) => s.increment("visits"));
    expect(session.get("visits")).toBe(102);
  });

  it("rejects a fractional step", async () => {
    const open = await manager.open(request({}));
    expect(() => open.session.increment("visits", 0.5)).toThrow(/whole number/);
  });

  it("turns a field set in the same request into a plain write", async () => {
    const token = await login();
    rec.calls.length = 0;
    await run({ cookie: `sess=${token}` }, (s) => {
      s.set("visits", 10);
      s.increment("visits", 5);
    });
    const change = rec.calls[1]!.args[1] as { set: object; increment: object };
    expect(change.set).toEqual({ visits: "15" });
    expect(change.increment).toEqual({});
  });
});

describe("session.get", () => {
  it("returns frozen values, so an in-place change fails loudly instead of being lost", async () => {
    const token = await login();
    await run({ cookie: `sess=${token}` }, (s) => s.set("cart", { a: 1 }));
    const { session } = await run({ cookie: `sess=${token}` });
    const cart = session.get("cart") as Record<string, number>;
    expect(() => {
      cart.b = 2;
    }).toThrow(TypeError);
  });

  it("reads an unparseable stored field as undefined and warns", async () => {
    const token = await login();
    await rec.driver.update(sessionIdOf(token), {
      set: { note: "{not json" },
      remove: [],
      increment: {},
      lastSeenAt: rec.clock(),
      expiresAt: rec.clock() + MIN,
    });
    const { session } = await run({ cookie: `sess=${token}` });
    expect(session.get("note")).toBeUndefined();
    expect(warnings.join()).toMatch(/"note".*not valid JSON/);
  });
});

describe("session.get on a shared frozen record", () => {
  /** The driver answers every load with one frozen record per stored state, as the Redis drivers' near cache does. */
  function sharingManager() {
    const shared = new Map<string, SessionRecord>();
    const driver: SessionDriver = {
      ...rec.driver,
      load: async (id, at) => {
        const record = await rec.driver.load(id, at);
        if (record === null) return null;
        const key = JSON.stringify(record);
        if (!shared.has(key)) shared.set(key, Object.freeze({ ...record, fields: Object.freeze({ ...record.fields }) }));
        return shared.get(key)!;
      },
    };
    return makeManager({ driver });
  }

  it("parses each value of the record once: requests reading it get the same frozen value", async () => {
    const token = await login();
    await run({ cookie: `sess=${token}` }, (s) => s.set("cart", { a: 1 }));
    const sharing = sharingManager();
    const first = (await run({ cookie: `sess=${token}` }, () => {}, sharing)).session.get("cart");
    const second = (await run({ cookie: `sess=${token}` }, () => {}, sharing)).session.get("cart");
    expect(first).toEqual({ a: 1 });
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // Without sharing, each request parses its own copy.
    const own = (await run({ cookie: `sess=${token}` })).session.get("cart");
    expect(own).toEqual({ a: 1 });
    expect(own).not.toBe(first);
    await sharing.close();
  });

  it("answers this request's own changes and the stored state's next values, not the shared parse", async () => {
    const token = await login();
    await run({ cookie: `sess=${token}` }, (s) => s.set("cart", { a: 1 }));
    const sharing = sharingManager();
    expect((await run({ cookie: `sess=${token}` }, () => {}, sharing)).session.get("cart")).toEqual({ a: 1 });
    const { session } = await run({ cookie: `sess=${token}` }, (s) => {
      s.set("cart", { a: 2 });
      expect(s.get("cart")).toEqual({ a: 2 });
    }, sharing);
    expect(session.get("cart")).toEqual({ a: 2 });
    expect((await run({ cookie: `sess=${token}` }, () => {}, sharing)).session.get("cart")).toEqual({ a: 2 });
    await run({ cookie: `sess=${token}` }, (s) => expect(s.increment("visits", 2)).toBe(2), sharing);
    await run({ cookie: `sess=${token}` }, (s) => expect(s.increment("visits", 3)).toBe(5), sharing);
    await sharing.close();
  });
});

describe("limits", () => {
  it("rejects a field beyond maxFields with PAYLOAD_TOO_LARGE and writes nothing", async () => {
    const small = makeManager({ limits: { maxFields: 2 } });
    const open = await small.open(request({}));
    open.session.set("note", "a");
    open.session.set("username", "b");
    expect(() => open.session.set("visits", 1)).toThrow(expect.objectContaining({ code: "PAYLOAD_TOO_LARGE" }));
  });

  it("commits the request's other changes when a refused write was caught", async () => {
    const token = await login();
    const small = makeManager({ limits: { maxFields: 3 } }); // username + note + visits
    const open = await small.open(request({ cookie: `sess=${token}` }));
    open.session.set("note", "kept");
    open.session.set("visits", 1);
    expect(() => open.session.set("cart", { a: 1 })).toThrow(expect.objectContaining({ code: "PAYLOAD_TOO_LARGE" }));
    expect(open.session.get("cart")).toBeUndefined();
    await open.commit();
    const stored = await rec.driver.load(sessionIdOf(token));
    expect(stored!.fields).toMatchObject({ note: '"kept"', visits: "1" });
    expect(stored!.fields.cart).toBeUndefined();
  });

  it("leaves the session as it was when a value is refused as invalid, and commits the rest", async () => {
    const open = await manager.open(request({}));
    open.session.set("note", "x");
    open.session.set("cart", { a: 1 });
    expect(() => open.session.set("cart", { a: Number.NaN })).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
    expect(() => open.session.increment("note" as "visits")).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
    expect(open.session.all()).toEqual({ note: "x", cart: { a: 1 } });
    await open.commit();
    expect(rec.methods()).toEqual(["create"]);
  });

  it("rejects data beyond maxBytes with PAYLOAD_TOO_LARGE", async () => {
    const small = makeManager({ limits: { maxBytes: 100 } });
    const open = await small.open(request({}));
    expect(() => open.session.set("note", "x".repeat(200))).toThrow(expect.objectContaining({ code: "PAYLOAD_TOO_LARGE", status: 413 }));
    await open.commit();
    expect(rec.calls).toEqual([]);
  });
});

describe("header transport", () => {
  it("reads a bearer token and returns new tokens in the session-token header", async () => {
    const api = makeManager({ cookie: false, header: true });
    const first = await run({}, (s) => s.login("ada"), api);
    const token = header(first.headers, "session-token")!;
    expect(isToken(token)).toBe(true);
    expect(header(first.headers, "set-cookie")).toBeUndefined();
    const second = await run({ authorization: `Bearer ${token}` }, () => {}, api);
    expect(second.session.userId).toBe("ada");
  });

  describe("when the Authorization header holds something other than a sess token", () => {
    it.each([
      ["Basic credentials", "Basic dXNlcjpwYXNz"],
      ["another service's bearer token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"],
      ["a malformed bearer token", `Bearer ${newToken().slice(1)}`],
    ])("falls back to the cookie (%s)", async (_, authorization) => {
      const both = makeManager({ header: true });
      const first = await run({}, (s) => s.login("ada"), both);
      const token = tokenFrom(header(first.headers, "set-cookie"));
      const second = await run({ cookie: `sess=${token}`, authorization }, (s) => s.set("note", "x"), both);
      expect(second.session.userId).toBe("ada");
      expect(header(second.headers, "session-token")).toBeUndefined();
      // A write that starts a session answers with a cookie, not a header the client never reads.
      const fresh = await run({ authorization }, (s) => s.set("note", "x"), both);
      expect(isToken(tokenFrom(header(fresh.headers, "set-cookie")))).toBe(true);
      expect(header(fresh.headers, "session-token")).toBeUndefined();
    });

    it("still lets a sess bearer token win over the cookie", async () => {
      const both = makeManager({ header: true });
      const viaCookie = tokenFrom(header((await run({}, (s) => s.login("ada"), both)).headers, "set-cookie"));
      const viaHeader = tokenFrom(header((await run({}, (s) => s.login("eve"), both)).headers, "set-cookie"));
      const { session } = await run({ cookie: `sess=${viaCookie}`, authorization: `Bearer ${viaHeader}` }, () => {}, both);
      expect(session.userId).toBe("eve");
    });
  });

  it("reads a named header as the bare token", async () => {
    const api = makeManager({ cookie: false, header: { name: "X-Session" } });
    const first = await run({}, (s) => s.set("note", "n"), api);
    const token = header(first.headers, "session-token")!;
    const second = await run({ "x-session": token }, () => {}, api);
    expect(second.session.get("note")).toBe("n");
  });
});

describe("strings that are not well-formed Unicode", () => {
  // A UTF-8 store turns each lone surrogate into U+FFFD: "eve\uDBFF" and "eve\uDBFE" would be one user there.
  const lone = ["eve\uDBFF", "\uDC00eve", "e\uD800ve"];

  it.each(lone)("are refused as user ids with VALUE_INVALID, before any store call (%j)", async (userId) => {
    await login("eve\uFFFD");
    rec.calls.length = 0;
    const open = await manager.open(request());
    expect(() => open.session.login(userId)).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
    await expect(manager.endUserSessions(userId)).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(manager.listUserSessions(userId)).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(manager.endSession(sessionIdOf(newToken()), { userId })).rejects.toMatchObject({ code: "VALUE_INVALID" });
    expect(rec.calls).toEqual([]);
    expect(await manager.listUserSessions("eve\uFFFD")).toHaveLength(1);
  });

  it.each(lone)("are refused as field names and prefix-index values (%j)", async (text) => {
    const indexed = makeManager({ indexes: { cart: { fieldPrefix: "cart:" } } });
    const open = await indexed.open(request());
    expect(() => open.session.set(text as "note", "x")).toThrow(expect.objectContaining({ code: "VALUE_INVALID" }));
    await expect(indexed.count("cart", text)).rejects.toMatchObject({ code: "VALUE_INVALID" });
  });

  it("accepts well-formed text outside the BMP", async () => {
    const open = await manager.open(request());
    open.session.login("eve😀");
    open.session.set("note😀" as "note", "x");
    await open.commit();
    expect(await manager.listUserSessions("eve😀")).toHaveLength(1);
  });
});

describe("manager.endSession", () => {
  it("ends a session by its public id only for its own user", async () => {
    await login("ada");
    const [session] = await manager.listUserSessions("ada");
    expect(await manager.endSession(session!.id, { userId: "eve" })).toBe(false);
    expect(await manager.endSession(session!.id, { userId: "ada" })).toBe(true);
    expect(await manager.listUserSessions("ada")).toEqual([]);
  });

  it("makes no store call for an id of the wrong format", async () => {
    rec.calls.length = 0;
    expect(await manager.endSession("../etc/passwd")).toBe(false);
    expect(rec.calls).toEqual([]);
  });
});

describe("createSessionManager", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["driver", { driver: undefined }],
    ["operationTimeout", { operationTimeout: 0 }],
    ["operationTimeout", { operationTimeout: Number.NaN }],
    ["maxSessionsPerUser", { maxSessionsPerUser: 0 }],
    ["absoluteTimeout", { absoluteTimeout: 401 * 24 * 60 * MIN, idleTimeout: MIN }],
    ["cookie", { cookie: false }],
    ["header.name", { header: { name: "bad header" } }],
    ["idleTimeout", { idleTimeout: -1 }],
  ];
  it.each(cases)("throws CONFIG_INVALID naming %s", (option, options) => {
    expect(() => createSessionManager({ driver: rec.driver, ...options } as SessionManagerOptions)).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining(`"${option}"`) }),
    );
  });

  it("allows a 400-day absolute lifetime with a browser-session cookie", () => {
    expect(() =>
      createSessionManager({ driver: rec.driver, absoluteTimeout: 500 * 24 * 60 * MIN, cookie: { persistent: false } }),
    ).not.toThrow();
  });
});

describe("manager.count", () => {
  const indexes = { tenant: { field: "tenant" }, cartSku: { fieldPrefix: "cart:" }, visits: { field: "visits" } } as const;

  it("counts live sessions by a field's value and by a field-name suffix", async () => {
    const indexed = makeManager({ indexes });
    await run({}, (s) => s.set("tenant" as never, "acme" as never), indexed);
    await run({}, (s) => {
      s.set("tenant" as never, "acme" as never);
      s.increment("cart:mug" as never);
    }, indexed);
    await run({}, (s) => s.set("tenant" as never, "globex" as never), indexed);
    expect(await indexed.count("tenant", "acme")).toBe(2);
    expect(await indexed.count("tenant", "globex")).toBe(1);
    expect(await indexed.count("cartSku", "mug")).toBe(1);
    expect(await indexed.count("cartSku", "cart:mug")).toBe(0);
  });

  it("matches a number or boolean field by its JSON text", async () => {
    const indexed = makeManager({ indexes });
    await run({}, (s) => s.increment("visits", 3), indexed);
    expect(await indexed.count("visits", 3)).toBe(1);
    expect(await indexed.count("visits", "3")).toBe(0);
    const call = rec.calls.find((entry) => entry.method === "countIndex" && entry.args[1] === "3");
    expect(call?.args).toEqual(["visits", "3", { now: rec.clock() }]);
  });

  it("follows a session through rotation, logout and expiry", async () => {
    const indexed = makeManager({ indexes });
    const { headers } = await run({}, (s) => s.set("tenant" as never, "acme" as never), indexed);
    const token = tokenFrom(header(headers, "set-cookie"));
    const rotated = await run({ cookie: `sess=${token}` }, (s) => s.regenerate(), indexed);
    expect(await indexed.count("tenant", "acme")).toBe(1);
    const fresh = tokenFrom(header(rotated.headers, "set-cookie"));
    const [listed] = (await indexed.find("tenant", "acme")).sessions;
    expect(listed?.id).toBe(sessionIdOf(fresh));
    await run({ cookie: `sess=${fresh}` }, (s) => s.destroy(), indexed);
    expect(await indexed.count("tenant", "acme")).toBe(0);
    await run({}, (s) => s.set("tenant" as never, "acme" as never), indexed);
    rec.advance(31 * MIN);
    expect(await indexed.count("tenant", "acme")).toBe(0);
  });

  it("rejects an undeclared index with VALUE_INVALID before any store call", async () => {
    const indexed = makeManager({ indexes });
    rec.calls.length = 0;
    await expect(indexed.count("plan", "gold")).rejects.toMatchObject({ code: "VALUE_INVALID", message: expect.stringContaining('"plan"') });
    await expect(manager.count("tenant", "acme")).rejects.toMatchObject({ code: "VALUE_INVALID" });
    expect(rec.calls).toEqual([]);
  });

  it("rejects a non-string value for a prefix index and a non-scalar value for a field index", async () => {
    const indexed = makeManager({ indexes });
    await expect(indexed.count("cartSku", 3)).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(indexed.count("tenant", Number.NaN)).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(indexed.count("tenant", {} as never)).rejects.toMatchObject({ code: "VALUE_INVALID" });
  });

  it("passes the declared indexes with every write, and none without the option", async () => {
    const indexed = makeManager({ indexes });
    await run({}, (s) => s.set("note", "x"), indexed);
    await run({}, (s) => s.set("note", "x"));
    const creates = rec.calls.filter((entry) => entry.method === "create");
    expect((creates[0]?.args[1] as { indexes?: unknown }).indexes).toEqual([
      { name: "tenant", field: "tenant" },
      { name: "cartSku", fieldPrefix: "cart:" },
      { name: "visits", field: "visits" },
    ]);
    expect(creates[1]?.args[1]).not.toHaveProperty("indexes");
  });
});

describe("manager.find", () => {
  const indexes = { tenant: { field: "tenant" } } as const;

  it("pages through metadata, never tokens or data, with the next offset", async () => {
    const indexed = makeManager({ indexes });
    const tokens: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { headers } = await run({ "user-agent": "agent/1" }, (s) => {
        s.set("tenant" as never, "acme" as never);
        s.set("note", "secret note");
      }, indexed);
      tokens.push(tokenFrom(header(headers, "set-cookie")));
      rec.advance(1000);
    }
    const first = await indexed.find("tenant", "acme", { limit: 2 });
    const second = await indexed.find("tenant", "acme", { offset: first.next!, limit: 2 });
    const third = await indexed.find("tenant", "acme", { offset: second.next!, limit: 2 });
    expect([first.next, second.next, third.next]).toEqual([2, 4, null]);
    const ids = [...first.sessions, ...second.sessions, ...third.sessions].map((meta) => meta.id);
    expect(ids).toEqual(tokens.map((token) => sessionIdOf(token)));
    const text = JSON.stringify([first, second, third]);
    for (const token of tokens) expect(text).not.toContain(token);
    expect(text).not.toContain("secret note");
    expect(first.sessions[0]).toMatchObject({ userAgent: "agent/1", userId: null });
  });

  it("asks for 100 by default and rejects a limit above 1000 or a negative offset", async () => {
    const indexed = makeManager({ indexes });
    await indexed.find("tenant", "acme");
    expect(rec.calls.at(-1)?.args).toEqual(["tenant", '"acme"', { offset: 0, limit: 100, now: rec.clock() }]);
    await expect(indexed.find("tenant", "acme", { limit: 1001 })).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(indexed.find("tenant", "acme", { limit: 0 })).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(indexed.find("tenant", "acme", { offset: -1 })).rejects.toMatchObject({ code: "VALUE_INVALID" });
    await expect(indexed.find("nope", "acme")).rejects.toMatchObject({ code: "VALUE_INVALID" });
  });
});

describe("session.regenerate({ endOtherSessions: true })", () => {
  it("rotates this session and ends every other session of its user in one commit", async () => {
    const token = await login("ada");
    const other = await login("ada");
    const bystander = await login("eve");
    const { headers } = await run({ cookie: `sess=${token}` }, (s) => s.regenerate({ endOtherSessions: true }));
    const fresh = tokenFrom(header(headers, "set-cookie"));
    expect((await manager.listUserSessions("ada")).map((meta) => meta.id)).toEqual([sessionIdOf(fresh)]);
    expect((await run({ cookie: `sess=${other}` })).session.isNew).toBe(true);
    expect((await run({ cookie: `sess=${token}` })).session.isNew).toBe(true);
    expect((await run({ cookie: `sess=${fresh}` })).session.userId).toBe("ada");
    expect((await run({ cookie: `sess=${bystander}` })).session.userId).toBe("eve");
  });

  describe("when ending the other sessions fails", () => {
    function failingEnd(failAt: (call: number) => boolean) {
      let calls = 0;
      const driver: SessionDriver = {
        ...rec.driver,
        endUserSessions: (userId, options) =>
          failAt(++calls) ? Promise.reject(new Error("connection reset")) : rec.driver.endUserSessions(userId, options),
      };
      return makeManager({ driver });
    }

    it("ends the others before the rotation, so a failure leaves this session usable and rotated nothing", async () => {
      const token = await login("ada");
      const other = await login("ada");
      const failing = failingEnd(() => true);
      const open = await failing.open(request({ cookie: `sess=${token}` }));
      open.session.regenerate({ endOtherSessions: true });
      const error = (await open.commit().catch((e: unknown) => e)) as SessionError;
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect((await run({ cookie: `sess=${token}` })).session.userId).toBe("ada"); // not logged out
      expect((await run({ cookie: `sess=${other}` })).session.userId).toBe("ada");
    });

    it("sends the new cookie with the error when the failure comes after the rotation", async () => {
      const token = await login("ada");
      const other = await login("ada");
      const failing = failingEnd((call) => call > 1);
      const open = await failing.open(request({ cookie: `sess=${token}` }));
      open.session.regenerate({ endOtherSessions: true });
      const error = (await open.commit().catch((e: unknown) => e)) as SessionError & { headers?: Record<string, string> };
      expect(error.code).toBe("STORE_UNAVAILABLE");
      const fresh = tokenFrom(error.headers?.["set-cookie"]);
      expect((await run({ cookie: `sess=${fresh}` })).session.userId).toBe("ada");
      expect((await run({ cookie: `sess=${other}` })).session.isNew).toBe(true); // ended by the first step
    });
  });

  it("leaves the ending to a driver that ends the others in the write (endsOtherSessions): one rotate call", async () => {
    const token = await login("ada");
    await login("ada");
    const on = makeManager({ driver: { ...rec.driver, endsOtherSessions: true } });
    rec.calls.length = 0;
    await run({ cookie: `sess=${token}` }, (s) => s.regenerate({ endOtherSessions: true }), on);
    expect(rec.methods()).toEqual(["load", "rotate"]);
    expect(rec.calls[1]!.args[2]).toMatchObject({ endOtherSessions: true });
  });

  it("does not pass endOtherSessions to a driver without endsOtherSessions: it ends the others before and after", async () => {
    const token = await login("ada");
    await login("ada");
    rec.calls.length = 0;
    await run({ cookie: `sess=${token}` }, (s) => s.regenerate({ endOtherSessions: true }));
    expect(rec.methods()).toEqual(["load", "endUserSessions", "rotate", "endUserSessions"]);
    expect(rec.calls[2]!.args[2]).not.toHaveProperty("endOtherSessions");
  });

  it("ends nothing for a session without a user", async () => {
    const { headers } = await run({}, (s) => s.set("note", "x"));
    const token = tokenFrom(header(headers, "set-cookie"));
    rec.calls.length = 0;
    await run({ cookie: `sess=${token}` }, (s) => s.regenerate({ endOtherSessions: true }));
    expect(rec.methods()).toEqual(["load", "rotate"]);
  });

  it("keeps the other sessions with a plain regenerate", async () => {
    const token = await login("ada");
    await login("ada");
    await run({ cookie: `sess=${token}` }, (s) => s.regenerate());
    expect(await manager.listUserSessions("ada")).toHaveLength(2);
  });
});

describe("bind", () => {
  function bound(options: SessionManagerOptions["bind"]) {
    const events: unknown[] = [];
    const on = makeManager({ bind: options, onEvent: (event) => event.type === "ended" && events.push(event) });
    return { on, events };
  }

  async function started(on: SessionManager<Data>, headers: Record<string, string>, ip?: string): Promise<string> {
    const open = await on.open({ header: (name) => headers[name], secure: false, ip });
    open.session.set("note", "x");
    return tokenFrom(header((await open.commit()).headers, "set-cookie"));
  }

  async function opened(on: SessionManager<Data>, headers: Record<string, string>, ip?: string) {
    const open = await on.open({ header: (name) => headers[name], secure: false, ip });
    return { open, result: await open.commit() };
  }

  it("ends a session used from another user agent, reports it, and serves the request as having none", async () => {
    const { on, events } = bound({ userAgent: true });
    const token = await started(on, { "user-agent": "browser/1" });
    const id = sessionIdOf(token);
    expect((await opened(on, { cookie: `sess=${token}`, "user-agent": "browser/1" })).open.session.isNew).toBe(false);
    rec.calls.length = 0;
    const { open, result } = await opened(on, { cookie: `sess=${token}`, "user-agent": "curl/8" });
    expect(open.session.isNew).toBe(true);
    expect(rec.methods()).toEqual(["load", "destroy"]);
    expect(header(result.headers, "set-cookie")).toMatch(/^sess=;/);
    expect(events).toEqual([{ type: "ended", reason: "binding", operation: "destroy", sessionId: id, count: 1, mismatch: "user-agent" }]);
    expect((await opened(on, { cookie: `sess=${token}`, "user-agent": "browser/1" })).open.session.isNew).toBe(true);
  });

  it("judges a session created without a User-Agent header: a request with one ends it", async () => {
    const { on, events } = bound({ userAgent: true });
    const token = await started(on, {});
    expect((await opened(on, { cookie: `sess=${token}` })).open.session.isNew).toBe(false);
    expect((await opened(on, { cookie: `sess=${token}`, "user-agent": "curl/8" })).open.session.isNew).toBe(true);
    expect(events).toEqual([{ type: "ended", reason: "binding", operation: "destroy", sessionId: sessionIdOf(token), count: 1, mismatch: "user-agent" }]);
  });

  it("keeps a session used from the same IPv4 prefix and ends it from another", async () => {
    const { on, events } = bound({ ipPrefix: 24 });
    const token = await started(on, {}, "203.0.113.7");
    const stored = await rec.driver.load(sessionIdOf(token));
    expect(stored?.ip).toBe("203.0.113.0/24");
    expect((await opened(on, { cookie: `sess=${token}` }, "::ffff:203.0.113.200")).open.session.isNew).toBe(false);
    expect((await opened(on, { cookie: `sess=${token}` }, "198.51.100.7")).open.session.isNew).toBe(true);
    expect(events).toEqual([{ type: "ended", reason: "binding", operation: "destroy", sessionId: sessionIdOf(token), count: 1, mismatch: "ip" }]);
  });

  it("compares IPv6 addresses by their /64 network and stores only that network", async () => {
    const { on, events } = bound({ ipPrefix: 24 });
    const token = await started(on, {}, "2001:db8:aa:bb:1:2:3:4");
    expect((await rec.driver.load(sessionIdOf(token)))?.ip).toBe("2001:db8:aa:bb:0:0:0:0/64");
    expect((await opened(on, { cookie: `sess=${token}` }, "2001:db8:aa:bb::99")).open.session.isNew).toBe(false);
    expect((await opened(on, { cookie: `sess=${token}` }, "2001:DB8:AA:BB:ffff:ffff:ffff:ffff%eth0")).open.session.isNew).toBe(false);
    expect((await opened(on, { cookie: `sess=${token}` }, "2001:db8:aa:bc::1")).open.session.isNew).toBe(true);
    expect(events).toEqual([{ type: "ended", reason: "binding", operation: "destroy", sessionId: sessionIdOf(token), count: 1, mismatch: "ip" }]);
  });

  it("takes the IPv6 prefix length from bind.ipv6Prefix", async () => {
    const { on } = bound({ ipPrefix: 24, ipv6Prefix: 48 });
    const token = await started(on, {}, "2001:db8:aa:bb::1");
    expect((await rec.driver.load(sessionIdOf(token)))?.ip).toBe("2001:db8:aa:0:0:0:0:0/48");
    expect((await opened(on, { cookie: `sess=${token}` }, "2001:db8:aa:cc::1")).open.session.isNew).toBe(false);
    expect((await opened(on, { cookie: `sess=${token}` }, "2001:db8:ab::1")).open.session.isNew).toBe(true);
    expect(() => makeManager({ bind: { ipPrefix: 24, ipv6Prefix: 129 } })).toThrow(/bind.ipv6Prefix/);
  });

  it("stores the full address when recordDevice.ip is on and still compares by prefix", async () => {
    const on = makeManager({ bind: { ipPrefix: 16 }, recordDevice: { ip: true } });
    const token = await started(on, {}, "192.0.2.1");
    expect((await rec.driver.load(sessionIdOf(token)))?.ip).toBe("192.0.2.1");
    expect((await opened(on, { cookie: `sess=${token}` }, "192.0.99.1")).open.session.isNew).toBe(false);
  });

  it("does not judge sessions without binding options", async () => {
    const token = await started(manager, { "user-agent": "browser/1" }, "203.0.113.7");
    expect((await opened(manager, { cookie: `sess=${token}`, "user-agent": "curl/8" }, "198.51.100.7")).open.session.isNew).toBe(false);
  });
});

describe("createSessionManager indexes and bind options", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["indexes", { indexes: [] }],
    ["indexes.bad name", { indexes: { "bad name": { field: "tenant" } } }],
    ["indexes.both", { indexes: { both: { field: "a", fieldPrefix: "b" } } }],
    ["indexes.none", { indexes: { none: {} } }],
    ["indexes.meta.field", { indexes: { meta: { field: "$c" } } }],
    ["indexes.proto.fieldPrefix", { indexes: { proto: { fieldPrefix: "" } } }],
    ["bind.ipPrefix", { bind: { ipPrefix: 33 } }],
    ["bind.userAgent", { bind: { userAgent: true }, recordDevice: { userAgent: false } }],
  ];
  it.each(cases)("throws CONFIG_INVALID naming %s", (option, options) => {
    expect(() => createSessionManager({ driver: rec.driver, ...options } as SessionManagerOptions)).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining(`"${option}"`) }),
    );
  });
});

describe("commit({ status })", () => {
  it("commits none of the request's changes when a write was refused and the response is an error", async () => {
    const token = await login();
    const small = makeManager({ limits: { maxFields: 2 } }); // username + note
    rec.calls.length = 0;
    const open = await small.open(request({ cookie: `sess=${token}` }));
    open.session.set("note", "dropped");
    expect(() => open.session.set("cart", { a: 1 })).toThrow(expect.objectContaining({ code: "PAYLOAD_TOO_LARGE" }));
    expect((await open.commit({ status: 413 })).headers).toEqual([]);
    expect(rec.methods()).toEqual(["load"]);
  });

  it("commits as usual with an error response when no write was refused", async () => {
    const open = await manager.open(request({}));
    open.session.set("note", "x");
    await open.commit({ status: 404 });
    expect(rec.methods()).toEqual(["create"]);
  });
});

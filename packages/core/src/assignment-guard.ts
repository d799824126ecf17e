/**
 * Assigning a property to a session (`req.session.role = "admin"`, the express-session habit) would
 * add a plain JS property that is never stored. A proxy placed *behind* `Session.prototype` catches
 * such an assignment and throws a TypeError that names `set()`, in strict and sloppy code alike;
 * the metadata accessors (`id`, `userId`, …) get setters that throw too. Methods and accessors are
 * found on `Session.prototype` before the proxy, so the hot path never reaches it.
 */

/** Puts the guard behind `prototype` (`Session.prototype`) and read-only setters on its getters. */
export function guardAssignments(prototype: object): void {
  const assignmentGuard = new Proxy(Object.prototype, {
    set(_target, property) {
      const name = typeof property === "string" ? property : String(property);
      throw new TypeError(
        `session.${name} = … would not be saved: a sess session is not a plain object. ` +
          `Use session.set(${JSON.stringify(name)}, value) to write and session.get(${JSON.stringify(name)}) to read.`,
      );
    },
  });
  Object.setPrototypeOf(prototype, assignmentGuard);
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(prototype))) {
    if (descriptor.get === undefined || descriptor.set !== undefined) continue;
    const hint = name === "userId" ? "; bind a user with session.login(userId)" : "";
    Object.defineProperty(prototype, name, {
      ...descriptor,
      set() {
        throw new TypeError(`session.${name} is read-only session metadata${hint}`);
      },
    });
  }
}

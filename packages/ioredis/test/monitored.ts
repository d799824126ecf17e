import type { Redis } from "ioredis";

/**
 * The commands clients sent to `admin`'s server while `action` ran, by name, as MONITOR reports
 * them (commands run by scripts and functions are reported with source "lua" and left out: they are
 * not round trips). A marker ECHO from the admin connection closes the window.
 */
export async function monitored(admin: Redis, action: () => Promise<unknown>): Promise<Record<string, number>> {
  const monitor = await admin.monitor();
  const seen: Record<string, number> = {};
  const marker = `end-${Math.random().toString(36).slice(2)}`;
  let closed: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    closed = resolve;
  });
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === "echo" && args[1] === marker) closed();
    else if (source !== "lua" && args[0] !== undefined) seen[args[0].toLowerCase()] = (seen[args[0].toLowerCase()] ?? 0) + 1;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  try {
    await action();
    await admin.echo(marker);
    await done;
  } finally {
    monitor.disconnect();
  }
  return seen;
}


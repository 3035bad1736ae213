/**
 * Keeps a set of detached daemons running: polls each one's pid and restarts the dead,
 * in order, until the signal aborts. A daemon that keeps failing to start is retried
 * with a growing pause (capped at 30 s) and logged each time.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { Daemon } from "./daemon.ts";
import { sleep } from "./wait.ts";

/** Options of {@linkcode superviseDaemons}. */
export interface SuperviseOptions {
  /** Stops supervision. */
  signal: AbortSignal;
  /** Poll interval (default 1000 ms). */
  intervalMs?: number;
  /** Logger. */
  log: Logger;
  /** Runs at the start of each poll (errors are logged). */
  beforeTick?: () => Promise<void>;
  /** Called after each restart (tests, metrics). */
  onRestart?: (daemon: Daemon, pid: number) => void;
}

/**
 * Supervises daemons until `signal` aborts; resolves then (never rejects on abort).
 *
 * @param daemons daemons in start order (or a function returning the current ones)
 * @param opts signal, interval, logger
 */
export async function superviseDaemons(
  daemons: Daemon[] | (() => Daemon[]),
  opts: SuperviseOptions,
): Promise<void> {
  const interval = opts.intervalMs ?? 1000;
  const failures = new Map<Daemon, { count: number; notBefore: number }>();
  while (!opts.signal.aborted) {
    if (opts.beforeTick) {
      await opts.beforeTick().catch((err) => {
        if (!opts.signal.aborted) opts.log.error("supervision step failed", { err });
      });
    }
    for (const d of typeof daemons === "function" ? daemons() : daemons) {
      if (opts.signal.aborted) break;
      if ((await d.pid()) !== undefined) continue;
      const f = failures.get(d) ?? { count: 0, notBefore: 0 };
      if (Date.now() < f.notBefore) continue;
      opts.log.warn("daemon is not running, restarting", { daemon: d.name });
      try {
        const pid = await d.start({ signal: opts.signal });
        failures.delete(d);
        opts.onRestart?.(d, pid);
      } catch (err) {
        if (opts.signal.aborted) break;
        f.count++;
        f.notBefore = Date.now() + Math.min(30_000, interval * 2 ** f.count);
        failures.set(d, f);
        opts.log.error("restart failed", { daemon: d.name, attempt: f.count, err });
      }
    }
    await sleep(interval, opts.signal).catch(() => {});
  }
}

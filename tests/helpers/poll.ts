/**
 * Test helper: poll an asynchronous probe until it gives a value, with a deadline (tests
 * wait for state this way rather than with fixed sleeps).
 *
 * @module
 */

/** Deadline and pace of {@linkcode pollUntil}. */
export interface PollOptions {
  /** How long to keep trying (ms). */
  timeoutMs: number;
  /** Pause between tries (ms, default 250). */
  intervalMs?: number;
}

/**
 * Calls `fn` until it returns a value other than `undefined` or `false`; a probe that
 * throws counts as "not yet", and its last error is named in the timeout message.
 *
 * @param what what is awaited (for the timeout message)
 * @param fn the probe
 * @param opts deadline and pause between tries
 * @returns the probe's value
 * @throws {Error} "Timed out waiting for WHAT" when the deadline passes
 */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  opts: PollOptions,
): Promise<T> {
  const end = Date.now() + opts.timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

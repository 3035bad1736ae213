/**
 * Bounded polling: everything that waits in ovn-k8s has a deadline.
 *
 * @module
 */

/** Options of {@linkcode pollUntil}. */
export interface PollOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between attempts (default 50 ms, doubling up to 500 ms). */
  intervalMs?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns a value other than `undefined`/`false`.
 *
 * @param what what is awaited, for the timeout message ("ovsdb-server nb to answer")
 * @param probe the check; exceptions count as "not yet" and the last one is the cause
 * @param opts deadline and pacing
 * @returns the first truthy value
 * @throws {Error} `Timed out after N ms waiting for WHAT` (cause: the last error)
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: PollOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let pause = opts.intervalMs ?? 50;
  let last: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`Timed out after ${opts.timeoutMs} ms waiting for ${what}${why}`, {
        cause: last,
      });
    }
    await sleep(Math.min(pause, Math.max(1, deadline - Date.now())), opts.signal);
    if (opts.intervalMs === undefined) pause = Math.min(pause * 2, 500);
  }
}

/**
 * Sleeps, waking early (with the abort reason thrown) when the signal aborts.
 *
 * @param ms milliseconds
 * @param signal optional abort signal
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

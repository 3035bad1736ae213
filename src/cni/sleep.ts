/**
 * An abortable sleep that does not use `setTimeout`.
 *
 * @module
 */

/**
 * Sleeps `ms` unless `signal` aborts first. Built on `AbortSignal.timeout` rather than
 * `setTimeout`: Deno's global setTimeout/clearTimeout are Node's timers, whose first use
 * loads part of the Node compatibility layer (5-15 ms) in the plugin's short-lived
 * process; `AbortSignal.timeout` uses the runtime's own timers.
 *
 * @param ms how long
 * @param signal aborts the sleep (rejects with its reason)
 * @returns when the time is up
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = AbortSignal.timeout(Math.max(0, ms));
    const onAbort = () => {
      timer.removeEventListener("abort", onTime);
      reject(signal!.reason);
    };
    const onTime = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    timer.addEventListener("abort", onTime, { once: true });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

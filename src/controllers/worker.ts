/**
 * The worker loop of a controller: take a batch of keys from its
 * {@linkcode WorkQueue}, reconcile them together, retry the failed ones with backoff,
 * forget the good ones. It never dies silently (the original's processor thread did,
 * reference §10.6): an error of one batch is logged and its keys retried; only a
 * {@linkcode FatalError} (or a bug in the loop itself) ends the loop, by rejecting,
 * and the watcher then exits non-zero.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "./metrics.ts";
import type { WorkQueue } from "./work_queue.ts";

/** An error that must stop the watcher (exit non-zero), e.g. NB schema mismatch. */
export class FatalError extends Error {
  override name = "FatalError";
}

/**
 * Reconciles a batch of keys: builds the desired state of each purely, skips keys whose
 * state already matches, applies the rest (one transaction for the batch).
 *
 * @returns failed keys with their errors (every other key counts as done); throwing
 *   fails the whole batch (a {@linkcode FatalError} stops the watcher)
 */
export type BatchReconcile<K> = (
  keys: readonly K[],
  signal: AbortSignal,
) => Promise<ReadonlyMap<K, unknown>>;

/** Options of {@linkcode runWorker}. */
export interface WorkerOptions<K> {
  /** The controller's queue. */
  queue: WorkQueue<K>;
  /** The reconcile function. */
  reconcile: BatchReconcile<K>;
  /** Largest batch (default 500). */
  batchSize?: number;
  /**
   * Batches reconciled at once (default 1). With 2, one batch's transaction or API
   * writes overlap the next batch; the queue still never hands one key to two workers.
   */
  workers?: number;
  /** Logger. */
  log: Logger;
  /** Metrics (queue depth, retries, batch sizes). */
  metrics?: MetricsRegistry;
  /** Called when a key failed `maxRetries` times in a row and is dropped. */
  onGiveUp?: (key: K, err: unknown) => void;
  /** Stops the loop (after the current batch). */
  signal: AbortSignal;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Registers the queue's gauges (depth, in flight, delayed) and counters on a registry.
 *
 * @param metrics the registry
 * @param queue the queue
 */
export function registerQueueMetrics<K>(metrics: MetricsRegistry, queue: WorkQueue<K>): void {
  const labels = { queue: queue.name };
  metrics.gauge("ovnk8s_workqueue_depth", "Keys waiting in a controller's queue")
    .collect(() => [[labels, queue.depth]]);
  metrics.gauge("ovnk8s_workqueue_in_flight", "Keys being reconciled")
    .collect(() => [[labels, queue.inFlight]]);
  metrics.gauge("ovnk8s_workqueue_delayed", "Keys waiting for a retry after a failure")
    .collect(() => [[labels, queue.delayed]]);
  metrics.gauge("ovnk8s_workqueue_adds", "Keys added to a controller's queue (de-duplicated)")
    .collect(() => [[labels, queue.stats.added]]);
  metrics.gauge("ovnk8s_workqueue_retries", "Retries scheduled after failures")
    .collect(() => [[labels, queue.stats.retries]]);
  metrics.gauge("ovnk8s_workqueue_given_up", "Keys dropped after too many failures")
    .collect(() => [[labels, queue.stats.givenUp]]);
}

/**
 * Runs a controller's worker until the signal aborts.
 *
 * @param opts queue, reconcile function, batch size, logger, signal
 * @returns resolves when stopped
 * @throws {FatalError} when the reconcile function throws one
 */
export async function runWorker<K>(opts: WorkerOptions<K>): Promise<void> {
  const n = Math.max(1, opts.workers ?? 1);
  if (n === 1) return await workerLoop(opts);
  // One failing loop stops the others' waiting too (the watcher then exits).
  const ac = new AbortController();
  const signal = AbortSignal.any([opts.signal, ac.signal]);
  await Promise.all(
    Array.from({ length: n }, () =>
      workerLoop({ ...opts, signal }).catch((err) => {
        ac.abort(err);
        throw err;
      })),
  );
}

async function workerLoop<K>(opts: WorkerOptions<K>): Promise<void> {
  const { queue, log, signal } = opts;
  const batchSize = opts.batchSize ?? 500;
  const batches = opts.metrics?.histogram(
    "ovnk8s_controller_batch_seconds",
    "Duration of one reconcile batch, by queue",
  );
  while (!signal.aborted) {
    const keys = await queue.take(batchSize, signal);
    if (keys.length === 0) continue;
    const t0 = performance.now();
    let failed: ReadonlyMap<K, unknown>;
    try {
      failed = await opts.reconcile(keys, signal);
    } catch (err) {
      if (err instanceof FatalError) {
        for (const k of keys) queue.done(k);
        throw err;
      }
      log.error("reconcile failed; retrying the batch", {
        queue: queue.name,
        keys: keys.length,
        error: errText(err),
      });
      failed = new Map(keys.map((k) => [k, err]));
    }
    batches?.observe((performance.now() - t0) / 1000, { queue: queue.name });
    for (const k of keys) {
      if (failed.has(k)) {
        const err = failed.get(k);
        const attempt = queue.retry(k);
        if (attempt === undefined) {
          log.error("giving up on key after repeated failures", {
            queue: queue.name,
            key: String(k),
            error: errText(err),
          });
          try {
            opts.onGiveUp?.(k, err);
          } catch (e) {
            log.error("give-up hook failed", { queue: queue.name, error: errText(e) });
          }
        } else {
          log.warn("reconcile of key failed; will retry", {
            queue: queue.name,
            key: String(k),
            attempt,
            retryInMs: queue.backoffMs(attempt),
            error: errText(err),
          });
        }
      } else queue.forget(k);
      queue.done(k);
    }
  }
}

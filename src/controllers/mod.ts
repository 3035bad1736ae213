/**
 * The watcher's controllers: the only place that sees both Kubernetes and OVN types.
 *
 * ## The framework (stable: additive changes only)
 *
 * A controller is a {@linkcode WatcherPart} run by {@linkcode runWatcher}:
 *
 * ```ts
 * const part: WatcherPart = {
 *   name: "services",
 *   // NB tables/columns this part reads; merged with the other parts into ONE monitor.
 *   nbMonitor: { Load_Balancer: ["name", "vips", "protocol", "external_ids"] },
 *   setup(ctx) {
 *     // Shared informers (raw JSON objects, `KubeObject`); handlers only queue keys.
 *     const svc = ctx.informer(findResource("services")!);
 *     svc.addHandlers({ add: (o) => queue.add(objectKey(o)), update: (_, o) => ..., delete: ... });
 *   },
 *   async repair(ctx, signal) {
 *     // Once, after every cache synced and BEFORE any run (and only on the leader):
 *     // list rows by owner external_ids, delete the ones not wanted; no write when equal.
 *   },
 *   run: (ctx, signal) =>
 *     runWorker({ queue, reconcile, log: ctx.log, metrics: ctx.metrics, signal }),
 * };
 * ```
 *
 * - {@linkcode WorkQueue}: keyed, de-duplicating, `take(n)` batches, capped retries
 *   with exponential backoff (`retry`), a key is never in two workers at once.
 * - {@linkcode runWorker}: take a batch -> `reconcile(keys)` -> retry failed keys; a
 *   thrown error fails the batch (logged, retried), a {@linkcode FatalError} stops the
 *   watcher (exit non-zero); `onGiveUp` sees keys dropped after `maxRetries`; `workers: 2`
 *   overlaps two batches (never the same key). `registerQueueMetrics` exports queue depth.
 * - Order in {@linkcode runWatcher}: every part's optional `early(ctx)` (NB cache still
 *   empty: informers whose handlers do not read NB, so their list overlaps the NB dump),
 *   the NB monitor, every `setup(ctx)` (NB cache filled), caches synced, the Lease,
 *   every `repair`, then every `run`. `ctx.informer(resource, indexers?, decode?)` may
 *   slim objects (the first caller's options win).
 * - {@linkcode NbWriter}: the ONLY NB write path: `transact(controller, ops)` counts
 *   and times transactions (`ovnk8s_nb_transactions_total`, tests prove zero writes
 *   with `writer.transactions`); `commitGroups(controller, [{key, ops}])` commits many
 *   keys in one transaction and bisects on a rejected operation, so a key commits
 *   whole or not at all and one bad key does not block the others. uuid-names must be
 *   unique across groups (prefix them with a per-key index).
 * - Reads: `ctx.nb.cache.table("Logical_Switch")...` (the monitor cache), never selects.
 * - Owner ids: `ownerIds(kind, key, WATCHER_CONTROLLER)` from `src/ovn` on every row.
 * - {@linkcode EventRecorder}: `ctx.events.warn(target, reason, message)`.
 * - {@linkcode MetricsRegistry}: counters, gauges, histograms on `/metrics`.
 * - {@linkcode LeaderElector}: Lease-based HA; {@linkcode runWatcher} waits for it
 *   after the caches synced (standbys keep warm caches) and before repair.
 *
 * ## Adding a part
 *
 * The parts the watcher runs are listed in `parts.ts` ({@linkcode watcherParts}); add
 * one import and one array entry there (that file is shared by the controllers'
 * owners). Pods come first (they own the pod address allocator), then nodes.
 *
 * @module
 */
export { type EventRecorder, type EventTarget, httpEventRecorder, NO_EVENTS } from "./events.ts";
export {
  httpLeaseApi,
  type LeaderElectionOptions,
  LeaderElector,
  type Lease,
  type LeaseApi,
} from "./leader_election.ts";
export {
  Counter,
  DEFAULT_BUCKETS,
  Gauge,
  Histogram,
  type Labels,
  MetricsRegistry,
} from "./metrics.ts";
export {
  DEFAULT_METRICS_ADDRESS,
  type MetricsServer,
  parseListenAddress,
  serveMetrics,
} from "./metrics_server.ts";
export {
  type CommitGroupsOptions,
  type GroupResults,
  NbWriter,
  type OpGroup,
  type Transactor,
} from "./nb_writer.ts";
export {
  mergeMonitorSpecs,
  type NbClient,
  runWatcher,
  type WatcherContext,
  type WatcherOptions,
  type WatcherPart,
} from "./watcher.ts";
export { WorkQueue, type WorkQueueOptions } from "./work_queue.ts";
export {
  type BatchReconcile,
  FatalError,
  registerQueueMetrics,
  runWorker,
  type WorkerOptions,
} from "./worker.ts";

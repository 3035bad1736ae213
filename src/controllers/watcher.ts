/**
 * The watcher's skeleton, shared by every controller ("part"): one NB monitor merged
 * from the parts' needs, one informer per Kubernetes resource (raw JSON objects,
 * shared by the parts), then, in this order:
 *
 * 1. connect, monitor NB, start the informers, wait until every cache is synced (a
 *    standby watcher gets this far and keeps its caches warm);
 * 2. wait for the leader Lease (when an elector is given);
 * 3. run every part's `repair` once (delete what it owns and no longer wants; writes
 *    nothing when NB already matches);
 * 4. run every part's workers until the signal aborts or leadership is lost.
 *
 * A part's `run` that rejects stops the watcher with that error (the role exits
 * non-zero); parts log and retry their own transient errors.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { KubeHttp } from "../k8s/http.ts";
import type { Indexer } from "../k8s/cache.ts";
import { httpListWatcher, Informer } from "../k8s/informer.ts";
import type { KubeObject, ResourceDef } from "../k8s/resources.ts";
import type { NbTables } from "../ovn/nb_models.ts";
import type { MonitorSpec, OvsdbClient, TableMonitor } from "../ovsdb/mod.ts";
import type { EventRecorder } from "./events.ts";
import type { LeaderElector } from "./leader_election.ts";
import type { MetricsRegistry } from "./metrics.ts";
import type { NbWriter } from "./nb_writer.ts";

/** What a part reads from NB: OVSDB client with the merged monitor's cache. */
export type NbClient = Pick<OvsdbClient<NbTables>, "cache" | "monitor" | "transact">;

/** Everything a part gets from the watcher. */
export interface WatcherContext {
  /** NB: read `nb.cache` (monitored as the parts asked); write through `writer`. */
  nb: NbClient;
  /** The only NB write path (counted, timed, bisecting batches). */
  writer: NbWriter;
  /** Kubernetes transport (patches, gets, events). */
  http: KubeHttp;
  /**
   * The shared informer of a resource (created on first request, during `setup`; the
   * first caller's indexers and decoder apply). `decode` may slim objects down to the
   * fields the controllers read (less memory for 10,000s of pods).
   */
  informer(
    resource: ResourceDef,
    indexers?: Record<string, Indexer<KubeObject>>,
    decode?: (raw: Record<string, unknown>) => KubeObject,
  ): Informer<KubeObject>;
  /** Events on Kubernetes objects. */
  events: EventRecorder;
  /** `/metrics` registry. */
  metrics: MetricsRegistry;
  /** Logger of the part. */
  log: Logger;
}

/** One controller of the watcher (pods, nodes, services...). */
export interface WatcherPart {
  /** Name for logs, e.g. `pods`. */
  name: string;
  /** NB tables and columns it reads (merged with the other parts' needs). */
  nbMonitor: MonitorSpec<NbTables>;
  /**
   * Optional, called BEFORE the NB monitor (the NB cache is still empty): get the
   * informers whose handlers do not read NB, so their first list overlaps the NB
   * monitor's initial dump (seconds with 50,000 ports). NB listeners registered here
   * see the initial rows as inserts.
   */
  early?(ctx: WatcherContext): void;
  /** Gets its informers and registers handlers (they may only queue keys); NB is monitored. */
  setup(ctx: WatcherContext): void;
  /** Once, after the caches synced and before any `run`: delete stale owned rows. */
  repair(ctx: WatcherContext, signal: AbortSignal): Promise<void>;
  /** Runs the workers until the signal aborts; rejects only on a fatal error. */
  run(ctx: WatcherContext, signal: AbortSignal): Promise<void>;
}

/** Options of {@linkcode runWatcher}. */
export interface WatcherOptions {
  /** Connected NB client (not monitored yet). */
  nb: NbClient;
  /** NB writer built on the same client. */
  writer: NbWriter;
  /** Kubernetes transport. */
  http: KubeHttp;
  /** Event recorder. */
  events: EventRecorder;
  /** Metrics registry. */
  metrics: MetricsRegistry;
  /** The parts, repaired and run in this order. */
  parts: readonly WatcherPart[];
  /** Leader election; absent: this watcher works at once. */
  elector?: LeaderElector;
  /** Idle bound of the watches (default 60,000 ms). */
  watchIdleTimeoutMs?: number;
  /** Logger. */
  log: Logger;
  /** Called when the watcher starts working (after repair). */
  onReady?: () => void;
  /** Stops the watcher. */
  signal: AbortSignal;
}

/**
 * Merges monitor specs: the union of columns per table (`true` = every column wins).
 *
 * @param specs the parts' specs
 * @returns one spec
 */
export function mergeMonitorSpecs(specs: readonly MonitorSpec<NbTables>[]): MonitorSpec<NbTables> {
  const out: Record<string, TableMonitor<Record<string, unknown>>> = {};
  for (const spec of specs) {
    for (const [table, m] of Object.entries(spec) as [string, TableMonitor<unknown>][]) {
      if (m === undefined) continue;
      const cols = m === true ? true : Array.isArray(m) ? m : (m as { columns?: string[] }).columns;
      const have = out[table];
      if (have === true || cols === true || cols === undefined) {
        out[table] = true;
        continue;
      }
      const merged = new Set<string>([...(Array.isArray(have) ? have : []), ...cols]);
      out[table] = [...merged].sort();
    }
  }
  return out as MonitorSpec<NbTables>;
}

/**
 * Runs the watcher until the signal aborts.
 *
 * @param opts clients, parts, elector, logger, signal
 * @returns resolves when stopped by the signal
 * @throws when leadership is lost, or a part fails fatally
 */
export async function runWatcher(opts: WatcherOptions): Promise<void> {
  const { log, signal } = opts;
  const informers = new Map<ResourceDef, Informer<KubeObject>>();
  const infAc = new AbortController();
  const stopInformers = () => infAc.abort();
  signal.addEventListener("abort", stopInformers, { once: true });
  const ctxFor = (part: WatcherPart): WatcherContext => ({
    nb: opts.nb,
    writer: opts.writer,
    http: opts.http,
    events: opts.events,
    metrics: opts.metrics,
    log: log.child(part.name),
    informer(r, indexers, decode) {
      let inf = informers.get(r);
      if (!inf) {
        inf = new Informer<KubeObject>(
          httpListWatcher<KubeObject>(opts.http, r, {
            ...(opts.watchIdleTimeoutMs ? { idleTimeoutMs: opts.watchIdleTimeoutMs } : {}),
            ...(decode ? { decode } : {}),
          }),
          {
            name: r.plural,
            indexers: indexers ?? {},
            log: log.child(`informer.${r.plural}`),
            ...(opts.watchIdleTimeoutMs ? { idleTimeoutMs: opts.watchIdleTimeoutMs } : {}),
          },
        );
        informers.set(r, inf);
      }
      return inf;
    },
  });
  const ctxs = opts.parts.map((p) => [p, ctxFor(p)] as const);
  const runs: Promise<void>[] = [];
  const informerRuns: Promise<void>[] = [];
  const stopRuns = new AbortController();
  try {
    const t0 = performance.now();
    for (const [p, c] of ctxs) p.early?.(c);
    for (const [r, i] of informers) {
      informerRuns.push(i.run(infAc.signal));
      void i.synced.then(() =>
        log.info("informer synced", {
          resource: r.plural,
          objects: i.cache.size,
          ms: Math.round(performance.now() - t0),
        })
      );
    }
    await opts.nb.monitor(mergeMonitorSpecs(opts.parts.map((p) => p.nbMonitor)), { signal });
    log.info("NB monitored", {
      ms: Math.round(performance.now() - t0),
      ports: opts.nb.cache.table("Logical_Switch_Port").size,
    });
    const earlyInformers = new Set(informers.values());
    for (const [p, c] of ctxs) p.setup(c);
    for (const i of informers.values()) {
      if (!earlyInformers.has(i)) informerRuns.push(i.run(infAc.signal));
    }
    await Promise.race([
      Promise.all([...informers.values()].map((i) => i.synced)),
      new Promise((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]);
    log.info("caches synced", {
      informers: [...informers.keys()].map((r) => `${r.plural}=${informers.get(r)!.cache.size}`)
        .join(","),
      ms: Math.round(performance.now() - t0),
    });
    if (opts.elector) await opts.elector.acquire(signal);
    const work = AbortSignal.any([
      signal,
      stopRuns.signal,
      ...(opts.elector ? [opts.elector.lost] : []),
    ]);
    const tr = performance.now();
    const writesBefore = opts.writer.transactions;
    const partMs: string[] = [];
    for (const [p, c] of ctxs) {
      const tp = performance.now();
      await p.repair(c, work);
      partMs.push(`${p.name}=${Math.round(performance.now() - tp)}`);
    }
    log.info("repair done", {
      ms: Math.round(performance.now() - tr),
      parts: partMs.join(","),
      nbTransactions: opts.writer.transactions - writesBefore,
    });
    for (const [p, c] of ctxs) runs.push(p.run(c, work));
    opts.onReady?.();
    let failed: unknown;
    await Promise.race([
      Promise.all(runs),
      new Promise<void>((resolve) => {
        if (work.aborted) resolve();
        work.addEventListener("abort", () => resolve(), { once: true });
      }),
      ...runs.map((r) => r.catch((err) => failed = err ?? new Error("a part failed"))),
    ]);
    if (failed) throw failed;
    if (opts.elector?.lost.aborted && !signal.aborted) {
      throw new Error(
        "Cannot keep working: the leader Lease was lost (another watcher may have taken over); " +
          "exiting so that a supervisor restarts this watcher as a standby",
      );
    }
  } finally {
    stopRuns.abort();
    stopInformers();
    signal.removeEventListener("abort", stopInformers);
    // Informers return promptly on abort (their requests are cancelled), so waiting
    // for them leaves no request running on `opts.http` when the caller closes it.
    await Promise.allSettled([...runs, ...informerRuns]);
    if (opts.elector) await opts.elector.release();
  }
}

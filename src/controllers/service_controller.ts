/**
 * The services part of the watcher: Services, EndpointSlices (Endpoints as fallback)
 * and the NB topology (node switches, gateway routers) into the load balancer layout of
 * `src/ovn/lb_layout.ts` (docs/load-balancers.md).
 *
 * One keyed queue with three kinds of keys, reconciled in batches (one transaction per
 * batch, bisected by the NB writer when a key's operations are rejected):
 *
 * - `service:<ns>/<name>`: the service's per-service load balancers and its NodePort and
 *   external IP keys on every gateway router (single-key mutations);
 * - `router:<GR name>`: one gateway router in full (its per-router load balancers
 *   exist, are attached and hold exactly the NodePort and external IP VIPs of all
 *   services), queued when a gateway router appears or changes, so a gateway added after
 *   the services exist gets their VIPs at once (the original waited for endpoint churn,
 *   reference §10.4 "Gaps");
 * - `group`: the services group exists and every node switch has it.
 *
 * Handlers only queue keys. Reads come from the informer caches and the NB monitor
 * cache (through an {@linkcode LbIndex}); plans are pure and empty when NB matches, so
 * a restart with nothing changed writes nothing.
 *
 * @module
 */
import { objectKey } from "../k8s/cache.ts";
import { findResource, type KubeObject } from "../k8s/resources.ts";
import type { Informer } from "../k8s/informer.ts";
import type { Logger } from "../log/mod.ts";
import {
  classifyLb,
  GATEWAY_LB_KIND,
  isGatewayRouter,
  isNodeSwitch,
  LB_MONITOR_COLUMNS,
  LbIndex,
  type LbRouterRow,
  type LbRow,
  type LbSwitchRow,
  type ServiceLbSpec,
} from "../ovn/lb_layout.ts";
import {
  gatewayVips,
  makeUuidNamer,
  planGatewayRouter,
  planServiceLbs,
  planServicesGroup,
  planStaleServiceLbs,
  type RouterClaim,
  routerClaims,
} from "../ovn/lb_ops.ts";
import { OWNER_IDS } from "../ovn/external_ids.ts";
import type { Operation, OperationResult, RowChange } from "../ovsdb/mod.ts";
import type { NbTables } from "../ovn/nb_models.ts";
import type { OpGroup } from "./nb_writer.ts";
import { EndpointSliceIndex } from "./endpoint_slice_index.ts";
import {
  buildServiceLbSpec,
  type EndpointSliceLike,
  type EndpointsLike,
  type ServiceLike,
} from "./service_lbs.ts";
import type { NbClient, WatcherContext, WatcherPart } from "./watcher.ts";
import { WorkQueue } from "./work_queue.ts";
import { registerQueueMetrics, runWorker } from "./worker.ts";

/** Options of {@linkcode servicesPart}. */
export interface ServicesPartOptions {
  /** Largest batch of keys per transaction (default 500). */
  batchSize?: number;
  /** Retries of a failing key before it waits for its next event (default 8). */
  maxRetries?: number;
  /** After a key exhausted its retries, try it again this much later (default 60,000 ms). */
  giveUpRetryMs?: number;
  /** How long to wait for the monitor to show rows a transaction inserted (default 10 s). */
  seenTimeoutMs?: number;
}

/** The writer label of this part's transactions. */
export const SERVICES_WRITER = "services";

const SERVICE = "service:";
const ROUTER = "router:";
const GROUP = "group";

/**
 * The services controller's state and reconcile logic, exposed for tests and benchmarks;
 * {@linkcode servicesPart} wraps it as a {@linkcode WatcherPart}.
 */
export class ServiceController {
  /** The NB rows of the layout. */
  readonly index: LbIndex;
  /** The queue (`service:`, `router:` and `group` keys). */
  readonly queue: WorkQueue<string>;
  readonly #ctx: WatcherContext;
  readonly #log: Logger;
  readonly #opts: ServicesPartOptions;
  readonly #slices = new EndpointSliceIndex<KubeObject & EndpointSliceLike>();
  readonly #specs = new Map<string, ServiceLbSpec>();
  readonly #claimOwner = new Map<RouterClaim, string>();
  readonly #applied = new Map<string, Set<RouterClaim>>();
  readonly #warned = new Set<string>();
  readonly #services: Informer<KubeObject>;
  readonly #endpoints: Informer<KubeObject>;
  #seenWaiters = new Set<() => void>();

  /**
   * Gets the informers and registers the handlers (they only queue keys).
   *
   * @param ctx the watcher context (NB already monitored)
   * @param opts tuning
   */
  constructor(ctx: WatcherContext, opts: ServicesPartOptions = {}) {
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#opts = opts;
    this.queue = new WorkQueue<string>({
      name: "services",
      ...(opts.maxRetries ? { maxRetries: opts.maxRetries } : {}),
    });
    registerQueueMetrics(ctx.metrics, this.queue);
    this.index = indexFromCache(ctx.nb);
    ctx.nb.cache.on("change", (c) => this.#onNb(c as RowChange<unknown>));

    this.#services = ctx.informer(resource("services"));
    this.#endpoints = ctx.informer(resource("endpoints"));
    const slices = ctx.informer(resource("endpointslices"));
    const svcKey = (o: KubeObject) => this.queue.add(SERVICE + objectKey(o));
    this.#services.addHandlers({ add: svcKey, update: (_, o) => svcKey(o), delete: svcKey });
    const sliceEv = (o: KubeObject, old?: KubeObject) => {
      for (const k of this.#slices.upsert(o, old)) this.queue.add(SERVICE + k);
    };
    slices.addHandlers({
      add: (o) => sliceEv(o),
      update: (old, o) => sliceEv(o, old),
      delete: (o) => {
        for (const k of this.#slices.remove(o)) this.queue.add(SERVICE + k);
      },
    });
    // Endpoints matter only for services without slices.
    const epEv = (o: KubeObject) => {
      const k = objectKey(o);
      if (!this.#slices.has(k)) this.queue.add(SERVICE + k);
    };
    this.#endpoints.addHandlers({ add: epEv, update: (_, o) => epEv(o), delete: epEv });
  }

  #onNb(c: RowChange<unknown>): void {
    const what = this.index.apply(c);
    if (what === undefined) return;
    for (const w of this.#seenWaiters) w();
    if (what === "switch") {
      const s = c.new as LbSwitchRow | undefined;
      const g = this.index.group();
      if (s && isNodeSwitch(s) && (!g || !s.load_balancer_group.includes(g._uuid))) {
        this.queue.add(GROUP);
      }
    } else if (what === "router") {
      const r = (c.new ?? c.old) as LbRouterRow;
      if (isGatewayRouter(r) || (c.old && isGatewayRouter(c.old as LbRouterRow))) {
        this.queue.add(ROUTER + r.name);
      }
    } else if (what === "group") {
      if (!c.new) {
        this.queue.add(GROUP);
        for (const k of this.#specs.keys()) this.queue.add(SERVICE + k);
      }
    } else if (what === "lb" && c.old && !c.new) {
      const k = classifyLb(c.old as LbRow);
      if (k.kind === "service" && this.#specs.has(k.service)) this.queue.add(SERVICE + k.service);
      if (k.kind === "gateway") this.queue.add(ROUTER + k.router);
    }
  }

  /**
   * Recomputes a service's desired state from the informer caches and updates the
   * NodePort claim index.
   *
   * @param key `namespace/name`
   * @returns the spec, or `undefined`
   */
  #refreshSpec(key: string): ServiceLbSpec | undefined {
    const svc = this.#services.cache.get(key) as (KubeObject & ServiceLike) | undefined;
    const before = this.#specs.get(key);
    for (const c of routerClaims(before).keys()) {
      if (this.#claimOwner.get(c) === key) this.#claimOwner.delete(c);
    }
    if (!svc) {
      this.#specs.delete(key);
      return undefined;
    }
    const { spec, warnings } = buildServiceLbSpec(svc, {
      slices: this.#slices.slicesOf(key),
      endpoints: this.#endpoints.cache.get(key) as (KubeObject & EndpointsLike) | undefined,
    });
    for (const w of warnings) {
      if (this.#warned.has(w)) continue;
      this.#warned.add(w);
      this.#log.warn(w, { service: key });
    }
    if (!spec) {
      this.#specs.delete(key);
      return undefined;
    }
    this.#specs.set(key, spec);
    for (const c of routerClaims(spec).keys()) this.#claimOwner.set(c, key);
    return spec;
  }

  /**
   * The startup repair: the services group exists and is on every node switch; the
   * per-service load balancers of services that are gone are deleted; every gateway
   * router holds exactly the NodePort VIPs of the existing services. Writes nothing
   * when NB already matches.
   *
   * @param signal stops waiting
   */
  async repair(signal: AbortSignal): Promise<void> {
    for (const key of this.#services.cache.keys()) this.#refreshSpec(key);
    const namer = makeUuidNamer();
    const g = planServicesGroup(this.index, namer);
    await this.#commit([{ key: GROUP, ops: g.ops }], signal);
    const group = this.index.group();
    if (!group) throw new Error(`Cannot repair services: the load balancer group did not appear`);
    const ops: Operation[] = [...planStaleServiceLbs(this.index, new Set(this.#specs.keys()))];
    for (const router of this.index.gatewayRouters()) {
      ops.push(...this.#routerOps(router.row.name, namer));
    }
    ops.push(...this.#orphanRouterLbOps());
    const r = await this.#commit([{ key: "repair", ops }], signal);
    if (r.failed.size) throw r.failed.get("repair");
    for (const [key, spec] of this.#specs) {
      this.#applied.set(key, new Set(routerClaims(spec).keys()));
    }
  }

  #routerOps(name: string, namer: (h: string) => string): Operation[] {
    const router = this.index.gatewayRouter(name);
    if (!router) return [];
    const vips = gatewayVips(this.#specs.values(), router.physicalIp);
    if (!router.physicalIp) {
      const w = `gateway router ${name} has no external_ids:physical_ip; no NodePort VIPs on it`;
      if (!this.#warned.has(w)) {
        this.#warned.add(w);
        this.#log.warn(w, { router: name });
      }
    }
    return planGatewayRouter(this.index, {
      router,
      vips,
      detachGroup: this.index.group()?._uuid,
      namer,
    });
  }

  /** Deletes per-router load balancers we made for routers that no longer exist. */
  #orphanRouterLbOps(): Operation[] {
    const ops: Operation[] = [];
    const routers = new Set(this.index.gatewayRouters().map((r) => r.row.name));
    for (const lb of this.index.allGatewayLbs()) {
      const c = classifyLb(lb);
      if (c.kind !== "gateway" || routers.has(c.router)) continue;
      if (lb.external_ids[OWNER_IDS.kind] !== GATEWAY_LB_KIND) continue;
      ops.push({ op: "delete", table: "Load_Balancer", where: [["_uuid", "==", lb._uuid]] });
    }
    return ops;
  }

  /**
   * Reconciles a batch of keys: the group first (alone), then routers and services in
   * one transaction.
   *
   * @param keys queue keys
   * @param signal stops waiting
   * @returns failed keys with their errors
   */
  async reconcile(keys: readonly string[], signal: AbortSignal): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    const namer = makeUuidNamer();
    if (keys.includes(GROUP)) {
      const r = await this.#commit(
        [{ key: GROUP, ops: planServicesGroup(this.index, namer).ops }],
        signal,
      );
      for (const [k, e] of r.failed) failed.set(k, e);
    }
    const group = this.index.group();
    const groups: OpGroup<string>[] = [];
    // Specs first, so router plans in this batch see the services' new state.
    const specs = new Map<string, ServiceLbSpec | undefined>();
    for (const key of keys) {
      if (key.startsWith(SERVICE)) {
        const svc = key.slice(SERVICE.length);
        specs.set(svc, this.#refreshSpec(svc));
      }
    }
    const claims = new Map<string, Set<RouterClaim>>();
    for (const key of keys) {
      if (key === GROUP) continue;
      try {
        if (key.startsWith(ROUTER)) {
          const name = key.slice(ROUTER.length);
          const ops = this.index.gatewayRouter(name)
            ? this.#routerOps(name, namer)
            : this.#orphanRouterLbOps();
          groups.push({ key, ops });
        } else if (key.startsWith(SERVICE)) {
          const svc = key.slice(SERVICE.length);
          const spec = specs.get(svc);
          const plan = planServiceLbs(this.index, {
            service: svc,
            spec,
            previous: this.#applied.get(svc) ?? new Set(),
            claimedByOther: (c) => {
              const o = this.#claimOwner.get(c);
              return o !== undefined && o !== svc;
            },
            namer,
          });
          for (const r of plan.pendingRouters) this.queue.add(ROUTER + r);
          claims.set(svc, plan.claims);
          groups.push({ key, ops: plan.ops });
        }
      } catch (err) {
        if (!group) this.queue.add(GROUP);
        failed.set(key, err);
      }
    }
    const r = await this.#commit(groups, signal);
    for (const [k, e] of r.failed) failed.set(k, e);
    for (const [svc, c] of claims) {
      if (r.committed.has(SERVICE + svc)) {
        if (c.size) this.#applied.set(svc, c);
        else this.#applied.delete(svc);
      }
    }
    return failed;
  }

  /** Commits groups, then waits until the monitor shows the rows they inserted. */
  async #commit(groups: OpGroup<string>[], signal: AbortSignal) {
    const r = await this.#ctx.writer.commitGroups(SERVICES_WRITER, groups);
    const inserted: string[] = [];
    for (const g of groups) {
      const res: OperationResult[] | undefined = r.committed.get(g.key);
      if (!res) continue;
      g.ops.forEach((o, i) => {
        const uuid = res[i]?.uuid;
        if (o.op === "insert" && uuid) inserted.push(uuid);
      });
    }
    await this.#awaitSeen(inserted, signal);
    return r;
  }

  /** Waits until the index has every inserted row (the monitor may lag the reply). */
  #awaitSeen(uuids: string[], signal: AbortSignal): Promise<void> {
    const seen = () => uuids.every((u) => this.index.lb(u) || this.index.group()?._uuid === u);
    if (uuids.length === 0 || seen()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#seenWaiters.delete(check);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const check = () => {
        if (seen()) done();
      };
      const timer = setTimeout(() => {
        this.#log.warn("the NB monitor did not show inserted load balancers in time", {
          rows: uuids.length,
        });
        done();
      }, this.#opts.seenTimeoutMs ?? 10_000);
      this.#seenWaiters.add(check);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Runs the worker until the signal aborts.
   *
   * @param signal stops it
   * @returns resolves when stopped
   */
  run(signal: AbortSignal): Promise<void> {
    return runWorker({
      queue: this.queue,
      reconcile: (keys, s) => this.reconcile(keys, s),
      batchSize: this.#opts.batchSize ?? 500,
      log: this.#log,
      metrics: this.#ctx.metrics,
      // A long NB outage exhausts the fast retries; such keys come back slowly instead of
      // waiting for their next event.
      onGiveUp: (key) => this.queue.addAfter(key, this.#opts.giveUpRetryMs ?? 60_000),
      signal,
    });
  }
}

function resource(plural: string) {
  const r = findResource(plural, plural === "endpointslices" ? "discovery.k8s.io" : "");
  if (!r) throw new Error(`Cannot find the ${plural} resource definition`);
  return r;
}

function indexFromCache(nb: NbClient): LbIndex {
  const t = <K extends keyof NbTables & string>(name: K) => nb.cache.table(name).all();
  return LbIndex.fromRows({
    loadBalancers: t("Load_Balancer"),
    groups: t("Load_Balancer_Group"),
    switches: t("Logical_Switch"),
    routers: t("Logical_Router"),
  });
}

/**
 * The services part of the watcher.
 *
 * @param opts tuning
 * @returns the part (add it to `watcherParts`)
 */
export function servicesPart(opts: ServicesPartOptions = {}): WatcherPart & {
  /** The controller, once `setup` ran (tests and benchmarks). */
  controller?: ServiceController;
} {
  const part: WatcherPart & { controller?: ServiceController } = {
    name: "services",
    nbMonitor: LB_MONITOR_COLUMNS,
    setup(ctx) {
      part.controller = new ServiceController(ctx, opts);
    },
    repair(_ctx, signal) {
      return part.controller!.repair(signal);
    },
    run(_ctx, signal) {
      return part.controller!.run(signal);
    },
  };
  return part;
}

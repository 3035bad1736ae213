/**
 * The pod controller (reference §10.3, with its bugs fixed): every scheduled,
 * non-host-network pod gets the logical port `<namespace>_<pod>` on its node's switch
 * with a static `"MAC IP"` address from {@linkcode PodIpam}, and the original's `ovn`
 * annotation. Per batch of keys: build each pod's operations purely from the informer
 * cache and the NB monitor cache (nothing when NB already matches), commit them in one
 * transaction (bisected on rejection: a pod commits whole or not at all), then patch
 * the annotations that differ, concurrently.
 *
 * Fixed from the original: pods without annotations or with odd fields never crash
 * anything (every key is reconciled on its own, errors are retried); updates are
 * handled (node change, recreation under the same name with a new uid, a lost
 * annotation, a port deleted behind our back); hostNetwork pods get no port; a full node
 * subnet gives the pod a Kubernetes Event and a log line, and it gets an address when
 * one is released.
 *
 * Design note: ports stay until the pod is deleted (also when it has completed), as in
 * the original: the CNI DEL of a completed pod may still come.
 *
 * @module
 */
import { byNodeName } from "../k8s/cache.ts";
import { objectKey } from "../k8s/cache.ts";
import type { Informer } from "../k8s/informer.ts";
import { isNotFound } from "../k8s/errors.ts";
import { findResource, type KubeObject, objectPath } from "../k8s/resources.ts";
import { formatIpv4, Ipv4Cidr, macFromIpv4, parseIpv4 } from "../net/mod.ts";
import {
  coalesceSetMutations,
  type CurrentPodPort,
  deletePodPortOps,
  isPodPort,
  makePodPortName,
  planPodPort,
  podKeyOfPort,
  type PodPortRow,
  portMacIp,
} from "../ovn/pod_ops.ts";
import type { LogicalSwitch, LogicalSwitchPort } from "../ovn/nb_models.ts";
import type { Operation } from "../ovsdb/mod.ts";
import type { Histogram } from "./metrics.ts";
import { type OpGroup } from "./nb_writer.ts";
import {
  formatPodAnnotation,
  parsePodAnnotation,
  POD_ANNOTATION_KEY,
  podAnnotationMatches,
  type PodNetworkAnnotation,
} from "./pod_annotation.ts";
import { portIpv4 } from "./_port_ip.ts";
import { PodIpam } from "./pod_ipam.ts";
import type { WatcherContext, WatcherPart } from "./watcher.ts";
import { WorkQueue } from "./work_queue.ts";
import { registerQueueMetrics, runWorker } from "./worker.ts";

/** Options of {@linkcode PodController}. */
export interface PodControllerOptions {
  /** Largest batch of pods per transaction (default 500). */
  batchSize?: number;
  /** Concurrent annotation patches (default 32). */
  annotateConcurrency?: number;
  /** Retries of a failing pod before it waits for its next event (default 10). */
  maxRetries?: number;
  /** Interval at which pods given up are queued again (default 30,000 ms). */
  requeueGivenUpMs?: number;
}

interface PodSpecView {
  nodeName?: string;
  hostNetwork?: boolean;
}

/** What one pod needs done. */
interface PodPlan {
  key: string;
  ops: Operation[];
  /** The annotation to write (undefined: none needed). */
  annotate?: PodNetworkAnnotation;
  /** Runs after the ops committed. */
  committed(): void;
}

interface Seen {
  uid: string;
  t: number;
  committed: boolean;
  annotated: boolean;
}

const POD_RESOURCE = findResource("pods")!;

/** The NB columns the pods part monitors (also what bench/ovsdb_monitor_load.ts loads). */
export const POD_NB_COLUMNS: {
  readonly Logical_Switch: (keyof LogicalSwitch)[];
  readonly Logical_Switch_Port: (keyof LogicalSwitchPort)[];
} = {
  Logical_Switch: ["name", "ports", "other_config", "external_ids"],
  Logical_Switch_Port: [
    "name",
    "addresses",
    "dynamic_addresses",
    "port_security",
    "external_ids",
    "up",
  ],
};

/**
 * Keeps only what the pod controller reads (metadata identity, the `ovn` annotation,
 * node, hostNetwork, phase), so 10,000s of cached pods stay small.
 *
 * @param raw a pod as JSON
 * @returns the slim pod
 */
export function slimPod(raw: Record<string, unknown>): KubeObject {
  const m = (raw.metadata ?? {}) as KubeObject["metadata"];
  const spec = (raw.spec ?? {}) as Record<string, unknown>;
  const status = (raw.status ?? {}) as Record<string, unknown>;
  const ann = m.annotations?.[POD_ANNOTATION_KEY];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(ann !== undefined ? { annotations: { [POD_ANNOTATION_KEY]: ann } } : {}),
    },
    spec: {
      ...(typeof spec.nodeName === "string" ? { nodeName: spec.nodeName } : {}),
      ...(spec.hostNetwork === true ? { hostNetwork: true } : {}),
    },
    status: typeof status.phase === "string" ? { phase: status.phase } : {},
  };
}

function specOf(pod: KubeObject): PodSpecView {
  return (pod.spec ?? {}) as PodSpecView;
}

function wantsPort(pod: KubeObject | undefined): pod is KubeObject {
  if (!pod) return false;
  const spec = specOf(pod);
  return typeof spec.nodeName === "string" && spec.nodeName !== "" && spec.hostNetwork !== true;
}

function relevant(pod: KubeObject): string {
  const s = specOf(pod);
  return JSON.stringify([
    s.nodeName,
    s.hostNetwork,
    pod.metadata.uid,
    pod.metadata.annotations?.[POD_ANNOTATION_KEY],
  ]);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Pods -> logical switch ports + annotations. */
export class PodController {
  /** The pod addresses (exposed for tests and the node controller). */
  readonly ipam: PodIpam = new PodIpam();
  /** The queue (exposed for tests). */
  readonly queue: WorkQueue<string>;
  readonly #batch: number;
  readonly #concurrency: number;
  #pods!: Informer<KubeObject>;
  #ctx!: WatcherContext;
  /** LSP name -> uuid. */
  #portByName = new Map<string, string>();
  /** LSP uuid -> uuid of the switch listing it. */
  #portSwitch = new Map<string, string>();
  /** Nodes whose subnet is full -> pods waiting for an address. */
  #waitingFull = new Map<string, Set<string>>();
  /** Nodes without a switch -> pods waiting for it. */
  #waitingSwitch = new Map<string, Set<string>>();
  #seen = new Map<string, Seen>();
  #ready = false;
  #givenUp = new Set<string>();
  readonly #requeueMs: number;
  #latCommitted!: Histogram;
  #latAnnotated!: Histogram;
  #latUp!: Histogram;

  /** @param opts batch size, annotation concurrency, retries */
  constructor(opts: PodControllerOptions = {}) {
    this.#batch = opts.batchSize ?? 500;
    this.#concurrency = opts.annotateConcurrency ?? 32;
    this.queue = new WorkQueue<string>({ name: "pods", maxRetries: opts.maxRetries ?? 10 });
    this.#requeueMs = opts.requeueGivenUpMs ?? 30_000;
  }

  /** The watcher part. */
  get part(): WatcherPart {
    return {
      name: "pods",
      nbMonitor: POD_NB_COLUMNS,
      early: (ctx) => this.#setup(ctx),
      setup: () => {},
      repair: (ctx, signal) => this.#repair(ctx, signal),
      run: (ctx, signal) => {
        // Keys given up after repeated failures (NB or the API down for long) come back
        // on a timer: no pod is left without its port for good.
        const timer = setInterval(() => {
          const keys = [...this.#givenUp];
          this.#givenUp.clear();
          if (keys.length) ctx.log.info("retrying pods given up earlier", { pods: keys.length });
          for (const k of keys) this.queue.add(k);
        }, this.#requeueMs);
        return runWorker({
          queue: this.queue,
          reconcile: (keys) => this.reconcile(keys),
          batchSize: this.#batch,
          workers: 2,
          log: ctx.log,
          metrics: ctx.metrics,
          onGiveUp: (k) => this.#givenUp.add(k),
          signal,
        }).finally(() => {
          clearInterval(timer);
          this.queue.shutdown();
        });
      },
    };
  }

  #setup(ctx: WatcherContext): void {
    this.#ctx = ctx;
    const m = ctx.metrics;
    this.#latCommitted = m.histogram(
      "ovnk8s_pod_port_committed_seconds",
      "Time from first seeing a scheduled pod to its logical port committed in NB",
    );
    this.#latAnnotated = m.histogram(
      "ovnk8s_pod_annotated_seconds",
      "Time from first seeing a scheduled pod to its ovn annotation written",
    );
    this.#latUp = m.histogram(
      "ovnk8s_pod_port_up_seconds",
      "Time from first seeing a scheduled pod to its logical port up (NB Logical_Switch_Port.up)",
    );
    m.gauge("ovnk8s_pod_addresses_assigned", "Pod addresses held")
      .collect(() => [[undefined, this.ipam.assigned]]);
    m.gauge("ovnk8s_pods_waiting_for_address", "Pods without an address: node subnet full")
      .collect(() => [[
        undefined,
        [...this.#waitingFull.values()].reduce((n, s) => n + s.size, 0),
      ]]);
    registerQueueMetrics(m, this.queue);

    this.#pods = ctx.informer(POD_RESOURCE, { node: byNodeName }, slimPod);
    this.#pods.addHandlers({
      add: (pod) => {
        this.#noteSeen(pod);
        this.queue.add(objectKey(pod));
      },
      update: (old, pod) => {
        this.#noteSeen(pod);
        if (relevant(old) !== relevant(pod)) this.queue.add(objectKey(pod));
      },
      delete: (pod) => {
        const key = objectKey(pod);
        this.#seen.delete(key);
        this.queue.add(key);
      },
    });

    // Called before the NB monitor: the initial rows arrive as inserts through these.
    const cache = ctx.nb.cache;
    for (const p of cache.table("Logical_Switch_Port")) this.#portByName.set(p.name, p._uuid);
    for (const s of cache.table("Logical_Switch")) {
      for (const p of s.ports) this.#portSwitch.set(p, s._uuid);
    }
    cache.onTable("Logical_Switch_Port", (c) => this.#onPort(c.old, c.new));
    cache.onTable("Logical_Switch", (c) => this.#onSwitch(c.old, c.new));
  }

  #noteSeen(pod: KubeObject): void {
    if (!wantsPort(pod)) return;
    const key = objectKey(pod);
    const uid = pod.metadata.uid ?? "";
    const cur = this.#seen.get(key);
    if (cur && cur.uid === uid) return;
    // Only pods that still need their network are timed (not the ones of a restart).
    if (parsePodAnnotation(pod.metadata.annotations?.[POD_ANNOTATION_KEY]) && !this.#ready) return;
    this.#seen.set(key, { uid, t: performance.now(), committed: false, annotated: false });
  }

  #onPort(old: LogicalSwitchPort | undefined, row: LogicalSwitchPort | undefined): void {
    if (old && (!row || old.name !== row.name)) {
      if (this.#portByName.get(old.name) === old._uuid) this.#portByName.delete(old.name);
    }
    if (row) this.#portByName.set(row.name, row._uuid);
    else if (old) this.#portSwitch.delete(old._uuid);
    if (!this.#ready) return;
    const key = podKeyOfPort(row ?? old!);
    if (!key) {
      // Another writer's port: its address is taken.
      const a = row ? portMacIp(row) : undefined;
      const node = row ? this.ipam.nodeOfSwitch(this.#portSwitch.get(row._uuid) ?? "") : undefined;
      if (a && node) this.ipam.observe(node, parseIpv4(a.ip)!);
      return;
    }
    if (!row) {
      // A pod port deleted (by us, or behind our back): reconcile the pod.
      this.queue.add(key);
      return;
    }
    if (row.up[0] === true && old?.up[0] !== true) {
      const seen = this.#seen.get(key);
      if (seen) {
        this.#latUp.observe((performance.now() - seen.t) / 1000);
        this.#seen.delete(key);
      }
    }
  }

  #onSwitch(old: LogicalSwitch | undefined, row: LogicalSwitch | undefined): void {
    // Port -> switch. Ports enter here; a port leaves with its row (#onPort): a port in
    // no switch is deleted by ovsdb-server (Logical_Switch_Port is not a root table).
    // No set of a 5,000-port switch is built per update (that was 120 MiB of garbage in
    // a 10,000-pod burst).
    if (row) {
      for (const p of row.ports) {
        if (this.#portSwitch.get(p) !== row._uuid) this.#portSwitch.set(p, row._uuid);
      }
    } else {
      for (const p of old!.ports) {
        if (this.#portSwitch.get(p) === old!._uuid) this.#portSwitch.delete(p);
      }
    }
    if (!this.#ready) return;
    const name = row?.name ?? old!.name;
    const subnetText = row?.other_config["subnet"];
    const oldText = old?.other_config["subnet"];
    if (row && subnetText && (subnetText !== oldText || row.name !== old?.name)) {
      this.#addSwitch(row);
      this.#requeueNode(name);
    } else if (!row || !subnetText) {
      if (this.ipam.node(name)) {
        this.ipam.deleteSwitch(name);
        this.#requeueNode(name);
      }
    }
  }

  #addSwitch(row: LogicalSwitch): boolean {
    const text = row.other_config["subnet"];
    if (!text) return false;
    let subnet: Ipv4Cidr;
    try {
      subnet = Ipv4Cidr.parse(text);
    } catch {
      this.#ctx.log.warn("node switch has an unusable subnet; its pods get no port", {
        switch: row.name,
        subnet: text,
      });
      return false;
    }
    if (!this.ipam.setSwitch(row.name, row._uuid, subnet)) {
      this.#ctx.log.warn("node subnet too small for pods (needs /29 or larger)", {
        switch: row.name,
        subnet: text,
      });
      return false;
    }
    const ports = this.#ctx.nb.cache.table("Logical_Switch_Port");
    for (const uuid of row.ports) {
      const p = ports.get(uuid);
      const ip = p ? portIpv4(p) : undefined;
      if (!p || ip === undefined) continue;
      const key = podKeyOfPort(p);
      if (!this.ipam.observe(row.name, ip, key) && key) {
        this.#ctx.log.warn("address of a pod port is taken by another port", {
          port: p.name,
          ip: formatIpv4(ip),
          holder: this.ipam.holder(row.name, ip),
        });
      }
    }
    return true;
  }

  #requeueNode(node: string): void {
    for (const p of this.#pods.cache.byIndex("node", node)) this.queue.add(objectKey(p));
    this.#waitingSwitch.delete(node);
  }

  #currentPort(name: string): { row: LogicalSwitchPort; cur: CurrentPodPort } | undefined {
    const uuid = this.#portByName.get(name);
    const row = uuid ? this.#ctx.nb.cache.table("Logical_Switch_Port").get(uuid) : undefined;
    if (!row) return undefined;
    return { row, cur: { port: row as PodPortRow, switchUuid: this.#portSwitch.get(row._uuid) } };
  }

  /** Rebuilds the addresses from NB, then deletes the ports of pods that are gone. */
  async #repair(ctx: WatcherContext, signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    for (const s of ctx.nb.cache.table("Logical_Switch")) this.#addSwitch(s);
    const allocatorsMs = Math.round(performance.now() - t0);
    this.#ready = true;
    const stale: OpGroup<string>[] = [];
    const releases: (() => void)[] = [];
    for (const row of ctx.nb.cache.table("Logical_Switch_Port")) {
      if (!isPodPort(row.external_ids)) continue;
      const key = podKeyOfPort(row);
      const pod = key ? this.#pods.cache.get(key) : undefined;
      if (key && wantsPort(pod)) continue;
      const cur: CurrentPodPort = {
        port: row as PodPortRow,
        switchUuid: this.#portSwitch.get(row._uuid),
      };
      stale.push({ key: row._uuid, ops: deletePodPortOps(cur) });
      releases.push(() => this.#releasePort(cur, key ?? ""));
    }
    let deleted = 0;
    for (let i = 0; i < stale.length && !signal.aborted; i += 1000) {
      const chunk = stale.slice(i, i + 1000);
      const r = await ctx.writer.commitGroups("pods", chunk, { transform: coalesceSetMutations });
      chunk.forEach((g, j) => {
        if (r.committed.has(g.key)) {
          releases[i + j]!();
          deleted++;
        }
      });
      for (const [uuid, err] of r.failed) {
        ctx.log.warn("repair: cannot delete a stale pod port; the next start retries", {
          port: uuid,
          error: errText(err),
        });
      }
    }
    ctx.log.info("pods repaired", {
      stalePortsDeleted: deleted,
      nodes: this.ipam.nodes().length,
      addresses: this.ipam.assigned,
      allocatorsMs,
      ms: Math.round(performance.now() - t0),
    });
  }

  #releasePort(cur: CurrentPodPort, key: string): void {
    const a = portMacIp(cur.port);
    const node = cur.switchUuid ? this.ipam.nodeOfSwitch(cur.switchUuid) : undefined;
    const ip = a ? parseIpv4(a.ip) : undefined;
    if (!node || ip === undefined) return;
    if (this.ipam.releaseIp(node, ip, key)) this.#wakeWaiting(node);
  }

  #wakeWaiting(node: string): void {
    const waiting = this.#waitingFull.get(node);
    if (!waiting) return;
    this.#waitingFull.delete(node);
    for (const k of waiting) this.queue.add(k);
  }

  #plan(key: string, index: number): PodPlan | undefined {
    const slash = key.indexOf("/");
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const pod = this.#pods.cache.get(key);
    const found = this.#currentPort(makePodPortName(ns, name));
    if (found && !isPodPort(found.row.external_ids)) {
      throw new Error(
        `Cannot give pod ${key} its port ${found.row.name}: a port of that name exists and is ` +
          "not a pod port; remove or rename it",
      );
    }
    const current = found?.cur;
    if (!wantsPort(pod)) {
      for (const w of this.#waitingFull.values()) w.delete(key);
      if (!current) {
        const gone = this.ipam.release(key);
        if (gone) this.#wakeWaiting(gone.node);
        return undefined;
      }
      return {
        key,
        ops: deletePodPortOps(current),
        committed: () => {
          this.#releasePort(current, key);
          const gone = this.ipam.release(key);
          if (gone) this.#wakeWaiting(gone.node);
        },
      };
    }
    const node = specOf(pod).nodeName!;
    const sw = this.ipam.node(node);
    if (!sw) {
      let w = this.#waitingSwitch.get(node);
      if (!w) {
        this.#waitingSwitch.set(node, w = new Set());
        this.#ctx.log.warn("node has no logical switch with a subnet yet; its pods wait", {
          node,
          pod: key,
        });
      }
      w.add(key);
      return undefined;
    }
    const here = current?.switchUuid === sw.switchUuid ? current : undefined;
    const hereAddr = here ? portMacIp(here.port) : undefined;
    const hereIp = hereAddr ? parseIpv4(hereAddr.ip) : undefined;
    let ip: number | undefined;
    if (hereIp !== undefined && this.ipam.holder(node, hereIp) === key) ip = hereIp;
    else {
      const held = this.ipam.get(key);
      const ann = parsePodAnnotation(pod.metadata.annotations?.[POD_ANNOTATION_KEY]);
      const annIp = ann ? parseIpv4(ann.ip_address.split("/")[0] ?? "") : undefined;
      ip = this.ipam.assign(
        key,
        node,
        held?.node === node ? held.ip : annIp,
      );
    }
    if (ip === undefined) {
      let w = this.#waitingFull.get(node);
      if (!w) this.#waitingFull.set(node, w = new Set());
      w.add(key);
      const msg = `Cannot allocate an address for pod ${key} on node ${node}: its subnet ` +
        `${sw.subnet} is full; the pod gets no network until a pod on that node is deleted ` +
        "(or give the node a larger subnet)";
      this.#ctx.log.warn("node subnet full; pod gets no port", {
        pod: key,
        node,
        subnet: String(sw.subnet),
      });
      void this.#ctx.events.warn(
        {
          kind: "Pod",
          namespace: ns,
          name,
          ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
        },
        "AddressAllocationFailed",
        msg,
      );
      return undefined;
    }
    this.#waitingFull.get(node)?.delete(key);
    const ipText = formatIpv4(ip);
    const mac = hereAddr && hereAddr.ip === ipText ? hereAddr.mac : macFromIpv4(ip);
    const ops = planPodPort(
      current,
      sw.switchUuid,
      { namespace: ns, pod: name, uid: pod.metadata.uid ?? "", mac, ip: ipText },
      `pod${index}`,
    );
    const want: PodNetworkAnnotation = {
      ip_address: `${ipText}/${sw.subnet.prefix}`,
      mac_address: mac,
      gateway_ip: formatIpv4(sw.subnet.host(1)),
    };
    const annotate = podAnnotationMatches(pod.metadata.annotations?.[POD_ANNOTATION_KEY], want)
      ? undefined
      : want;
    const moved = current && current !== here ? current : undefined;
    return {
      key,
      ops,
      ...(annotate ? { annotate } : {}),
      committed: () => {
        if (moved) this.#releasePort(moved, key);
      },
    };
  }

  /**
   * Reconciles a batch of pods (see the module doc).
   *
   * @param keys `namespace/name` keys
   * @returns the keys that failed, with their errors
   */
  async reconcile(keys: readonly string[]): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    const plans: PodPlan[] = [];
    keys.forEach((key, i) => {
      try {
        const p = this.#plan(key, i);
        if (p) plans.push(p);
      } catch (err) {
        failed.set(key, err);
      }
    });
    const groups = plans.filter((p) => p.ops.length).map((p) => ({ key: p.key, ops: p.ops }));
    const res = await this.#ctx.writer.commitGroups("pods", groups, {
      transform: coalesceSetMutations,
    });
    const now = performance.now();
    const toAnnotate: PodPlan[] = [];
    for (const p of plans) {
      if (res.failed.has(p.key)) {
        failed.set(p.key, res.failed.get(p.key));
        continue;
      }
      p.committed();
      const seen = this.#seen.get(p.key);
      if (seen && !seen.committed) {
        seen.committed = true;
        this.#latCommitted.observe((now - seen.t) / 1000);
      }
      if (p.annotate) toAnnotate.push(p);
      else if (seen && !seen.annotated) {
        seen.annotated = true;
        this.#latAnnotated.observe((now - seen.t) / 1000);
      }
    }
    await this.#annotateAll(toAnnotate, failed);
    return failed;
  }

  async #annotateAll(plans: PodPlan[], failed: Map<string, unknown>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < plans.length) {
        const p = plans[next++]!;
        try {
          await this.#annotate(p.key, p.annotate!);
          const seen = this.#seen.get(p.key);
          if (seen && !seen.annotated) {
            seen.annotated = true;
            this.#latAnnotated.observe((performance.now() - seen.t) / 1000);
          }
        } catch (err) {
          failed.set(p.key, err);
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#concurrency, plans.length) }, () => worker()),
    );
  }

  async #annotate(key: string, a: PodNetworkAnnotation): Promise<void> {
    const slash = key.indexOf("/");
    const path = objectPath(POD_RESOURCE, key.slice(0, slash), key.slice(slash + 1));
    try {
      await this.#ctx.http.request("PATCH", path, {
        body: { metadata: { annotations: { [POD_ANNOTATION_KEY]: formatPodAnnotation(a) } } },
        contentType: "application/merge-patch+json",
      });
    } catch (err) {
      if (isNotFound(err)) return; // deleted meanwhile: its delete event follows
      throw new Error(`Cannot annotate pod ${key}: ${errText(err)}`, { cause: err });
    }
  }
}

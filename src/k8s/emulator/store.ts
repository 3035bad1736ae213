/**
 * The emulator's object store: every object by resource, namespace and name; one
 * global resourceVersion counter; a bounded history of events that watches replay
 * from (a watch from a version older than the history gets `410 Gone`, as from a
 * compacted etcd); and the endpoints controller, which keeps Endpoints and
 * EndpointSlices in step with Services and Pods.
 *
 * Stored objects are never mutated: every write stores a new object, so lists,
 * history entries and watch events can share them.
 *
 * @module
 */
import {
  apiVersionOf,
  findResource,
  keyOf,
  type KubeObject,
  type ResourceDef,
  RESOURCES,
} from "../resources.ts";
import { buildEndpoints, buildEndpointSlices, MANAGED_BY_LABEL } from "./endpoints.ts";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import type { Matcher } from "./selectors.ts";

/** An API error with the HTTP status and the Kubernetes `reason`. */
export class ApiError extends Error {
  override name = "ApiError";
  /**
   * @param code HTTP status
   * @param reason Kubernetes Status reason (`NotFound`, `AlreadyExists`, `Conflict`, ...)
   * @param message human-readable message
   */
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }

  /** @returns the `Status` object sent to clients */
  toStatus(): KubeObject {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
  }
}

/** Event types that enter the history. */
export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** One change, as kept in the history and sent to watches. */
export interface StoreEvent {
  rv: number;
  resource: ResourceDef;
  type: EventType;
  object: KubeObject;
  /** The object before a MODIFIED change (history only). */
  old?: KubeObject;
}

/**
 * The event a watch sees for a change: a modification that moves an object into the
 * watch's selection is an ADDED, out of it a DELETED, as the API server does.
 */
function scoped(w: WatchRegistration, ev: StoreEvent, old = ev.old): StoreEvent | undefined {
  const inScope = (o: KubeObject) =>
    (!w.namespace || o.metadata.namespace === w.namespace) && w.match(o);
  const now = inScope(ev.object);
  if (ev.type !== "MODIFIED" || !old) {
    return now ? { rv: ev.rv, resource: ev.resource, type: ev.type, object: ev.object } : undefined;
  }
  const before = inScope(old);
  if (now && before) return { rv: ev.rv, resource: ev.resource, type: ev.type, object: ev.object };
  if (now) return { rv: ev.rv, resource: ev.resource, type: "ADDED", object: ev.object };
  if (before) return { rv: ev.rv, resource: ev.resource, type: "DELETED", object: ev.object };
  return undefined;
}

/** Everything needed to restart the store where it was (no history). */
export interface Snapshot {
  resourceVersion: number;
  objects: KubeObject[];
}

/** Options of {@linkcode EmulatorStore}. */
export interface StoreOptions {
  /** Events kept for watches to resume from (default 1,000). */
  historySize?: number;
  /** First address of the service ClusterIP range (IPv4, default `10.96.0.1`); the first address is skipped. */
  serviceIpBase?: string;
  /** State to start from, as saved by {@linkcode EmulatorStore.snapshot}. */
  initial?: Snapshot;
  /** Called after every committed change. */
  onChange?: () => void;
}

/** A live watch registration. */
export interface WatchRegistration {
  resource: ResourceDef;
  namespace?: string;
  match: Matcher;
  send: (ev: StoreEvent) => void;
}

/** PATCH content types the emulator accepts. */
export const PATCH_TYPES = {
  "application/merge-patch+json": mergePatch,
  "application/strategic-merge-patch+json": strategicMergePatch,
  "application/json-patch+json": jsonPatch,
} as const;

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function ipv4ToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
    throw new RangeError(`Cannot use service IP base "${ip}": not an IPv4 address`);
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function randomSuffix(): string {
  const abc = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  for (const b of crypto.getRandomValues(new Uint8Array(5))) s += abc[b % abc.length];
  return s;
}

/** The in-memory API state. */
export class EmulatorStore {
  #objects = new Map<ResourceDef, Map<string, Map<string, KubeObject>>>();
  #rv = 0;
  #history: StoreEvent[] = [];
  #compactedRv = 0;
  #historySize: number;
  #watchers = new Set<WatchRegistration>();
  #nextServiceIp: number;
  #nextNodePort = 30000;
  #onChange: (() => void) | undefined;

  /** @param opts history size, service IP range, initial state, change hook */
  constructor(opts: StoreOptions = {}) {
    this.#historySize = opts.historySize ?? 1000;
    this.#nextServiceIp = ipv4ToInt(opts.serviceIpBase ?? "10.96.0.1") + 1;
    for (const r of RESOURCES) this.#objects.set(r, new Map());
    if (opts.initial) {
      for (const o of opts.initial.objects) {
        const [group, version] = o.apiVersion?.includes("/")
          ? o.apiVersion.split("/")
          : ["", o.apiVersion];
        const r = RESOURCES.find((x) =>
          x.group === group && x.version === version && x.kind === o.kind
        );
        if (r) this.#put(r, o);
        this.#noteAllocations(o);
      }
      this.#rv = this.#compactedRv = opts.initial.resourceVersion;
    } else {
      for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
        this.create(findResource("namespaces")!, undefined, { metadata: { name } });
      }
    }
    this.#onChange = opts.onChange;
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumableVersion(): number {
    return this.#compactedRv;
  }

  /** @returns every object, for saving */
  snapshot(): Snapshot {
    const objects: KubeObject[] = [];
    for (const byNs of this.#objects.values()) {
      for (const m of byNs.values()) objects.push(...m.values());
    }
    return { resourceVersion: this.#rv, objects };
  }

  #bucket(r: ResourceDef, ns: string | undefined): Map<string, KubeObject> | undefined {
    return this.#objects.get(r)!.get(r.namespaced ? ns ?? "" : "");
  }

  #put(r: ResourceDef, obj: KubeObject): void {
    const byNs = this.#objects.get(r)!;
    const ns = r.namespaced ? obj.metadata.namespace ?? "" : "";
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, m = new Map());
    m.set(obj.metadata.name!, obj);
  }

  #noteAllocations(o: KubeObject): void {
    const spec = o.spec as { clusterIP?: string; ports?: { nodePort?: number }[] } | undefined;
    if (o.kind !== "Service" || !spec) return;
    if (spec.clusterIP && /^\d+\.\d+\.\d+\.\d+$/.test(spec.clusterIP)) {
      this.#nextServiceIp = Math.max(this.#nextServiceIp, ipv4ToInt(spec.clusterIP) + 1);
    }
    for (const p of spec.ports ?? []) {
      if (p.nodePort) this.#nextNodePort = Math.max(this.#nextNodePort, p.nodePort + 1);
    }
  }

  #record(r: ResourceDef, type: EventType, object: KubeObject, old?: KubeObject): void {
    const ev: StoreEvent = { rv: this.#rv, resource: r, type, object };
    this.#history.push(old ? { ...ev, old } : ev);
    if (this.#history.length > this.#historySize) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historySize);
      this.#compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.#watchers) {
      if (w.resource !== r) continue;
      const out = scoped(w, ev, old);
      if (out) w.send(out);
    }
  }

  /**
   * Lists objects.
   *
   * @param r the resource
   * @param namespace restrict to a namespace
   * @param match selector
   * @returns matching objects sorted by namespace/name, and the current resourceVersion
   */
  list(
    r: ResourceDef,
    namespace?: string,
    match: Matcher = () => true,
  ): { items: KubeObject[]; resourceVersion: string } {
    const items: KubeObject[] = [];
    const byNs = this.#objects.get(r)!;
    const buckets = namespace && r.namespaced ? [byNs.get(namespace)] : [...byNs.values()];
    for (const m of buckets) {
      for (const o of m?.values() ?? []) if (match(o)) items.push(o);
    }
    items.sort((a, b) => keyOf(a.metadata).localeCompare(keyOf(b.metadata)));
    return { items, resourceVersion: this.resourceVersion };
  }

  /**
   * Reads one object.
   *
   * @param r the resource
   * @param namespace its namespace
   * @param name its name
   * @returns the object
   * @throws {ApiError} 404 when absent
   */
  get(r: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const o = this.#bucket(r, namespace)?.get(name);
    if (!o) throw new ApiError(404, "NotFound", `${r.plural} "${name}" not found`);
    return o;
  }

  #checkNamespace(r: ResourceDef, namespace: string | undefined): void {
    if (!r.namespaced) return;
    if (!namespace) throw new ApiError(400, "BadRequest", `${r.plural} need a namespace`);
    if (!this.#bucket(findResource("namespaces")!, undefined)?.has(namespace)) {
      throw new ApiError(404, "NotFound", `namespaces "${namespace}" not found`);
    }
  }

  #normalize(r: ResourceDef, namespace: string | undefined, body: unknown): KubeObject {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new ApiError(400, "BadRequest", `${r.kind} body is not a JSON object`);
    }
    const obj = structuredClone(body) as KubeObject;
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (obj.kind !== undefined && obj.kind !== r.kind) {
      throw new ApiError(400, "BadRequest", `kind "${obj.kind}" sent to ${r.plural}`);
    }
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    if (r.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw new ApiError(
          400,
          "BadRequest",
          `the namespace of the object (${obj.metadata.namespace}) does not match the namespace on the request (${namespace})`,
        );
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace ?? "";
    } else delete obj.metadata.namespace;
    return obj;
  }

  #defaults(r: ResourceDef, obj: KubeObject): void {
    if (r.kind === "Pod") {
      obj.status = { phase: "Pending", ...(obj.status ?? {}) };
    } else if (r.kind === "Namespace") {
      obj.spec = { finalizers: ["kubernetes"], ...(obj.spec ?? {}) };
      obj.status = { phase: "Active" };
    } else if (r.kind === "Service") {
      const spec = { type: "ClusterIP", sessionAffinity: "None", ...(obj.spec ?? {}) } as {
        type: string;
        clusterIP?: string;
        clusterIPs?: string[];
        ports?: {
          port?: number;
          targetPort?: number | string;
          protocol?: string;
          nodePort?: number;
        }[];
      };
      if (!spec.clusterIP) {
        spec.clusterIP = intToIpv4(this.#nextServiceIp++);
        spec.clusterIPs = [spec.clusterIP];
      } else if (!spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
      spec.ports = (spec.ports ?? []).map((p) => {
        const q = { protocol: "TCP", ...p };
        if (q.targetPort === undefined && q.port !== undefined) q.targetPort = q.port;
        if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && !q.nodePort) {
          q.nodePort = this.#nextNodePort++;
        }
        return q;
      });
      obj.spec = spec;
      obj.status = { loadBalancer: {} };
      this.#noteAllocations(obj);
    }
  }

  /**
   * Creates an object.
   *
   * @param r the resource
   * @param namespace the namespace from the URL
   * @param body the object
   * @returns the stored object
   * @throws {ApiError} 409 when it exists, 404 when the namespace does not, 400/422 on bad input
   */
  create(r: ResourceDef, namespace: string | undefined, body: unknown): KubeObject {
    const obj = this.#normalize(r, namespace, body);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name || !NAME_RE.test(meta.name) || meta.name.length > 253) {
      throw new ApiError(
        422,
        "Invalid",
        `${r.kind} "${
          meta.name ?? ""
        }" is invalid: metadata.name: must be a lowercase RFC 1123 subdomain`,
      );
    }
    this.#checkNamespace(r, meta.namespace);
    if (this.#bucket(r, meta.namespace)?.has(meta.name)) {
      throw new ApiError(409, "AlreadyExists", `${r.plural} "${meta.name}" already exists`);
    }
    this.#defaults(r, obj);
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    meta.resourceVersion = String(++this.#rv);
    this.#put(r, obj);
    this.#record(r, "ADDED", obj);
    this.#afterChange(r, undefined, obj);
    return obj;
  }

  /**
   * Replaces an object (PUT).
   *
   * @param r the resource
   * @param namespace its namespace
   * @param name its name
   * @param body the new object; a set `metadata.resourceVersion` must be current
   * @param subresource `status` to change only the status
   * @returns the stored object
   * @throws {ApiError} 404 when absent, 409 on a stale resourceVersion
   */
  update(
    r: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource?: "status",
  ): KubeObject {
    const old = this.get(r, namespace, name);
    const obj = this.#normalize(r, namespace, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw new ApiError(400, "BadRequest", `the name of the object does not match "${name}"`);
    }
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== old.metadata.resourceVersion) {
      throw new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return this.#commit(r, old, obj, subresource);
  }

  #commit(r: ResourceDef, old: KubeObject, obj: KubeObject, subresource?: "status"): KubeObject {
    let next: KubeObject;
    if (subresource === "status") {
      next = { ...old, metadata: { ...old.metadata }, status: obj.status };
    } else {
      next = { ...obj, metadata: { ...obj.metadata } };
      if (r.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      if (r.kind === "Service") {
        const s = next.spec as { clusterIP?: string; clusterIPs?: string[] } | undefined;
        const o = old.spec as { clusterIP?: string; clusterIPs?: string[] } | undefined;
        if (s && o?.clusterIP && !s.clusterIP) {
          s.clusterIP = o.clusterIP;
          s.clusterIPs = o.clusterIPs ?? [o.clusterIP];
        }
      }
      next.metadata.generation = (old.metadata.generation ?? 1) +
        (JSON.stringify(next.spec) === JSON.stringify(old.spec) ? 0 : 1);
    }
    const meta = next.metadata;
    meta.name = old.metadata.name!;
    if (old.metadata.namespace) meta.namespace = old.metadata.namespace;
    meta.uid = old.metadata.uid!;
    meta.creationTimestamp = old.metadata.creationTimestamp!;
    meta.resourceVersion = String(++this.#rv);
    this.#put(r, next);
    this.#record(r, "MODIFIED", next, old);
    this.#afterChange(r, old, next);
    return next;
  }

  /**
   * Patches an object.
   *
   * @param r the resource
   * @param namespace its namespace
   * @param name its name
   * @param contentType one of {@linkcode PATCH_TYPES}
   * @param body the parsed patch
   * @param subresource `status` to change only the status
   * @returns the stored object
   * @throws {ApiError} 415 on another content type, 404, 409, 422 on a patch that does not apply
   */
  patch(
    r: ResourceDef,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: unknown,
    subresource?: "status",
  ): KubeObject {
    const apply = PATCH_TYPES[contentType as keyof typeof PATCH_TYPES];
    if (!apply) {
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ${
          Object.keys(PATCH_TYPES).join(", ")
        }`,
      );
    }
    const old = this.get(r, namespace, name);
    let patched: unknown;
    try {
      patched = apply(old, body);
    } catch (err) {
      throw new ApiError(422, "Invalid", err instanceof Error ? err.message : String(err));
    }
    const obj = this.#normalize(r, namespace, patched);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) {
      throw new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return this.#commit(r, old, obj, subresource);
  }

  /**
   * Deletes an object (a namespace takes its objects with it).
   *
   * @param r the resource
   * @param namespace its namespace
   * @param name its name
   * @returns the object as it was at deletion
   * @throws {ApiError} 404 when absent
   */
  delete(r: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const old = this.get(r, namespace, name);
    if (r.kind === "Namespace") {
      for (const x of RESOURCES) {
        if (!x.namespaced) continue;
        for (const o of [...(this.#objects.get(x)!.get(name)?.values() ?? [])]) {
          this.delete(x, name, o.metadata.name!);
        }
      }
    }
    this.#bucket(r, namespace)!.delete(name);
    const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.#rv) } };
    this.#record(r, "DELETED", gone);
    this.#afterChange(r, old, undefined);
    return gone;
  }

  /**
   * Starts a watch: replays the history after `fromRv` (or the current objects as
   * ADDED when `fromRv` is absent or 0), then sends every matching change.
   *
   * @param reg what to watch and where to send events
   * @param fromRv resourceVersion to resume after
   * @returns a function that ends the watch
   * @throws {ApiError} 410 when `fromRv` is older than the history (or newer than the store)
   */
  watch(reg: WatchRegistration, fromRv?: string): () => void {
    const from = fromRv === undefined || fromRv === "" || fromRv === "0"
      ? undefined
      : Number(fromRv);
    if (from !== undefined && !Number.isSafeInteger(from)) {
      throw new ApiError(400, "BadRequest", `resourceVersion "${fromRv}" is not a valid version`);
    }
    if (from !== undefined && (from < this.#compactedRv || from > this.#rv)) {
      throw new ApiError(
        410,
        "Expired",
        `too old resource version: ${from} (${this.#compactedRv})`,
      );
    }
    if (from === undefined) {
      for (const o of this.list(reg.resource, reg.namespace, reg.match).items) {
        reg.send({
          rv: Number(o.metadata.resourceVersion),
          resource: reg.resource,
          type: "ADDED",
          object: o,
        });
      }
    } else {
      for (const ev of this.#history) {
        if (ev.rv <= from || ev.resource !== reg.resource) continue;
        const out = scoped(reg, ev);
        if (out) reg.send(out);
      }
    }
    this.#watchers.add(reg);
    return () => this.#watchers.delete(reg);
  }

  #afterChange(r: ResourceDef, old: KubeObject | undefined, obj: KubeObject | undefined): void {
    if (r.kind === "Pod" || r.kind === "Service") {
      const ns = (obj ?? old)!.metadata.namespace!;
      const services = r.kind === "Service"
        ? [obj ?? old!]
        : this.list(findResource("services")!, ns).items.filter((s) => {
          const sel = (s.spec as { selector?: Record<string, string> } | undefined)?.selector;
          if (!sel || Object.keys(sel).length === 0) return false;
          const hit = (p?: KubeObject) =>
            !!p && Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v);
          return hit(old) || hit(obj);
        });
      for (const svc of services) this.#syncEndpoints(svc, r.kind === "Service" && !obj);
    }
    this.#onChange?.();
  }

  #syncEndpoints(svc: KubeObject, deleted: boolean): void {
    const ns = svc.metadata.namespace!;
    const name = svc.metadata.name!;
    const epR = findResource("endpoints")!;
    const sliceR = findResource("endpointslices", "discovery.k8s.io")!;
    const slices = this.list(sliceR, ns).items.filter((s) =>
      s.metadata.labels?.["kubernetes.io/service-name"] === name &&
      s.metadata.labels?.[MANAGED_BY_LABEL] !== undefined
    );
    const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (deleted || !selector || Object.keys(selector).length === 0) {
      if (deleted) {
        if (this.#bucket(epR, ns)?.has(name)) this.delete(epR, ns, name);
        for (const s of slices) this.delete(sliceR, ns, s.metadata.name!);
      }
      return;
    }
    const pods = this.list(findResource("pods")!, ns).items;
    this.#putDesired(epR, buildEndpoints(svc, pods), ["subsets"]);
    const want = buildEndpointSlices(svc, pods);
    for (const s of want) this.#putDesired(sliceR, s, ["endpoints", "ports", "addressType"]);
    for (const s of slices) {
      if (!want.some((w) => w.metadata.name === s.metadata.name)) {
        this.delete(sliceR, ns, s.metadata.name!);
      }
    }
  }

  #putDesired(r: ResourceDef, want: KubeObject, fields: string[]): void {
    const ns = want.metadata.namespace;
    const cur = this.#bucket(r, ns)?.get(want.metadata.name!);
    if (!cur) {
      this.create(r, ns, want);
      return;
    }
    const same = fields.every((f) => JSON.stringify(cur[f]) === JSON.stringify(want[f])) &&
      JSON.stringify(cur.metadata.labels ?? {}) === JSON.stringify(want.metadata.labels ?? {});
    if (!same) {
      const next: KubeObject = {
        ...cur,
        metadata: { ...cur.metadata, labels: want.metadata.labels! },
      };
      for (const f of fields) {
        if (want[f] === undefined) delete next[f];
        else next[f] = want[f];
      }
      this.#commit(r, cur, next);
    }
  }
}

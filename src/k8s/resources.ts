/**
 * The Kubernetes resources ovn-k8s reads and writes, as one table shared by the
 * client (paths of list/watch/get/patch) and the API emulator (what it serves).
 *
 * @module
 */

/** One served or watched resource kind. */
export interface ResourceDef {
  /** API group; `""` for the core group. */
  group: string;
  /** API version within the group. */
  version: string;
  /** Plural lowercase name used in paths, e.g. `pods`. */
  plural: string;
  /** Singular lowercase name. */
  singular: string;
  /** Kind, e.g. `Pod`. */
  kind: string;
  /** Whether objects live in a namespace. */
  namespaced: boolean;
  /** kubectl short names. */
  shortNames: readonly string[];
  /** Whether `status` is a subresource (main-resource writes keep the stored status). */
  hasStatus: boolean;
  /** client-node model name, for typed decoding (e.g. `V1Pod`). */
  model: string;
}

/** Every resource ovn-k8s uses, in a fixed order. */
export const RESOURCES: readonly ResourceDef[] = [
  {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    hasStatus: true,
    model: "V1Namespace",
  },
  {
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    shortNames: ["no"],
    hasStatus: true,
    model: "V1Node",
  },
  {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    hasStatus: true,
    model: "V1Pod",
  },
  {
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    hasStatus: true,
    model: "V1Service",
  },
  {
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
    hasStatus: false,
    model: "CoreV1Event",
  },
  {
    group: "",
    version: "v1",
    plural: "endpoints",
    singular: "endpoints",
    kind: "Endpoints",
    namespaced: true,
    shortNames: ["ep"],
    hasStatus: false,
    model: "V1Endpoints",
  },
  {
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    singular: "endpointslice",
    kind: "EndpointSlice",
    namespaced: true,
    shortNames: [],
    hasStatus: false,
    model: "V1EndpointSlice",
  },
  {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
    shortNames: [],
    hasStatus: false,
    model: "V1Lease",
  },
];

/**
 * The `apiVersion` string of a resource.
 *
 * @param r the resource
 * @returns `v1` or `group/version`
 */
export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/**
 * The path prefix of a resource's group version.
 *
 * @param r the resource
 * @returns `/api/v1` or `/apis/group/version`
 */
export function groupVersionPath(r: ResourceDef): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

/**
 * The collection path of a resource, across all namespaces or in one.
 *
 * @param r the resource
 * @param namespace restrict to this namespace (namespaced resources only)
 * @returns e.g. `/api/v1/namespaces/default/pods`
 */
export function collectionPath(r: ResourceDef, namespace?: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${groupVersionPath(r)}${ns}/${r.plural}`;
}

/**
 * The path of one object.
 *
 * @param r the resource
 * @param namespace its namespace (ignored for cluster-scoped resources)
 * @param name its name
 * @returns e.g. `/api/v1/namespaces/default/pods/web`
 */
export function objectPath(r: ResourceDef, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/**
 * Finds a resource by plural name (and group).
 *
 * @param plural e.g. `pods`
 * @param group API group, `""` for core
 * @returns the definition, or `undefined`
 */
export function findResource(plural: string, group = ""): ResourceDef | undefined {
  return RESOURCES.find((r) => r.plural === plural && r.group === group);
}

/** Minimal object metadata shared by every Kubernetes object. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/**
 * The cache key of an object: `namespace/name`, or `name` when cluster-scoped.
 *
 * @param meta the object's metadata
 * @returns the key
 */
export function keyOf(meta: { name?: string; namespace?: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ""}` : meta.name ?? "";
}

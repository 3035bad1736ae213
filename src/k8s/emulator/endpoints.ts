/**
 * The emulator's endpoints controller, as pure builders: given a Service with a
 * selector and the Pods of its namespace, the Endpoints object and the
 * EndpointSlices (one per address family) the real controllers would write.
 *
 * A pod takes part when it matches the selector, is not terminating and has an IP,
 * from `status.podIP` or else from the ovn-k8s pod annotation `ovn` (`ip_address`
 * with its prefix length). It is ready when its `Ready` condition is `True`, or, with
 * no such condition, when its phase is `Running`.
 *
 * @module
 */
import type { KubeObject } from "../resources.ts";

interface PodLike {
  metadata: KubeObject["metadata"];
  spec?: {
    nodeName?: string;
    containers?: { ports?: { name?: string; containerPort?: number; protocol?: string }[] }[];
  };
  status?: { podIP?: string; phase?: string; conditions?: { type?: string; status?: string }[] };
}

interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
  protocol?: string;
}

interface ServiceLike {
  metadata: KubeObject["metadata"];
  spec?: { selector?: Record<string, string>; ports?: ServicePort[] };
}

/** Label the endpointslice controller puts on its slices. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Label naming the managing controller. */
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
const MANAGER = "endpointslice-controller.k8s.io";

/**
 * The IP of a pod: `status.podIP`, else the `ovn` annotation's `ip_address`.
 *
 * @param pod the pod
 * @returns the IP without prefix length, or `undefined`
 */
export function podIpOf(pod: PodLike): string | undefined {
  if (pod.status?.podIP) return pod.status.podIP;
  const ann = pod.metadata.annotations?.["ovn"];
  if (!ann) return undefined;
  try {
    const ip = (JSON.parse(ann) as { ip_address?: unknown }).ip_address;
    return typeof ip === "string" && ip ? ip.split("/")[0] : undefined;
  } catch {
    return undefined;
  }
}

function isReady(pod: PodLike): boolean {
  const cond = pod.status?.conditions?.find((c) => c.type === "Ready");
  return cond ? cond.status === "True" : pod.status?.phase === "Running";
}

function selects(selector: Record<string, string>, pod: PodLike): boolean {
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function resolvePort(pod: PodLike, sp: ServicePort): number | undefined {
  const t = sp.targetPort ?? sp.port;
  if (typeof t === "number") return t;
  if (t !== undefined && /^\d+$/.test(t)) return Number(t);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === t && (p.protocol ?? "TCP") === (sp.protocol ?? "TCP")) return p.containerPort;
    }
  }
  return undefined;
}

interface Member {
  pod: PodLike;
  ip: string;
  ready: boolean;
  ports: { name?: string; port: number; protocol: string }[];
}

function membersOf(svc: ServiceLike, pods: readonly PodLike[]): Member[] {
  const selector = svc.spec?.selector ?? {};
  const out: Member[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== svc.metadata.namespace) continue;
    if (pod.metadata.deletionTimestamp || !selects(selector, pod)) continue;
    const ip = podIpOf(pod);
    if (!ip) continue;
    const ports: Member["ports"] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolvePort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP" });
    }
    out.push({ pod, ip, ready: isReady(pod), ports });
  }
  return out.sort((a, b) =>
    (a.pod.metadata.name ?? "").localeCompare(b.pod.metadata.name ?? "") ||
    a.ip.localeCompare(b.ip)
  );
}

function targetRef(pod: PodLike) {
  return {
    kind: "Pod",
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
  };
}

/**
 * Builds the Endpoints object of a service (without server-set metadata).
 *
 * @param svc a service that has a selector
 * @param pods pods to consider (any namespace; others are skipped)
 * @returns the Endpoints object
 */
export function buildEndpoints(svc: ServiceLike, pods: readonly PodLike[]): KubeObject {
  const subsets = new Map<
    string,
    { addresses: unknown[]; notReadyAddresses: unknown[]; ports: Member["ports"] }
  >();
  for (const m of membersOf(svc, pods)) {
    if (m.ports.length === 0 && (svc.spec?.ports ?? []).length > 0) continue;
    const sig = JSON.stringify(m.ports);
    let s = subsets.get(sig);
    if (!s) subsets.set(sig, s = { addresses: [], notReadyAddresses: [], ports: m.ports });
    const addr = {
      ip: m.ip,
      ...(m.pod.spec?.nodeName ? { nodeName: m.pod.spec.nodeName } : {}),
      targetRef: targetRef(m.pod),
    };
    (m.ready ? s.addresses : s.notReadyAddresses).push(addr);
  }
  const list = [...subsets.values()].map((s) => ({
    ...(s.addresses.length ? { addresses: s.addresses } : {}),
    ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}),
    ...(s.ports.length ? { ports: s.ports } : {}),
  }));
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: svc.metadata.name!,
      namespace: svc.metadata.namespace!,
      labels: { ...(svc.metadata.labels ?? {}) },
    },
    ...(list.length ? { subsets: list } : {}),
  };
}

/**
 * Builds the EndpointSlices of a service: one per address family that has members,
 * and an empty IPv4 slice when there are none.
 *
 * @param svc a service that has a selector
 * @param pods pods to consider
 * @returns the slices, named `<service>-ipv4` / `<service>-ipv6`
 */
export function buildEndpointSlices(svc: ServiceLike, pods: readonly PodLike[]): KubeObject[] {
  const members = membersOf(svc, pods);
  const ports = (svc.spec?.ports ?? []).map((sp) => {
    const first = members.find((m) => m.ports.some((p) => p.name === sp.name));
    const p = first?.ports.find((x) => x.name === sp.name);
    return {
      ...(sp.name ? { name: sp.name } : { name: "" }),
      ...(p ? { port: p.port } : {}),
      protocol: sp.protocol ?? "TCP",
    };
  });
  const families: ("IPv4" | "IPv6")[] = [];
  if (members.some((m) => !m.ip.includes(":")) || members.length === 0) families.push("IPv4");
  if (members.some((m) => m.ip.includes(":"))) families.push("IPv6");
  return families.map((family) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${svc.metadata.name}-${family.toLowerCase()}`,
      namespace: svc.metadata.namespace!,
      labels: {
        ...(svc.metadata.labels ?? {}),
        [SERVICE_NAME_LABEL]: svc.metadata.name!,
        [MANAGED_BY_LABEL]: MANAGER,
      },
      ownerReferences: [{
        apiVersion: "v1",
        kind: "Service",
        name: svc.metadata.name,
        uid: svc.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    addressType: family,
    endpoints: members.filter((m) => m.ip.includes(":") === (family === "IPv6")).map((m) => ({
      addresses: [m.ip],
      conditions: { ready: m.ready, serving: m.ready, terminating: false },
      ...(m.pod.spec?.nodeName ? { nodeName: m.pod.spec.nodeName } : {}),
      targetRef: targetRef(m.pod),
    })),
    ports,
  }));
}

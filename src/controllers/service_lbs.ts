/**
 * PURE desired state of one Kubernetes service as OVN load balancing: a Service plus
 * its EndpointSlices (or, when it has none, its Endpoints) in, a
 * {@linkcode ServiceLbSpec} out.
 *
 * - VIPs: every IPv4 cluster IP and external IP, `ip:port` -> `ep:targetPort,...`,
 *   backends sorted and de-duplicated; ready endpoints only (`conditions.ready` absent
 *   counts as ready, as the API documents); a VIP without ready endpoints keeps an
 *   empty backend list (the load balancer's `options:reject=true` answers it).
 * - Target ports come from the EndpointSlice/Endpoints ports, matched by the service
 *   port's name and protocol: the endpoints controller has already resolved named
 *   target ports per pod, so no pod cache is needed (the original needed one, and
 *   missed pods seen after their endpoints, reference §16.6).
 * - NodePort and LoadBalancer services add their nodePorts, and external IPs are listed
 *   apart too: both are programmed on every gateway router. ExternalName and headless
 *   services get no VIP.
 * - `sessionAffinity: ClientIP` becomes `options:affinity_timeout` (default 10,800 s,
 *   capped at OVN's 65,535 s with a warning).
 *
 * @module
 */
import {
  type LbProtocol,
  MAX_AFFINITY_TIMEOUT,
  type ProtocolLbSpec,
  type ServiceLbSpec,
} from "../ovn/lb_layout.ts";

/** `T` or absent: these shapes accept client-node models and plain JSON alike. */
type Opt<T> = T | undefined;

/** A service port (client-node `V1ServicePort` or JSON). */
export interface ServicePortLike {
  name?: Opt<string>;
  port?: Opt<number>;
  targetPort?: Opt<number | string | object>;
  nodePort?: Opt<number>;
  protocol?: Opt<string>;
}

/** What the builder reads of a Service. */
export interface ServiceLike {
  metadata?: Opt<{ name?: Opt<string>; namespace?: Opt<string> }>;
  spec?: Opt<{
    type?: Opt<string>;
    clusterIP?: Opt<string>;
    clusterIPs?: Opt<string[]>;
    ports?: Opt<ServicePortLike[]>;
    externalIPs?: Opt<string[]>;
    sessionAffinity?: Opt<string>;
    sessionAffinityConfig?: Opt<{ clientIP?: Opt<{ timeoutSeconds?: Opt<number> }> }>;
  }>;
}

/** An endpoint port (EndpointSlice `ports[]` or Endpoints `subsets[].ports[]`). */
export interface EndpointPortLike {
  name?: Opt<string>;
  port?: Opt<number>;
  protocol?: Opt<string>;
}

/** What the builder reads of an EndpointSlice. */
export interface EndpointSliceLike {
  metadata?: Opt<{
    name?: Opt<string>;
    namespace?: Opt<string>;
    labels?: Opt<Record<string, string>>;
  }>;
  addressType?: Opt<string>;
  endpoints?: Opt<{ addresses?: Opt<string[]>; conditions?: Opt<{ ready?: Opt<boolean> }> }[]>;
  ports?: Opt<EndpointPortLike[]>;
}

/** What the builder reads of an Endpoints object. */
export interface EndpointsLike {
  metadata?: Opt<{ name?: Opt<string>; namespace?: Opt<string> }>;
  subsets?: Opt<{ addresses?: Opt<{ ip?: Opt<string> }[]>; ports?: Opt<EndpointPortLike[]> }[]>;
}

/** Default ClientIP affinity timeout of Kubernetes, in seconds. */
export const DEFAULT_AFFINITY_TIMEOUT = 10_800;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpv4(s: string | undefined): s is string {
  const m = s ? IPV4.exec(s) : null;
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}

function protocolOf(p: string | undefined): LbProtocol | undefined {
  const v = (p ?? "TCP").toLowerCase();
  return v === "tcp" || v === "udp" || v === "sctp" ? v : undefined;
}

function samePort(sp: ServicePortLike, ep: EndpointPortLike): boolean {
  return (ep.name ?? "") === (sp.name ?? "") &&
    (ep.protocol ?? "TCP").toUpperCase() === (sp.protocol ?? "TCP").toUpperCase();
}

/**
 * The ready backends of one service port: `ip:port` sorted, de-duplicated, from the
 * slices when there are any, else from the Endpoints object.
 *
 * @param sp the service port
 * @param slices the service's EndpointSlices
 * @param endpoints its Endpoints (used only when `slices` is empty)
 * @returns backends, e.g. `["10.244.1.5:8080", "10.244.2.7:8080"]`
 */
export function readyBackends(
  sp: ServicePortLike,
  slices: readonly EndpointSliceLike[],
  endpoints?: EndpointsLike,
): string[] {
  const out = new Set<string>();
  if (slices.length > 0) {
    for (const s of slices) {
      if (s.addressType !== undefined && s.addressType !== "IPv4") continue;
      const port = s.ports?.find((p) => samePort(sp, p))?.port;
      if (port === undefined) continue;
      for (const ep of s.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const a of ep.addresses ?? []) if (isIpv4(a)) out.add(`${a}:${port}`);
      }
    }
  } else {
    for (const sub of endpoints?.subsets ?? []) {
      const port = sub.ports?.find((p) => samePort(sp, p))?.port;
      if (port === undefined) continue;
      for (const a of sub.addresses ?? []) if (isIpv4(a.ip)) out.add(`${a.ip}:${port}`);
    }
  }
  return sortBackends(out);
}

/** `a.b.c.d:port` as one number (address x 65,536 + port), for sorting. */
function backendRank(b: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(b);
  if (!m) return Number.MAX_SAFE_INTEGER;
  const ip = ((+m[1]! * 256 + +m[2]!) * 256 + +m[3]!) * 256 + +m[4]!;
  return ip * 65_536 + +m[5]!;
}

function sortBackends(set: ReadonlySet<string>): string[] {
  return [...set].map((b) => [backendRank(b), b] as const)
    .sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0))
    .map(([, b]) => b);
}

/**
 * Orders `ip:port` strings numerically (by address, then port).
 *
 * @param a backend
 * @param b backend
 * @returns negative, zero or positive
 */
export function compareBackends(a: string, b: string): number {
  return backendRank(a) - backendRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** What {@linkcode buildServiceLbSpec} returns. */
export interface ServiceLbBuild {
  /** The desired state; `undefined` when the service wants no load balancing. */
  spec: ServiceLbSpec | undefined;
  /** Problems worth one log line each (unsupported protocol, capped affinity). */
  warnings: string[];
}

/**
 * Builds the desired load balancing of a service.
 *
 * @param svc the service
 * @param eps its EndpointSlices (label `kubernetes.io/service-name`) and its Endpoints
 * @returns the spec (or `undefined`) and warnings
 */
export function buildServiceLbSpec(
  svc: ServiceLike,
  eps: { slices: readonly EndpointSliceLike[]; endpoints?: EndpointsLike | undefined },
): ServiceLbBuild {
  const key = `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
  const spec = svc.spec ?? {};
  const type = spec.type ?? "ClusterIP";
  const warnings: string[] = [];
  if (type === "ExternalName") return { spec: undefined, warnings };
  const clusterIps = [...new Set(spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP])]
    .filter(isIpv4);
  const externalIps = [...new Set(spec.externalIPs ?? [])].filter(isIpv4);
  const withNodePorts = type === "NodePort" || type === "LoadBalancer";
  let affinity = 0;
  if (spec.sessionAffinity === "ClientIP") {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT;
    affinity = Math.max(1, Math.min(MAX_AFFINITY_TIMEOUT, Math.floor(t)));
    if (t > MAX_AFFINITY_TIMEOUT) {
      warnings.push(
        `service ${key}: ClientIP affinity timeout ${t} s exceeds OVN's maximum; ` +
          `using ${MAX_AFFINITY_TIMEOUT} s`,
      );
    }
  }
  const protocols: Partial<Record<LbProtocol, ProtocolLbSpec>> = {};
  for (const sp of spec.ports ?? []) {
    const protocol = protocolOf(sp.protocol);
    if (!protocol) {
      warnings.push(
        `service ${key}: port ${sp.name ?? sp.port} has unsupported protocol ` +
          `${sp.protocol}; skipped`,
      );
      continue;
    }
    if (sp.port === undefined) continue;
    const backends = readyBackends(sp, eps.slices, eps.endpoints).join(",");
    const ps = protocols[protocol] ??= {
      vips: {},
      nodePorts: {},
      externalVips: {},
      affinityTimeout: affinity,
    };
    for (const ip of clusterIps) ps.vips[`${ip}:${sp.port}`] = backends;
    for (const ip of externalIps) {
      ps.vips[`${ip}:${sp.port}`] = backends;
      ps.externalVips[`${ip}:${sp.port}`] = backends;
    }
    if (withNodePorts && sp.nodePort) ps.nodePorts[String(sp.nodePort)] = backends;
  }
  for (const p of Object.keys(protocols) as LbProtocol[]) {
    const ps = protocols[p]!;
    if (!Object.keys(ps.vips).length && !Object.keys(ps.nodePorts).length) delete protocols[p];
  }
  if (Object.keys(protocols).length === 0) return { spec: undefined, warnings };
  return { spec: { service: key, protocols }, warnings };
}

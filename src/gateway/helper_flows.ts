/**
 * The gateway helper's OpenFlow tables on a shared bridge (reference §9): the host and
 * the OVN gateway router share one NIC, one IP and one MAC, so IP traffic is split by
 * connection tracking. Pure: ports and services in, the complete table set out (applied
 * with `ovs-ofctl --bundle replace-flows`, so a nodePort change or deletion is one
 * atomic swap, and flows nobody wants any more disappear with it).
 *
 * | table | prio | match | actions |
 * |---|---|---|---|
 * | 0 | 100 | `in_port=PATCH,ip` | `ct(commit,zone=Z)`, `output:NIC` (egress from OVN) |
 * | 0 | 100 | `in_port=NIC,tcp\|udp\|sctp,tp_dst=<nodePort>` | `output:PATCH` |
 * | 0 | 50 | `in_port=NIC,ip` | `ct(zone=Z,table=1)` |
 * | 0 | 0 | any | `NORMAL` (ARP, host traffic) |
 * | 1 | 100 | `ct_state=+trk+est` / `+trk+rel` | `output:PATCH` (replies to OVN) |
 * | 1 | 0 | any | `NORMAL` (to the host) |
 *
 * @module
 */
import type { Flow } from "../ovs/flows.ts";

/** The original's default conntrack zone. */
export const DEFAULT_CONNTRACK_ZONE = 64000;

/** A nodePort to steer to OVN. */
export interface NodePort {
  protocol: "tcp" | "udp" | "sctp";
  port: number;
}

/** The shape of a Service the helper reads (a structural subset of `V1Service`). */
export interface ServiceLike {
  spec?: {
    type?: string;
    ports?: Array<{ protocol?: string; nodePort?: number }>;
  };
}

/**
 * The nodePorts of a set of services: ports with a nodePort of NodePort and
 * LoadBalancer services (protocol default TCP), deduplicated and sorted.
 *
 * @param services the services
 * @returns the nodePorts
 */
export function nodePortsOf(services: Iterable<ServiceLike>): NodePort[] {
  const out = new Map<string, NodePort>();
  for (const s of services) {
    const type = s.spec?.type ?? "ClusterIP";
    if (type !== "NodePort" && type !== "LoadBalancer") continue;
    for (const p of s.spec?.ports ?? []) {
      const protocol = (p.protocol ?? "TCP").toLowerCase();
      if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") continue;
      if (!Number.isInteger(p.nodePort) || !(p.nodePort! > 0 && p.nodePort! < 65536)) continue;
      out.set(`${protocol}/${p.nodePort}`, { protocol, port: p.nodePort! });
    }
  }
  return [...out.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** Inputs of {@linkcode helperFlows}. */
export interface HelperFlowInput {
  /** OpenFlow port of the patch port toward br-int. */
  patch: number;
  /** OpenFlow port of the NIC. */
  nic: number;
  /** Conntrack zone. */
  zone: number;
  /** NodePorts to steer to OVN. */
  nodePorts: readonly NodePort[];
}

/**
 * The complete table set of the shared bridge.
 *
 * @param i ports, zone, nodePorts
 * @returns the flows
 */
export function helperFlows(i: HelperFlowInput): Flow[] {
  const flows: Flow[] = [
    {
      table: 0,
      priority: 100,
      match: `in_port=${i.patch},ip`,
      actions: `ct(commit,zone=${i.zone}),output:${i.nic}`,
    },
    { table: 0, priority: 50, match: `in_port=${i.nic},ip`, actions: `ct(zone=${i.zone},table=1)` },
    { table: 0, priority: 0, match: "", actions: "NORMAL" },
    { table: 1, priority: 100, match: "ct_state=+trk+est", actions: `output:${i.patch}` },
    { table: 1, priority: 100, match: "ct_state=+trk+rel", actions: `output:${i.patch}` },
    { table: 1, priority: 0, match: "", actions: "NORMAL" },
  ];
  for (const np of i.nodePorts) {
    flows.push({
      table: 0,
      priority: 100,
      match: `in_port=${i.nic},${np.protocol},tp_dst=${np.port}`,
      actions: `output:${i.patch}`,
    });
  }
  return flows;
}

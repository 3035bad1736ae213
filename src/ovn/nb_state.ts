/**
 * The slice of the OVN Northbound database that node initialisation reads, fetched in
 * one read-only transaction of `select`s (no writes, no monitor) and parsed into plain
 * rows. Only small tables are read whole; pod ports are never read.
 *
 * @module
 */
import type { Operation, OperationResult } from "../ovsdb/mod.ts";
import { Ipv4Cidr } from "../net/mod.ts";
import { ORIGINAL_IDS } from "./external_ids.ts";
import { makeManagementPortName } from "./names.ts";

/** A Logical_Router row (selected columns). */
export interface NbRouter {
  _uuid: string;
  name: string;
  external_ids: Record<string, string>;
}

/** A Logical_Router_Port row (selected columns). */
export interface NbRouterPort {
  _uuid: string;
  name: string;
  mac: string;
  networks: string[];
  external_ids: Record<string, string>;
}

/** A Logical_Switch row (selected columns; `ports` is not read). */
export interface NbSwitch {
  _uuid: string;
  name: string;
  other_config: Record<string, string>;
  external_ids: Record<string, string>;
  load_balancer: string[];
}

/** A Logical_Switch_Port row (selected columns). */
export interface NbSwitchPort {
  _uuid: string;
  name: string;
  type: string;
  addresses: string[];
  options: Record<string, string>;
  external_ids: Record<string, string>;
}

/** A Load_Balancer row (selected columns). */
export interface NbLoadBalancer {
  _uuid: string;
  name: string;
  protocol: string[];
  external_ids: Record<string, string>;
}

/** What node initialisation knows about NB. */
export interface NbState {
  /** Routers with `k8s-cluster-router=yes`. */
  clusterRouters: NbRouter[];
  /** Every router port. */
  routerPorts: NbRouterPort[];
  /** Every switch (without ports). */
  switches: NbSwitch[];
  /** Router-type switch ports and the node's management port. */
  switchPorts: NbSwitchPort[];
  /** Cluster TCP load balancers. */
  tcpLoadBalancers: NbLoadBalancer[];
  /** Cluster UDP load balancers. */
  udpLoadBalancers: NbLoadBalancer[];
}

/** An empty NB (tests, and the state of a fresh database). */
export const EMPTY_NB_STATE: NbState = {
  clusterRouters: [],
  routerPorts: [],
  switches: [],
  switchPorts: [],
  tcpLoadBalancers: [],
  udpLoadBalancers: [],
};

/**
 * The read-only operations that fetch {@linkcode NbState}.
 *
 * @param node lowercased node name (its management port is read too)
 * @returns select operations, to be sent in one transaction
 */
export function nbStateReadOps(node: string): Operation[] {
  const yes = (key: string) => [["external_ids", "includes", { [key]: "yes" }] as const];
  return [
    {
      op: "select",
      table: "Logical_Router",
      where: yes(ORIGINAL_IDS.clusterRouter),
      columns: ["_uuid", "name", "external_ids"],
    },
    {
      op: "select",
      table: "Logical_Router_Port",
      where: [],
      columns: ["_uuid", "name", "mac", "networks", "external_ids"],
    },
    {
      op: "select",
      table: "Logical_Switch",
      where: [],
      columns: ["_uuid", "name", "other_config", "external_ids", "load_balancer"],
    },
    {
      op: "select",
      table: "Logical_Switch_Port",
      where: [["type", "==", "router"]],
      columns: ["_uuid", "name", "type", "addresses", "options", "external_ids"],
    },
    {
      op: "select",
      table: "Logical_Switch_Port",
      where: [["name", "==", makeManagementPortName(node)]],
      columns: ["_uuid", "name", "type", "addresses", "options", "external_ids"],
    },
    {
      op: "select",
      table: "Load_Balancer",
      where: yes(ORIGINAL_IDS.clusterLbTcp),
      columns: ["_uuid", "name", "protocol", "external_ids"],
    },
    {
      op: "select",
      table: "Load_Balancer",
      where: yes(ORIGINAL_IDS.clusterLbUdp),
      columns: ["_uuid", "name", "protocol", "external_ids"],
    },
  ];
}

function rows<T>(r: OperationResult | undefined): T[] {
  return (r?.rows ?? []) as T[];
}

/**
 * Parses the results of {@linkcode nbStateReadOps}.
 *
 * @param results the transaction's results, in order
 * @returns the state; rows sorted by name so plans are stable
 */
export function parseNbState(results: readonly OperationResult[]): NbState {
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  return {
    clusterRouters: rows<NbRouter>(results[0]).sort(byName),
    routerPorts: rows<NbRouterPort>(results[1]).sort(byName),
    switches: rows<NbSwitch>(results[2]).sort(byName),
    switchPorts: [...rows<NbSwitchPort>(results[3]), ...rows<NbSwitchPort>(results[4])].sort(
      byName,
    ),
    tcpLoadBalancers: rows<NbLoadBalancer>(results[5]),
    udpLoadBalancers: rows<NbLoadBalancer>(results[6]),
  };
}

/**
 * The subnets of the node switches of other nodes (switches whose
 * `other_config:subnet` parses), by switch name.
 *
 * @param state NB state
 * @param exceptSwitch the switch to leave out (this node's)
 * @returns switch name -> subnet
 */
export function nodeSubnets(state: NbState, exceptSwitch?: string): Map<string, Ipv4Cidr> {
  const out = new Map<string, Ipv4Cidr>();
  for (const s of state.switches) {
    const text = s.other_config["subnet"];
    if (s.name === exceptSwitch || text === undefined) continue;
    try {
      out.set(s.name, Ipv4Cidr.parse(text));
    } catch {
      // Not ours to judge; an unparsable subnet blocks nothing.
    }
  }
  return out;
}

/**
 * A node's logical objects (reference §6.3): the node switch with
 * `other_config:subnet` and `external_ids:gateway_ip`, the cluster router's `rtos-`
 * port at `.1`, the switch's `stor-` router port, the management port `k8s-<node>` at
 * `.2` with its pinned MAC, and the cluster load balancers on the switch. Pure.
 *
 * Quirks fixed: a changed subnet rewrites the router port's networks, the switch's
 * subnet and gateway_ip and the management address (the original left stale networks);
 * unchanged input yields no operation.
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";
import { formatIpv4, type Ipv4Cidr, macFromIpv4, parseMac } from "../net/mod.ts";
import { planRow, type RowPlan } from "./_diff.ts";
import { insertRefs, type RouterRef } from "./cluster_ops.ts";
import { ORIGINAL_IDS, ownerIds, SUBNET_ALLOCATED_ID } from "./external_ids.ts";
import {
  makeManagementPortName,
  makeNodeSwitchName,
  makeRouterToSwitchPortName,
  makeSwitchToRouterPortName,
} from "./names.ts";
import type { NbState } from "./nb_state.ts";

/** Inputs of {@linkcode planNode}. */
export interface NodePlanInput {
  /** Lowercased node name. */
  node: string;
  /** The node subnet. */
  subnet: Ipv4Cidr;
  /** The management port's MAC (see {@linkcode chooseManagementMac}). */
  managementMac: string;
  /** The cluster router. */
  router: RouterRef;
  /** Cluster load balancers to attach to the node switch (uuids or uuid-names). */
  loadBalancers: readonly string[];
  /** Whether the subnet was allocated by ovn-k8s (`--node-subnet auto`). */
  allocated?: boolean;
}

/**
 * The node switch's router port address (`.1`) and the management address (`.2`).
 *
 * @param subnet node subnet
 * @returns the two addresses as dotted quads
 */
export function nodeAddresses(subnet: Ipv4Cidr): { routerIp: string; managementIp: string } {
  return { routerIp: formatIpv4(subnet.host(1)), managementIp: formatIpv4(subnet.host(2)) };
}

/**
 * Picks the management port's MAC so re-runs reuse it: the MAC already in the logical
 * port's addresses, else the one pinned on the OVS interface, else one derived from the
 * management address.
 *
 * @param state NB state
 * @param node lowercased node name
 * @param subnet node subnet
 * @param ovsMac the OVS interface's `mac` column, if set
 * @returns the MAC, lowercase
 */
export function chooseManagementMac(
  state: NbState,
  node: string,
  subnet: Ipv4Cidr,
  ovsMac?: string,
): string {
  const lsp = state.switchPorts.find((p) => p.name === makeManagementPortName(node));
  const fromNb = parseMac(lsp?.addresses[0]?.split(/\s+/)[0] ?? "");
  return fromNb ?? (ovsMac ? parseMac(ovsMac) : undefined) ?? macFromIpv4(subnet.host(2));
}

/**
 * Plans a node's logical objects.
 *
 * @param state NB state
 * @param input node, subnet, MAC and cluster references
 * @returns operations, inserts first (empty when NB already matches)
 */
export function planNode(state: NbState, input: NodePlanInput): Operation[] {
  const { node, subnet } = input;
  const { routerIp, managementIp } = nodeAddresses(subnet);
  const prefix = subnet.prefix;
  const switchName = makeNodeSwitchName(node);
  const rtosName = makeRouterToSwitchPortName(node);
  const storName = makeSwitchToRouterPortName(node);
  const mgmtName = makeManagementPortName(node);
  const plans: RowPlan[] = [];

  const rtosRow = state.routerPorts.find((p) => p.name === rtosName);
  const rtosMac = rtosRow?.mac || macFromIpv4(subnet.host(1));
  const rtos = planRow(rtosRow, {
    table: "Logical_Router_Port",
    uuidName: "rtos_port",
    columns: { networks: [`${routerIp}/${prefix}`] },
    maps: { external_ids: ownerIds("router-switch-port", node) },
    onInsert: { name: rtosName, mac: rtosMac },
  });
  plans.push(rtos);

  const switchRow = state.switches.find((s) => s.name === switchName);
  const ls = planRow(switchRow, {
    table: "Logical_Switch",
    uuidName: "node_switch",
    columns: {},
    maps: {
      other_config: { subnet: subnet.toString() },
      external_ids: {
        [ORIGINAL_IDS.gatewayIp]: `${routerIp}/${prefix}`,
        ...(input.allocated ? { [SUBNET_ALLOCATED_ID]: "auto" } : {}),
        ...ownerIds("node-switch", node),
      },
    },
    onInsert: { name: switchName },
  });
  plans.push(ls);

  const stor = planRow(state.switchPorts.find((p) => p.name === storName), {
    table: "Logical_Switch_Port",
    uuidName: "stor_port",
    columns: { type: "router", addresses: [rtosMac] },
    maps: {
      options: { "router-port": rtosName },
      external_ids: ownerIds("switch-router-port", node),
    },
    onInsert: { name: storName },
  });
  plans.push(stor);

  const mgmt = planRow(state.switchPorts.find((p) => p.name === mgmtName), {
    table: "Logical_Switch_Port",
    uuidName: "mgmt_port",
    columns: { addresses: [`${input.managementMac} ${managementIp}`] },
    maps: { external_ids: ownerIds("management-port", node) },
    onInsert: { name: mgmtName },
  });
  plans.push(mgmt);

  const attach: Operation[] = [];
  if (rtos.created) {
    attach.push(insertRefs("Logical_Router", input.router.ref, "ports", [rtos.ref]));
  }
  const newPorts = [stor, mgmt].filter((p) => p.created).map((p) => p.ref);
  if (newPorts.length) attach.push(insertRefs("Logical_Switch", ls.ref, "ports", newPorts));
  const haveLbs = new Set(switchRow?.load_balancer ?? []);
  const missingLbs = input.loadBalancers.filter((lb) => !haveLbs.has(lb));
  if (missingLbs.length) {
    attach.push(insertRefs("Logical_Switch", ls.ref, "load_balancer", missingLbs));
  }

  return [
    ...plans.flatMap((p) => p.insert ? [p.insert] : []),
    ...plans.flatMap((p) => p.changes),
    ...attach,
  ];
}

/**
 * A `wait` that fails the transaction when any switch's `other_config` changed since
 * `state` was read: it makes `--node-subnet auto` race-free (two nodes that chose the
 * same free subnet cannot both commit; the loser re-reads and picks the next one).
 *
 * @param state NB state the choice was made from
 * @returns the wait operation (put it first in the transaction)
 */
export function subnetGuardOp(state: NbState): Operation {
  return {
    op: "wait",
    table: "Logical_Switch",
    where: [],
    columns: ["name", "other_config"],
    until: "==",
    rows: state.switches.map((s) => ({ name: s.name, other_config: s.other_config })),
    timeout: 0,
  };
}

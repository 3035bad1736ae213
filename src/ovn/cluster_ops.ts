/**
 * Cluster-wide objects made by master-init (reference §4 steps 2-5): the cluster
 * router (found by `external_ids:k8s-cluster-router=yes`), the cluster TCP and UDP
 * load balancers, the join switch and the router's join port. Pure: state in,
 * operations out; an unchanged cluster yields no operation.
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";
import { Ipv4Cidr, macFromIpv4, parseIpv4 } from "../net/mod.ts";
import { planRow, type RowPlan } from "./_diff.ts";
import { CLUSTER_SUBNET_ID, ORIGINAL_IDS, ownerIds } from "./external_ids.ts";
import {
  CLUSTER_ROUTER_NAME,
  JOIN_ROUTER_IP,
  JOIN_SUBNET,
  JOIN_SWITCH_NAME,
  makeJoinToRouterPortName,
  makeRouterToJoinPortName,
} from "./names.ts";
import type { NbRouter, NbState } from "./nb_state.ts";

/** A reference to the cluster router inside a transaction. */
export interface RouterRef {
  /** Its uuid, or the uuid-name when this transaction creates it. */
  ref: string;
  /** Its name (the original used the master's node name). */
  name: string;
}

/** What {@linkcode planCluster} returns. */
export interface ClusterPlan {
  /** Operations, inserts first. */
  ops: Operation[];
  /** The cluster router. */
  router: RouterRef;
  /** The cluster load balancers (uuids or uuid-names), TCP then UDP. */
  loadBalancers: string[];
}

/**
 * The cluster router of a state: the one with `k8s-cluster-router=yes` (the first by
 * name if several).
 *
 * @param state NB state
 * @returns the router row, or `undefined`
 */
export function findClusterRouter(state: NbState): NbRouter | undefined {
  return state.clusterRouters[0];
}

/**
 * The cluster subnet recorded on the cluster router by master-init.
 *
 * @param state NB state
 * @returns the subnet, or `undefined` when none is recorded (or the cluster was made
 *   by the original, which recorded none)
 */
export function recordedClusterSubnet(state: NbState): Ipv4Cidr | undefined {
  const text = findClusterRouter(state)?.external_ids[CLUSTER_SUBNET_ID];
  try {
    return text === undefined ? undefined : Ipv4Cidr.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Plans the cluster-wide objects.
 *
 * @param state NB state
 * @param clusterSubnet the cluster subnet (recorded on the router)
 * @returns operations plus references for the node plan
 */
export function planCluster(state: NbState, clusterSubnet: Ipv4Cidr): ClusterPlan {
  const existing = findClusterRouter(state);
  const routerName = existing?.name ?? CLUSTER_ROUTER_NAME;
  const plans: RowPlan[] = [];
  const router = planRow(existing, {
    table: "Logical_Router",
    uuidName: "cluster_router",
    columns: {},
    maps: {
      external_ids: {
        [ORIGINAL_IDS.clusterRouter]: "yes",
        [CLUSTER_SUBNET_ID]: clusterSubnet.toString(),
        ...ownerIds("cluster-router"),
      },
    },
    onInsert: { name: routerName },
  });
  plans.push(router);

  const lb = (key: string, protocol: string, uuidName: string, rows = state.tcpLoadBalancers) =>
    planRow(rows[0], {
      table: "Load_Balancer",
      uuidName,
      columns: {},
      maps: { external_ids: { [key]: "yes", ...ownerIds(`cluster-lb-${protocol}`) } },
      onInsert: { protocol: [protocol] },
    });
  const tcp = lb(ORIGINAL_IDS.clusterLbTcp, "tcp", "cluster_lb_tcp", state.tcpLoadBalancers);
  const udp = lb(ORIGINAL_IDS.clusterLbUdp, "udp", "cluster_lb_udp", state.udpLoadBalancers);
  plans.push(tcp, udp);

  const join = planRow(state.switches.find((s) => s.name === JOIN_SWITCH_NAME), {
    table: "Logical_Switch",
    uuidName: "join_switch",
    columns: {},
    maps: { external_ids: ownerIds("join-switch") },
    onInsert: { name: JOIN_SWITCH_NAME },
  });
  plans.push(join);

  const rtojName = makeRouterToJoinPortName(routerName);
  const joinPrefix = Ipv4Cidr.parse(JOIN_SUBNET).prefix;
  const rtojRow = state.routerPorts.find((p) => p.name === rtojName);
  // MACs of existing ports are reused (the original's were random); new ones derive from the IP.
  const rtojMac = rtojRow?.mac || macFromIpv4(parseIpv4(JOIN_ROUTER_IP)!);
  const rtoj = planRow(rtojRow, {
    table: "Logical_Router_Port",
    uuidName: "rtoj_port",
    columns: { networks: [`${JOIN_ROUTER_IP}/${joinPrefix}`] },
    maps: {
      external_ids: { [ORIGINAL_IDS.connectToJoin]: "yes", ...ownerIds("router-join-port") },
    },
    onInsert: { name: rtojName, mac: rtojMac },
  });
  plans.push(rtoj);

  const jtorName = makeJoinToRouterPortName(routerName);
  const jtor = planRow(state.switchPorts.find((p) => p.name === jtorName), {
    table: "Logical_Switch_Port",
    uuidName: "jtor_port",
    columns: { type: "router", addresses: [rtojMac] },
    maps: { options: { "router-port": rtojName }, external_ids: ownerIds("join-router-port") },
    onInsert: { name: jtorName },
  });
  plans.push(jtor);

  const attach: Operation[] = [];
  if (rtoj.created) attach.push(insertRefs("Logical_Router", router.ref, "ports", [rtoj.ref]));
  if (jtor.created) attach.push(insertRefs("Logical_Switch", join.ref, "ports", [jtor.ref]));

  return {
    ops: [
      ...plans.flatMap((p) => p.insert ? [p.insert] : []),
      ...plans.flatMap((p) => p.changes),
      ...attach,
    ],
    router: { ref: router.ref, name: routerName },
    loadBalancers: [tcp.ref, udp.ref],
  };
}

/**
 * A mutation adding references to a set column of one row.
 *
 * @param table the parent table
 * @param ref the parent's uuid or uuid-name
 * @param column the set column
 * @param refs uuids or uuid-names to add
 * @returns the mutate operation
 */
export function insertRefs(table: string, ref: string, column: string, refs: string[]): Operation {
  return {
    op: "mutate",
    table,
    where: [["_uuid", "==", ref]],
    mutations: [[column, "insert", refs]],
  };
}

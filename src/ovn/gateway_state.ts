/**
 * The slice of OVN NB that gateway-init reads (reference §7): the node-init state plus
 * every logical router (gateway routers are few), static routes, NAT rows, this gateway
 * router's load balancers and its external switch port, in one read-only transaction.
 *
 * @module
 */
import type { Operation, OperationResult } from "../ovsdb/mod.ts";
import { type NbState, nbStateReadOps, type NbSwitchPort, parseNbState } from "./nb_state.ts";
import { OWNER_IDS } from "./external_ids.ts";
import { gatewayLbIdKey, LB_PROTOCOLS, type LbProtocol } from "./lb_layout.ts";

/** A Logical_Router row with the columns gateway-init needs. */
export interface GwRouter {
  _uuid: string;
  name: string;
  ports: string[];
  options: Record<string, string>;
  external_ids: Record<string, string>;
  static_routes: string[];
  nat: string[];
  load_balancer: string[];
}

/** A Logical_Router_Static_Route row. */
export interface GwRoute {
  _uuid: string;
  ip_prefix: string;
  nexthop: string;
  policy: string[];
  output_port: string[];
  external_ids: Record<string, string>;
}

/** A NAT row. */
export interface GwNat {
  _uuid: string;
  type: string;
  logical_ip: string;
  external_ip: string;
  external_ids: Record<string, string>;
}

/** A Load_Balancer row (selected columns). */
export interface GwLoadBalancer {
  _uuid: string;
  name: string;
  protocol: string[];
  external_ids: Record<string, string>;
}

/** What gateway-init knows about NB. */
export interface GatewayNbState {
  /** The node-init slice (cluster router, router ports, switches, router-type LSPs). */
  base: NbState;
  /** Every logical router, sorted by name. */
  routers: GwRouter[];
  /** Every static route. */
  routes: GwRoute[];
  /** Every NAT row. */
  nats: GwNat[];
  /** This gateway router's load balancers by protocol (found by the original's keys). */
  gatewayLbs: Record<LbProtocol, GwLoadBalancer[]>;
  /** The external switch's port toward the outside (`<iface>_<node>`), if present. */
  externalPort: NbSwitchPort | undefined;
  /** Ports toward the outside that gateway-init made for this node (any interface). */
  ownedExternalPorts: NbSwitchPort[];
}

const ROUTER_COLUMNS = [
  "_uuid",
  "name",
  "ports",
  "options",
  "external_ids",
  "static_routes",
  "nat",
  "load_balancer",
];

/**
 * The read-only operations that fetch {@linkcode GatewayNbState}.
 *
 * @param node lowercased node name
 * @param router the gateway router's name (`GR_<node>`)
 * @param externalPort the external port's name (`<iface>_<node>`)
 * @returns select operations for one transaction
 */
export function gatewayStateReadOps(
  node: string,
  router: string,
  externalPort: string,
): Operation[] {
  return [
    ...nbStateReadOps(node),
    { op: "select", table: "Logical_Router", where: [], columns: ROUTER_COLUMNS },
    {
      op: "select",
      table: "Logical_Router_Static_Route",
      where: [],
      columns: ["_uuid", "ip_prefix", "nexthop", "policy", "output_port", "external_ids"],
    },
    {
      op: "select",
      table: "NAT",
      where: [],
      columns: ["_uuid", "type", "logical_ip", "external_ip", "external_ids"],
    },
    ...LB_PROTOCOLS.map((p): Operation => ({
      op: "select",
      table: "Load_Balancer",
      where: [["external_ids", "includes", { [gatewayLbIdKey(p)]: router }]],
      columns: ["_uuid", "name", "protocol", "external_ids"],
    })),
    {
      op: "select",
      table: "Logical_Switch_Port",
      where: [["name", "==", externalPort]],
      columns: ["_uuid", "name", "type", "addresses", "options", "external_ids"],
    },
    {
      op: "select",
      table: "Logical_Switch_Port",
      where: [[
        "external_ids",
        "includes",
        {
          [OWNER_IDS.controller]: "gateway-init",
          [OWNER_IDS.kind]: "external-port",
          [OWNER_IDS.key]: node,
        },
      ]],
      columns: ["_uuid", "name", "type", "addresses", "options", "external_ids"],
    },
  ];
}

function rows<T>(r: OperationResult | undefined): T[] {
  return (r?.rows ?? []) as T[];
}

/**
 * Parses the results of {@linkcode gatewayStateReadOps}.
 *
 * @param results the transaction's results, in order
 * @returns the state
 */
export function parseGatewayState(results: readonly OperationResult[]): GatewayNbState {
  const n = nbStateReadOps("x").length;
  const lbs = {} as Record<LbProtocol, GwLoadBalancer[]>;
  LB_PROTOCOLS.forEach((p, i) => {
    lbs[p] = rows<GwLoadBalancer>(results[n + 3 + i]).sort((a, b) =>
      a._uuid.localeCompare(b._uuid)
    );
  });
  return {
    base: parseNbState(results.slice(0, n)),
    routers: rows<GwRouter>(results[n]).sort((a, b) => a.name.localeCompare(b.name)),
    routes: rows<GwRoute>(results[n + 1]),
    nats: rows<GwNat>(results[n + 2]),
    gatewayLbs: lbs,
    externalPort: rows<NbSwitchPort>(results[n + 3 + LB_PROTOCOLS.length])[0],
    ownedExternalPorts: rows<NbSwitchPort>(results[n + 4 + LB_PROTOCOLS.length]),
  };
}

/**
 * A node's gateway router and its wiring (reference §7, lab §5), planned purely: state
 * in, operations out; an unchanged gateway yields no operation at all.
 *
 * Objects: `GR_<node>` pinned to the chassis (`options:chassis`), with
 * `external_ids:physical_ip` and `options:lb_force_snat_ip=router_ip`; its join port
 * `rtoj-GR_<node>` (an address from 100.64.1.0/24, `connect_to_join=yes`) and the join
 * switch's `jtor-GR_<node>`; the external switch `ext_<node>` with the port toward the
 * outside (`<iface>_<node>`: a VIF for a dedicated NIC, a localnet port for a shared
 * bridge) and `etor-GR_<node>`; `rtoe-GR_<node>` with the physical MAC and IP; routes
 * (GR: cluster subnet via the cluster router, default via `--default-gw` out `rtoe-`;
 * cluster router: a default route to the first gateway, src-ip routes for this node's
 * subnet and the rampout subnets, a /32 to the join IP: lab gotcha G5); ONE SNAT row;
 * the per-router TCP, UDP and SCTP load balancers the watcher fills.
 *
 * Quirks of the original fixed here: the SNAT row is planned, not appended (duplicates
 * left by the original are removed); `first_gateway` is written only when the router is
 * created; `lb_force_snat_ip` and the rampout routes are applied on every run (stale
 * rampout routes we made are removed); the cluster router's default route points at the
 * join IP of the gateway that made it, not at a hard-wired 100.64.1.2.
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";
import { formatIpv4, Ipv4Cidr, macFromIpv4, parseIpv4 } from "../net/mod.ts";
import { planRow, type RowPlan } from "./_diff.ts";
import { insertRefs } from "./cluster_ops.ts";
import { ORIGINAL_IDS, OWNER_IDS, ownerIds } from "./external_ids.ts";
import type { GatewayNbState, GwRoute, GwRouter } from "./gateway_state.ts";
import { GATEWAY_LB_KIND, gatewayLbIdKey, LB_PROTOCOLS, makeGatewayLbName } from "./lb_layout.ts";
import {
  JOIN_ROUTER_IP,
  JOIN_SUBNET,
  JOIN_SWITCH_NAME,
  makeJoinToRouterPortName,
  makeNodeSwitchName,
  makeRouterToJoinPortName,
} from "./names.ts";

/** The controller name on rows made by gateway-init. */
export const GATEWAY_CONTROLLER = "gateway-init";
/** On `rtoe-GR_<node>`: `yes` (the original's key). */
export const GATEWAY_PHYSICAL_IP_ID = "gateway-physical-ip";

/** @returns the gateway router's name: `GR_<node>` */
export function makeGatewayRouterName(node: string): string {
  return `GR_${node}`;
}

/** @returns the external switch's name: `ext_<node>` */
export function makeExternalSwitchName(node: string): string {
  return `ext_${node}`;
}

/** @returns the gateway router's external port: `rtoe-GR_<node>` */
export function makeRouterToExternalPortName(router: string): string {
  return `rtoe-${router}`;
}

/** @returns the external switch's router-type port: `etor-GR_<node>` */
export function makeExternalToRouterPortName(router: string): string {
  return `etor-${router}`;
}

/**
 * @param iface the dedicated NIC or the shared bridge
 * @param node lowercased node name
 * @returns the external switch's port toward the outside (and the OVS iface-id): `<iface>_<node>`
 */
export function makeExternalPortName(iface: string, node: string): string {
  return `${iface}_${node}`;
}

/** How the external switch reaches the outside. */
export type ExternalAttachment =
  /** The NIC is an OVS port on br-int with `iface-id=<iface>_<node>`. */
  | { kind: "vif" }
  /** A localnet port; ovn-controller patches br-int to the bridge named by `ovn-bridge-mappings`. */
  | { kind: "localnet"; network: string };

/** Inputs of {@linkcode planGateway}. */
export interface GatewayInitInput {
  /** Lowercased node name. */
  node: string;
  /** This host's chassis name (`external_ids:system-id`). */
  chassis: string;
  /** The cluster subnet. */
  clusterSubnet: Ipv4Cidr;
  /** The gateway's external address and its prefix length. */
  physicalIp: string;
  physicalPrefix: number;
  /** The MAC of the NIC or bridge (the router's external port takes it). */
  mac: string;
  /** External next hop. */
  defaultGw?: string | undefined;
  /** The external port's name (`<iface>_<node>`). */
  externalPortName: string;
  /** VIF or localnet. */
  attachment: ExternalAttachment;
  /** Sources whose egress leaves through this gateway (src-ip routes on the cluster router). */
  rampout: readonly Ipv4Cidr[];
}

/** What {@linkcode planGateway} returns. */
export interface GatewayInitPlan {
  /** Operations: a guard first when a join IP is allocated, then inserts, then changes. */
  ops: Operation[];
  /** The gateway router's join IP. */
  joinIp: string;
  /** Whether the join IP is allocated by this plan (the guard makes it race-free). */
  allocated: boolean;
}

const JOIN = Ipv4Cidr.parse(JOIN_SUBNET);

/** Normalises a route prefix (`a.b.c.d` means /32) for comparison. */
function normPrefix(p: string): string {
  const text = p.includes("/") ? p : `${p}/32`;
  try {
    return Ipv4Cidr.parse(text).toString();
  } catch {
    return p;
  }
}

/** The join addresses in use: networks of join-connected router ports, by port name. */
function joinAddressesInUse(state: GatewayNbState): Map<number, string> {
  const used = new Map<number, string>();
  for (const p of state.base.routerPorts) {
    if (p.external_ids[ORIGINAL_IDS.connectToJoin] !== "yes" && !p.name.startsWith("rtoj-")) {
      continue;
    }
    for (const n of p.networks) {
      const ip = parseIpv4(n.split("/")[0] ?? "");
      if (ip !== undefined && JOIN.contains(ip)) used.set(ip, p.name);
    }
  }
  return used;
}

/**
 * Chooses the gateway router's join IP: the one its join port already has, else the
 * lowest free address of 100.64.1.0/24 (never the network, `.1` or the broadcast).
 *
 * @param state NB state
 * @param router the gateway router's name
 * @returns the address and whether it is new
 * @throws {RangeError} when the join subnet is full
 */
export function chooseJoinIp(
  state: GatewayNbState,
  router: string,
): { ip: string; allocated: boolean } {
  const own = state.base.routerPorts.find((p) => p.name === makeRouterToJoinPortName(router));
  const ownIp = own?.networks.map((n) => n.split("/")[0] ?? "").find((a) => {
    const n = parseIpv4(a);
    return n !== undefined && JOIN.contains(n);
  });
  if (ownIp) return { ip: ownIp, allocated: false };
  const used = joinAddressesInUse(state);
  used.set(parseIpv4(JOIN_ROUTER_IP)!, "cluster router");
  for (let i = 1; i < JOIN.size - 1; i++) {
    const ip = JOIN.host(i);
    if (!used.has(ip)) return { ip: formatIpv4(ip), allocated: true };
  }
  throw new RangeError(
    `Cannot allocate a join IP for ${router}: ${JOIN_SUBNET} is full (${used.size} router ` +
      "ports); remove the gateway routers of nodes that are gone",
  );
}

/**
 * A `wait` that fails the transaction when any join-connected router port changed since
 * `state` was read: two gateways that picked the same free join IP cannot both commit.
 *
 * @param state NB state the choice was made from
 * @returns the wait operation
 */
export function joinGuardOp(state: GatewayNbState): Operation {
  const rows = state.base.routerPorts
    .filter((p) => p.external_ids[ORIGINAL_IDS.connectToJoin] === "yes")
    .map((p) => ({ name: p.name, networks: p.networks }));
  return {
    op: "wait",
    table: "Logical_Router_Port",
    where: [["external_ids", "includes", { [ORIGINAL_IDS.connectToJoin]: "yes" }]],
    columns: ["name", "networks"],
    until: "==",
    rows,
    timeout: 0,
  };
}

interface DesiredRoute {
  prefix: string;
  nexthop: string;
  srcIp: boolean;
  outputPort?: string;
  kind: string;
  /** Keep an existing route with this prefix and policy as it is when this says so. */
  keepExisting?: (existing: GwRoute) => boolean;
  /** Leave an existing route of another node alone when it has one of these kinds. */
  yieldTo?: ReadonlySet<string>;
}

/** Collects reference insertions and deletions per row, one mutate per row and column. */
class RefChanges {
  #m = new Map<
    string,
    { table: string; ref: string; column: string; ins: string[]; del: string[] }
  >();
  add(table: string, ref: string, column: string, op: "ins" | "del", refs: string[]): void {
    if (!refs.length) return;
    const k = `${table}/${ref}/${column}`;
    let e = this.#m.get(k);
    if (!e) this.#m.set(k, e = { table, ref, column, ins: [], del: [] });
    e[op].push(...refs);
  }
  ops(): Operation[] {
    const out: Operation[] = [];
    for (const e of this.#m.values()) {
      if (e.del.length) out.push(delRefs(e.table, e.ref, e.column, e.del));
      if (e.ins.length) out.push(insertRefs(e.table, e.ref, e.column, e.ins));
    }
    return out;
  }
}

function delRefs(table: string, ref: string, column: string, refs: string[]): Operation {
  return {
    op: "mutate",
    table,
    where: [["_uuid", "==", ref]],
    mutations: [[column, "delete", refs]],
  };
}

/**
 * Plans routes on one router: each desired route matched by prefix and policy (updated
 * when its next hop or output port differ), inserted when missing; routes we made for
 * this node with one of `ownedKinds` that are no longer desired are detached.
 */
function planRoutes(
  state: GatewayNbState,
  router: { row: GwRouter | undefined; ref: string },
  want: DesiredRoute[],
  node: string,
  ownedKinds: ReadonlySet<string>,
  refs: RefChanges,
  uuidPrefix: string,
): RowPlan[] {
  const byUuid = new Map(state.routes.map((r) => [r._uuid, r]));
  const current = (router.row?.static_routes ?? []).map((u) => byUuid.get(u)).filter(
    (r): r is GwRoute => r !== undefined,
  );
  const isSrc = (r: GwRoute) => r.policy[0] === "src-ip";
  const matched = new Set<string>();
  const plans: RowPlan[] = [];
  want.forEach((w, i) => {
    const prefix = normPrefix(w.prefix);
    const found = current.find((r) =>
      !matched.has(r._uuid) && normPrefix(r.ip_prefix) === prefix && isSrc(r) === w.srcIp
    );
    if (found) matched.add(found._uuid);
    if (found && w.keepExisting?.(found)) return;
    if (
      found && w.yieldTo?.has(found.external_ids[OWNER_IDS.kind] ?? "") &&
      found.external_ids[OWNER_IDS.key] !== node
    ) return;
    const p = planRow(found, {
      table: "Logical_Router_Static_Route",
      uuidName: `${uuidPrefix}_route${i}`,
      columns: {
        nexthop: w.nexthop,
        output_port: w.outputPort ? [w.outputPort] : [],
        policy: w.srcIp ? ["src-ip"] : [],
      },
      maps: { external_ids: ownerIds(w.kind, node, GATEWAY_CONTROLLER) },
      onInsert: { ip_prefix: w.prefix },
    });
    plans.push(p);
    if (p.created) refs.add("Logical_Router", router.ref, "static_routes", "ins", [p.ref]);
  });
  const stale = current.filter((r) =>
    !matched.has(r._uuid) && r.external_ids[OWNER_IDS.key] === node &&
    r.external_ids[OWNER_IDS.controller] === GATEWAY_CONTROLLER &&
    ownedKinds.has(r.external_ids[OWNER_IDS.kind] ?? "")
  );
  refs.add("Logical_Router", router.ref, "static_routes", "del", stale.map((r) => r._uuid));
  return plans;
}

/**
 * Plans a node's gateway.
 *
 * @param state NB state ({@linkcode parseGatewayState})
 * @param input the gateway's inputs
 * @returns operations (empty when NB already matches), the join IP
 * @throws {RangeError} when the cluster router or the join switch is missing, or the
 *   join subnet is full
 */
export function planGateway(state: GatewayNbState, input: GatewayInitInput): GatewayInitPlan {
  const { node } = input;
  const cluster = state.base.clusterRouters[0];
  if (!cluster) {
    throw new RangeError(
      "Cannot plan the gateway: OVN NB has no cluster router (external_ids:k8s-cluster-router=yes); " +
        "run master-init first",
    );
  }
  const joinSwitch = state.base.switches.find((s) => s.name === JOIN_SWITCH_NAME);
  if (!joinSwitch) {
    throw new RangeError(
      `Cannot plan the gateway: OVN NB has no "${JOIN_SWITCH_NAME}" switch; run master-init first`,
    );
  }
  const grName = makeGatewayRouterName(node);
  const grRow = state.routers.find((r) => r.name === grName);
  const clusterRow = state.routers.find((r) => r._uuid === cluster._uuid);
  const { ip: joinIp, allocated } = chooseJoinIp(state, grName);
  const plans: RowPlan[] = [];
  const refs = new RefChanges();
  const ids = (kind: string) => ownerIds(kind, node, GATEWAY_CONTROLLER);

  // The gateway router.
  const firstGateway = !state.routers.some((r) =>
    r.name !== grName && (r.options["chassis"] ?? "") !== ""
  );
  const gr = planRow(grRow, {
    table: "Logical_Router",
    uuidName: "gw_router",
    columns: {},
    maps: {
      options: { chassis: input.chassis, lb_force_snat_ip: "router_ip" },
      external_ids: {
        // first_gateway is decided once, when the router is made (never flipped on re-runs).
        ...(grRow ? {} : { first_gateway: firstGateway ? "yes" : "no" }),
        physical_ip: input.physicalIp,
        ...ids("gateway-router"),
      },
    },
    onInsert: { name: grName },
  });
  plans.push(gr);

  // Join side.
  const rtojName = makeRouterToJoinPortName(grName);
  const rtojRow = state.base.routerPorts.find((p) => p.name === rtojName);
  const rtojMac = rtojRow?.mac || macFromIpv4(parseIpv4(joinIp)!);
  const rtoj = planRow(rtojRow, {
    table: "Logical_Router_Port",
    uuidName: "gw_rtoj",
    columns: { networks: [`${joinIp}/${JOIN.prefix}`] },
    maps: { external_ids: { [ORIGINAL_IDS.connectToJoin]: "yes", ...ids("gateway-join-port") } },
    onInsert: { name: rtojName, mac: rtojMac },
  });
  plans.push(rtoj);
  const jtorName = makeJoinToRouterPortName(grName);
  const jtor = planRow(state.base.switchPorts.find((p) => p.name === jtorName), {
    table: "Logical_Switch_Port",
    uuidName: "gw_jtor",
    columns: { type: "router", addresses: [rtojMac] },
    maps: { options: { "router-port": rtojName }, external_ids: ids("join-gateway-port") },
    onInsert: { name: jtorName },
  });
  plans.push(jtor);

  // External side.
  const extName = makeExternalSwitchName(node);
  const ext = planRow(state.base.switches.find((s) => s.name === extName), {
    table: "Logical_Switch",
    uuidName: "gw_ext",
    columns: {},
    maps: { external_ids: ids("external-switch") },
    onInsert: { name: extName },
  });
  plans.push(ext);
  const rtoeName = makeRouterToExternalPortName(grName);
  const rtoe = planRow(state.base.routerPorts.find((p) => p.name === rtoeName), {
    table: "Logical_Router_Port",
    uuidName: "gw_rtoe",
    columns: { mac: input.mac, networks: [`${input.physicalIp}/${input.physicalPrefix}`] },
    maps: { external_ids: { [GATEWAY_PHYSICAL_IP_ID]: "yes", ...ids("gateway-external-port") } },
    onInsert: { name: rtoeName },
  });
  plans.push(rtoe);
  const etorName = makeExternalToRouterPortName(grName);
  const etor = planRow(state.base.switchPorts.find((p) => p.name === etorName), {
    table: "Logical_Switch_Port",
    uuidName: "gw_etor",
    columns: { type: "router", addresses: [input.mac] },
    maps: { options: { "router-port": rtoeName }, external_ids: ids("external-router-port") },
    onInsert: { name: etorName },
  });
  plans.push(etor);
  const a = input.attachment;
  const outside = planRow(state.externalPort, {
    table: "Logical_Switch_Port",
    uuidName: "gw_outside",
    columns: {
      type: a.kind === "localnet" ? "localnet" : "",
      addresses: ["unknown"],
    },
    maps: {
      options: a.kind === "localnet" ? { network_name: a.network } : {},
      external_ids: ids("external-port"),
    },
    onInsert: { name: input.externalPortName },
  });
  plans.push(outside);

  refs.add(
    "Logical_Router",
    gr.ref,
    "ports",
    "ins",
    [rtoj, rtoe].filter((p) => p.created).map((
      p,
    ) => p.ref),
  );
  refs.add("Logical_Switch", joinSwitch._uuid, "ports", "ins", jtor.created ? [jtor.ref] : []);
  refs.add(
    "Logical_Switch",
    ext.ref,
    "ports",
    "ins",
    [etor, outside].filter((p) => p.created).map((p) => p.ref),
  );
  // A port toward the outside we made for another interface (the mode or NIC changed).
  refs.add(
    "Logical_Switch",
    ext.ref,
    "ports",
    "del",
    state.ownedExternalPorts.filter((p) => p.name !== input.externalPortName).map((p) => p._uuid),
  );

  // Routes on the gateway router.
  const grRoutes: DesiredRoute[] = [
    {
      prefix: input.clusterSubnet.toString(),
      nexthop: JOIN_ROUTER_IP,
      srcIp: false,
      kind: "gateway-cluster-route",
    },
  ];
  if (input.defaultGw) {
    grRoutes.push({
      prefix: "0.0.0.0/0",
      nexthop: input.defaultGw,
      srcIp: false,
      outputPort: rtoeName,
      kind: "gateway-default-route",
    });
  }
  plans.push(
    ...planRoutes(
      state,
      { row: grRow, ref: gr.ref },
      grRoutes,
      node,
      new Set(["gateway-default-route"]),
      refs,
      "gr",
    ),
  );

  // Routes on the cluster router.
  const liveJoinIps = new Set(
    [...joinAddressesInUse(state).keys()].map((n) => formatIpv4(n)),
  );
  const crRoutes: DesiredRoute[] = [
    {
      prefix: "0.0.0.0/0",
      nexthop: joinIp,
      srcIp: false,
      kind: "gateway-cluster-default",
      // Another gateway's default route stays while its join port exists.
      keepExisting: (r) => liveJoinIps.has(r.nexthop),
    },
    { prefix: `${joinIp}/32`, nexthop: joinIp, srcIp: false, kind: "gateway-join-host" },
  ];
  const subnet = state.base.switches.find((s) => s.name === makeNodeSwitchName(node))
    ?.other_config["subnet"];
  const seen = new Set<string>();
  const sources = [
    ...(subnet ? [{ p: subnet, kind: "gateway-node-egress" }] : []),
    ...input.rampout.map((c) => ({ p: c.toString(), kind: "gateway-rampout" })),
  ];
  // A rampout route given to another gateway for this node's subnet wins over the
  // automatic one (the operator asked for it); two gateways claiming the same rampout
  // subnet: the last run wins.
  const rampoutWins = new Set(["gateway-rampout"]);
  for (const s of [...sources].reverse()) {
    const k = normPrefix(s.p);
    if (seen.has(k)) continue;
    seen.add(k);
    crRoutes.push({
      prefix: s.p,
      nexthop: joinIp,
      srcIp: true,
      kind: s.kind,
      ...(s.kind === "gateway-node-egress" ? { yieldTo: rampoutWins } : {}),
    });
  }
  plans.push(
    ...planRoutes(
      state,
      { row: clusterRow, ref: cluster._uuid },
      crRoutes,
      node,
      new Set(["gateway-rampout", "gateway-node-egress", "gateway-join-host"]),
      refs,
      "cr",
    ),
  );

  // ONE SNAT row: the cluster subnet behind the physical IP.
  const natByUuid = new Map(state.nats.map((n) => [n._uuid, n]));
  const snats = (grRow?.nat ?? []).map((u) => natByUuid.get(u)).filter((n) =>
    n !== undefined && n.type === "snat" &&
    normPrefix(n.logical_ip) === input.clusterSubnet.toString()
  ).sort((x, y) => x!._uuid.localeCompare(y!._uuid));
  const snat = planRow(snats[0], {
    table: "NAT",
    uuidName: "gw_snat",
    columns: { type: "snat", external_ip: input.physicalIp },
    maps: { external_ids: ids("gateway-snat") },
    onInsert: { logical_ip: input.clusterSubnet.toString() },
  });
  plans.push(snat);
  if (snat.created) refs.add("Logical_Router", gr.ref, "nat", "ins", [snat.ref]);
  refs.add("Logical_Router", gr.ref, "nat", "del", snats.slice(1).map((n) => n!._uuid));

  // Per-router load balancers (the watcher fills their VIPs).
  for (const p of LB_PROTOCOLS) {
    const lbRow = state.gatewayLbs[p].find((l) => !l.external_ids["ovn-k8s-affinity-timeout"]);
    const lb = planRow(lbRow, {
      table: "Load_Balancer",
      uuidName: `gw_lb_${p}`,
      columns: {},
      // Owner ids only on rows we create (an LB made by the original or the watcher keeps its own).
      maps: {
        external_ids: {
          [gatewayLbIdKey(p)]: grName,
          ...(lbRow ? {} : ownerIds(GATEWAY_LB_KIND, grName, GATEWAY_CONTROLLER)),
        },
      },
      onInsert: { name: makeGatewayLbName(grName, p), protocol: [p] },
    });
    plans.push(lb);
    if (lb.created || !grRow?.load_balancer.includes(lb.ref)) {
      refs.add("Logical_Router", gr.ref, "load_balancer", "ins", [lb.ref]);
    }
  }

  const ops = [
    ...plans.flatMap((p) => p.insert ? [p.insert] : []),
    ...plans.flatMap((p) => p.changes),
    ...refs.ops(),
  ];
  return {
    ops: allocated && ops.length ? [joinGuardOp(state), ...ops] : ops,
    joinIp,
    allocated,
  };
}

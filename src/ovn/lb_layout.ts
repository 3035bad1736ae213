/**
 * The load balancer layout of services (docs/load-balancers.md), as names, external-id
 * keys, the desired-state types the services controller fills, and an index of the NB
 * rows involved (fed by monitor changes, so lookups stay O(1) at 10,000 services).
 *
 * Layout, in short:
 *
 * - one `Load_Balancer` per service and protocol (`Service_<ns>/<name>_<proto>`) with the
 *   service's cluster IP and external IP VIPs, member of ONE `Load_Balancer_Group`
 *   ({@linkcode SERVICES_LB_GROUP}) attached to every node switch: O(services) rows, and an
 *   endpoint change rewrites one small row;
 * - on gateway routers, NodePort VIPs (`<GR physical_ip>:<nodePort>`) and external IP VIPs
 *   in per-gateway-router load balancers, the original's
 *   (`external_ids:TCP_lb_gateway_router=GR_<node>`, `UDP_...`; `SCTP_...` by extension),
 *   changed one map key at a time (`mutate`), never rewritten whole (cluster IPs stay off
 *   the routers: northd would otherwise build every router's flows for every service);
 *   services with ClientIP affinity use a sibling per-router load balancer carrying
 *   `options:affinity_timeout`, since that option is per row.
 *
 * @module
 */
import type { RowChange } from "../ovsdb/mod.ts";
import { OWNER_IDS, WATCHER_CONTROLLER } from "./external_ids.ts";
import type { LoadBalancer, LoadBalancerGroup, LogicalRouter, LogicalSwitch } from "./nb_models.ts";

/** The owner (`ovn-k8s-owner`) of every row the services controller makes: the watcher. */
export const SERVICE_CONTROLLER = WATCHER_CONTROLLER;
/** Owner kind of a per-service load balancer. */
export const SERVICE_LB_KIND = "service-lb";
/** Owner kind of a per-gateway-router load balancer made by the watcher. */
export const GATEWAY_LB_KIND = "gateway-lb";
/** Name of the group holding every per-service load balancer. */
export const SERVICES_LB_GROUP = "ovn-k8s-services";
/** On a per-router affinity load balancer: the gateway router's name. */
export const GATEWAY_ROUTER_ID = "ovn-k8s-gateway-router";
/** On a per-router affinity load balancer: its `affinity_timeout`. */
export const AFFINITY_ID = "ovn-k8s-affinity-timeout";
/** The longest `options:affinity_timeout` OVN accepts, in seconds. */
export const MAX_AFFINITY_TIMEOUT = 65535;

/** Protocols a load balancer can carry (OVN 23.03: tcp, udp, sctp). */
export type LbProtocol = "tcp" | "udp" | "sctp";
/** Every protocol, in a fixed order. */
export const LB_PROTOCOLS: readonly LbProtocol[] = ["tcp", "udp", "sctp"];

/** The desired load balancing of one protocol of one service. */
export interface ProtocolLbSpec {
  /** `vip:port` -> `ip:port,ip:port` (sorted; `""` when no endpoint is ready): cluster and external IPs. */
  vips: Record<string, string>;
  /** nodePort -> backends, programmed as `<physical_ip>:<nodePort>` on every gateway router. */
  nodePorts: Record<string, string>;
  /** External IP VIPs (`ip:port` -> backends; also in `vips`), programmed on every gateway router. */
  externalVips: Record<string, string>;
  /** ClientIP affinity timeout in seconds; 0 for none. */
  affinityTimeout: number;
}

/** The desired load balancing of one service: what the services controller builds. */
export interface ServiceLbSpec {
  /** `namespace/name`. */
  service: string;
  /** Per protocol; protocols the service does not use are absent. */
  protocols: Partial<Record<LbProtocol, ProtocolLbSpec>>;
}

/** The rows the layout reads: Load_Balancer in full. */
export type LbRow = Pick<
  LoadBalancer,
  "_uuid" | "name" | "protocol" | "vips" | "options" | "external_ids"
>;
/** Load_Balancer_Group rows. */
export type LbGroupRow = Pick<LoadBalancerGroup, "_uuid" | "name" | "load_balancer">;
/** Logical_Switch columns the layout reads. */
export type LbSwitchRow = Pick<
  LogicalSwitch,
  "_uuid" | "name" | "other_config" | "load_balancer_group"
>;
/** Logical_Router columns the layout reads. */
export type LbRouterRow = Pick<
  LogicalRouter,
  "_uuid" | "name" | "options" | "external_ids" | "load_balancer" | "load_balancer_group"
>;

/** The NB monitor spec the layout needs (table -> columns). */
export const LB_MONITOR_COLUMNS = {
  Load_Balancer: ["name", "protocol", "vips", "options", "external_ids"],
  Load_Balancer_Group: ["name", "load_balancer"],
  Logical_Switch: ["name", "other_config", "load_balancer_group"],
  Logical_Router: ["name", "options", "external_ids", "load_balancer", "load_balancer_group"],
} as const;

/**
 * @param service `namespace/name`
 * @param protocol the protocol
 * @returns the per-service load balancer's name: `Service_<ns>/<name>_<proto>`
 */
export function makeServiceLbName(service: string, protocol: LbProtocol): string {
  return `Service_${service}_${protocol}`;
}

/**
 * @param router the gateway router's name
 * @param protocol the protocol
 * @param affinityTimeout 0, or the affinity timeout of the variant
 * @returns the name of a per-router load balancer made by the watcher
 */
export function makeGatewayLbName(
  router: string,
  protocol: LbProtocol,
  affinityTimeout = 0,
): string {
  return `${router}_${protocol}${affinityTimeout ? `_affinity${affinityTimeout}` : ""}`;
}

/**
 * The original's external-id key of a gateway router's load balancer.
 *
 * @param protocol the protocol
 * @returns `TCP_lb_gateway_router`, `UDP_lb_gateway_router` or `SCTP_lb_gateway_router`
 */
export function gatewayLbIdKey(protocol: LbProtocol): string {
  return `${protocol.toUpperCase()}_lb_gateway_router`;
}

/**
 * Identity of a per-router load balancer within its router: protocol and affinity.
 *
 * @param protocol the protocol
 * @param affinityTimeout 0 or the timeout
 * @returns e.g. `tcp` or `tcp/10800`
 */
export function gatewayLbSlot(protocol: LbProtocol, affinityTimeout: number): string {
  return affinityTimeout ? `${protocol}/${affinityTimeout}` : protocol;
}

/** A gateway router as the layout sees it. */
export interface GatewayRouter {
  /** Row. */
  row: LbRouterRow;
  /** `external_ids:physical_ip` without a prefix length, when it is set. */
  physicalIp: string | undefined;
}

/**
 * Whether a router is a gateway router: `options:chassis` set (as the original found them).
 *
 * @param r router row
 * @returns true for a gateway router
 */
export function isGatewayRouter(r: Pick<LbRouterRow, "options">): boolean {
  return (r.options["chassis"] ?? "") !== "";
}

/**
 * Whether a switch is a node switch: `other_config:subnet` set.
 *
 * @param s switch row
 * @returns true for a node switch
 */
export function isNodeSwitch(s: Pick<LbSwitchRow, "other_config">): boolean {
  return (s.other_config["subnet"] ?? "") !== "";
}

/**
 * Reads the node IP of a gateway router: `external_ids:physical_ip` (the original wrote
 * it without a mask; a mask is tolerated).
 *
 * @param r router row
 * @returns the IPv4 address, or `undefined` when absent or not an address
 */
export function gatewayPhysicalIp(r: Pick<LbRouterRow, "external_ids">): string | undefined {
  const raw = (r.external_ids["physical_ip"] ?? "").split("/")[0]!.trim();
  return /^(\d{1,3}\.){3}\d{1,3}$/.test(raw) ? raw : undefined;
}

/**
 * What a Load_Balancer row is in this layout.
 *
 * @param lb the row
 * @returns a per-service LB (`service`), a per-router LB (`gateway`, original or ours),
 *   an original cluster LB (`legacy-cluster`), or `other` (not ours: left alone)
 */
export function classifyLb(
  lb: Pick<LbRow, "external_ids" | "protocol">,
):
  | { kind: "service"; service: string; protocol: LbProtocol }
  | { kind: "gateway"; router: string; protocol: LbProtocol; affinityTimeout: number }
  | { kind: "legacy-cluster" }
  | { kind: "other" } {
  const ids = lb.external_ids;
  const protocol = (lb.protocol[0] ?? "tcp") as LbProtocol;
  if (ids[OWNER_IDS.kind] === SERVICE_LB_KIND && ids[OWNER_IDS.key]) {
    return { kind: "service", service: ids[OWNER_IDS.key]!, protocol };
  }
  if (ids[GATEWAY_ROUTER_ID]) {
    const t = Number(ids[AFFINITY_ID] ?? "0");
    return {
      kind: "gateway",
      router: ids[GATEWAY_ROUTER_ID]!,
      protocol,
      affinityTimeout: Number.isInteger(t) && t > 0 ? t : 0,
    };
  }
  for (const p of LB_PROTOCOLS) {
    const gr = ids[gatewayLbIdKey(p)];
    if (gr) return { kind: "gateway", router: gr, protocol: p, affinityTimeout: 0 };
  }
  if (ids["k8s-cluster-lb-tcp"] === "yes" || ids["k8s-cluster-lb-udp"] === "yes") {
    return { kind: "legacy-cluster" };
  }
  return { kind: "other" };
}

/**
 * An index of the NB rows of the layout, by meaning: per-service LBs by service and
 * protocol, per-router LBs by router and slot, the group, node switches and gateway
 * routers. Fed with {@linkcode LbIndex.apply} from monitor changes (or
 * {@linkcode LbIndex.fromRows}); holds the rows as last seen.
 */
export class LbIndex {
  #lbs = new Map<string, LbRow>();
  #service = new Map<string, Map<LbProtocol, Set<string>>>();
  #gateway = new Map<string, Map<string, Set<string>>>();
  #legacy = new Set<string>();
  #groups = new Map<string, LbGroupRow>();
  #groupMembers = new Set<string>();
  #gatewayList: GatewayRouter[] | undefined;
  #switches = new Map<string, LbSwitchRow>();
  #routers = new Map<string, LbRouterRow>();

  /**
   * Builds an index from rows.
   *
   * @param rows the tables' rows
   * @returns the index
   */
  static fromRows(rows: {
    loadBalancers?: Iterable<LbRow>;
    groups?: Iterable<LbGroupRow>;
    switches?: Iterable<LbSwitchRow>;
    routers?: Iterable<LbRouterRow>;
  }): LbIndex {
    const ix = new LbIndex();
    for (const r of rows.loadBalancers ?? []) ix.#putLb(r);
    for (const r of rows.groups ?? []) ix.#putGroup(r);
    for (const r of rows.switches ?? []) ix.#switches.set(r._uuid, r);
    for (const r of rows.routers ?? []) ix.#routers.set(r._uuid, r);
    ix.#gatewayList = undefined;
    return ix;
  }

  /**
   * Applies one monitor change of the layout's tables (others are ignored).
   *
   * @param c the change
   * @returns what changed, for the controller to enqueue: `switch`/`router` (a node
   *   switch or gateway router appeared or changed), `group`, `lb`, or `undefined`
   */
  apply(c: RowChange<unknown>): "switch" | "router" | "group" | "lb" | undefined {
    switch (c.table) {
      case "Load_Balancer":
        if (c.old) this.#dropLb(c.uuid);
        if (c.new) this.#putLb(c.new as LbRow);
        return "lb";
      case "Load_Balancer_Group":
        if (c.new) this.#putGroup(c.new as LbGroupRow);
        else this.#groups.delete(c.uuid);
        this.#refreshMembers();
        return "group";
      case "Logical_Switch":
        if (c.new) this.#switches.set(c.uuid, c.new as LbSwitchRow);
        else this.#switches.delete(c.uuid);
        return "switch";
      case "Logical_Router":
        this.#gatewayList = undefined;
        if (c.new) this.#routers.set(c.uuid, c.new as LbRouterRow);
        else this.#routers.delete(c.uuid);
        return "router";
      default:
        return undefined;
    }
  }

  #putGroup(g: LbGroupRow): void {
    this.#groups.set(g._uuid, g);
    this.#refreshMembers();
  }

  #refreshMembers(): void {
    this.#groupMembers = new Set(this.group()?.load_balancer ?? []);
  }

  /**
   * @param uuid a Load_Balancer uuid
   * @returns whether it is a member of the services group
   */
  inGroup(uuid: string): boolean {
    return this.#groupMembers.has(uuid);
  }

  #putLb(r: LbRow): void {
    this.#lbs.set(r._uuid, r);
    const c = classifyLb(r);
    if (c.kind === "service") {
      let m = this.#service.get(c.service);
      if (!m) this.#service.set(c.service, m = new Map());
      let s = m.get(c.protocol);
      if (!s) m.set(c.protocol, s = new Set());
      s.add(r._uuid);
    } else if (c.kind === "gateway") {
      let m = this.#gateway.get(c.router);
      if (!m) this.#gateway.set(c.router, m = new Map());
      const slot = gatewayLbSlot(c.protocol, c.affinityTimeout);
      let s = m.get(slot);
      if (!s) m.set(slot, s = new Set());
      s.add(r._uuid);
    } else if (c.kind === "legacy-cluster") {
      this.#legacy.add(r._uuid);
    }
  }

  #dropLb(uuid: string): void {
    const r = this.#lbs.get(uuid);
    if (!r) return;
    this.#lbs.delete(uuid);
    this.#legacy.delete(uuid);
    const c = classifyLb(r);
    if (c.kind === "service") {
      const m = this.#service.get(c.service);
      m?.get(c.protocol)?.delete(uuid);
      if (m?.get(c.protocol)?.size === 0) m.delete(c.protocol);
      if (m?.size === 0) this.#service.delete(c.service);
    } else if (c.kind === "gateway") {
      const m = this.#gateway.get(c.router);
      const slot = gatewayLbSlot(c.protocol, c.affinityTimeout);
      m?.get(slot)?.delete(uuid);
      if (m?.get(slot)?.size === 0) m.delete(slot);
      if (m?.size === 0) this.#gateway.delete(c.router);
    }
  }

  /**
   * The per-service LBs of a service, by protocol (several rows only after a race or by
   * hand; the planner keeps the first by uuid and deletes the others).
   *
   * @param service `namespace/name`
   * @returns protocol -> rows sorted by uuid
   */
  serviceLbs(service: string): Map<LbProtocol, LbRow[]> {
    const out = new Map<LbProtocol, LbRow[]>();
    for (const [p, set] of this.#service.get(service) ?? []) {
      out.set(p, [...set].sort().map((u) => this.#lbs.get(u)!));
    }
    return out;
  }

  /** @returns the services that have per-service LBs */
  services(): string[] {
    return [...this.#service.keys()];
  }

  /**
   * The per-router LB of a router for a slot (the first by uuid).
   *
   * @param router gateway router name
   * @param slot {@linkcode gatewayLbSlot}
   * @returns the row, or `undefined`
   */
  gatewayLb(router: string, slot: string): LbRow | undefined {
    const set = this.#gateway.get(router)?.get(slot);
    if (!set || set.size === 0) return undefined;
    return this.#lbs.get([...set].sort()[0]!);
  }

  /**
   * @param router gateway router name
   * @returns slot -> row (first by uuid) of every per-router LB of that router
   */
  gatewayLbs(router: string): Map<string, LbRow> {
    const out = new Map<string, LbRow>();
    for (const slot of this.#gateway.get(router)?.keys() ?? []) {
      out.set(slot, this.gatewayLb(router, slot)!);
    }
    return out;
  }

  /** @returns every per-router load balancer (original's and ours), by uuid */
  allGatewayLbs(): LbRow[] {
    const out: LbRow[] = [];
    for (const m of this.#gateway.values()) {
      for (const set of m.values()) for (const u of set) out.push(this.#lbs.get(u)!);
    }
    return out.sort((a, b) => (a._uuid < b._uuid ? -1 : 1));
  }

  /** @returns the original's cluster load balancers (`k8s-cluster-lb-tcp/udp=yes`) */
  legacyClusterLbs(): LbRow[] {
    return [...this.#legacy].sort().map((u) => this.#lbs.get(u)!);
  }

  /** @returns the services group, or `undefined` before it exists */
  group(): LbGroupRow | undefined {
    let found: LbGroupRow | undefined;
    for (const g of this.#groups.values()) if (g.name === SERVICES_LB_GROUP) found = g;
    return found;
  }

  /** @returns node switches sorted by name */
  nodeSwitches(): LbSwitchRow[] {
    return [...this.#switches.values()].filter(isNodeSwitch).sort(byName);
  }

  /** @returns gateway routers sorted by name, with their node IP */
  gatewayRouters(): GatewayRouter[] {
    this.#gatewayList ??= [...this.#routers.values()].filter(isGatewayRouter).sort(byName)
      .map((row) => ({ row, physicalIp: gatewayPhysicalIp(row) }));
    return this.#gatewayList;
  }

  /**
   * @param name router name
   * @returns the gateway router of that name, or `undefined`
   */
  gatewayRouter(name: string): GatewayRouter | undefined {
    return this.gatewayRouters().find((g) => g.row.name === name);
  }

  /**
   * @param uuid row uuid
   * @returns a Load_Balancer row, or `undefined`
   */
  lb(uuid: string): LbRow | undefined {
    return this.#lbs.get(uuid);
  }
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

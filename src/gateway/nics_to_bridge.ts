/**
 * `nics-to-bridge` (reference §8), the pure parts: the OVS bridge `br<nic>` holding the
 * NIC (MAC pinned to the NIC's, `fail_mode=standalone`, `external_ids:bridge-id`), and
 * which addresses and routes move from the NIC to the bridge.
 *
 * Quirks of the original fixed: a second run is a no-op instead of a failure (the bridge
 * is found, not re-created, and only what is still on the NIC moves); dynamic (DHCP)
 * addresses are not moved (a lease belongs to the DHCP client's interface) but are
 * REPORTED, so the operator knows to run the DHCP client on `br<nic>`.
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";

/** One address as `ip -j addr show` prints it. */
export interface NicAddress {
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  dynamic: boolean;
}

/** One route as `ip -j route show` prints it. */
export interface NicRoute {
  dst: string;
  gateway?: string;
  metric?: number;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
}

/**
 * @param nic the NIC
 * @returns its bridge's name: `br<nic>` (checked against the 15-character limit by the caller)
 */
export function makeNicBridgeName(nic: string): string {
  return `br${nic}`;
}

/**
 * Parses `ip -j addr show dev NIC`.
 *
 * @param json stdout
 * @returns the addresses
 */
export function parseNicAddresses(json: string): NicAddress[] {
  const rows = JSON.parse(json || "[]") as Array<{ addr_info?: Array<Record<string, unknown>> }>;
  return rows.flatMap((r) => r.addr_info ?? []).filter((a) =>
    (a["family"] === "inet" || a["family"] === "inet6") && typeof a["local"] === "string"
  ).map((a) => ({
    family: a["family"] as "inet" | "inet6",
    local: a["local"] as string,
    prefixlen: Number(a["prefixlen"]),
    ...(typeof a["broadcast"] === "string" ? { broadcast: a["broadcast"] } : {}),
    scope: String(a["scope"] ?? "global"),
    dynamic: a["dynamic"] === true,
  }));
}

/**
 * Parses `ip -j route show dev NIC`.
 *
 * @param json stdout
 * @returns the routes
 */
export function parseNicRoutes(json: string): NicRoute[] {
  const rows = JSON.parse(json || "[]") as Array<Record<string, unknown>>;
  return rows.filter((r) => typeof r["dst"] === "string").map((r) => ({
    dst: r["dst"] as string,
    ...(typeof r["gateway"] === "string" ? { gateway: r["gateway"] } : {}),
    ...(typeof r["metric"] === "number" ? { metric: r["metric"] } : {}),
    ...(typeof r["protocol"] === "string" ? { protocol: r["protocol"] } : {}),
    ...(typeof r["scope"] === "string" ? { scope: r["scope"] } : {}),
    ...(typeof r["prefsrc"] === "string" ? { prefsrc: r["prefsrc"] } : {}),
  }));
}

/** What moves and what stays. */
export interface MovePlan {
  /** Addresses to move (static, not link-scope). */
  move: NicAddress[];
  /** Dynamic addresses left on the NIC: the operator must run the DHCP client on the bridge. */
  dynamic: NicAddress[];
  /** Routes to re-add on the bridge (not `proto kernel`: those follow the addresses). */
  routes: NicRoute[];
}

/**
 * Decides what moves from the NIC to its bridge.
 *
 * @param addresses the NIC's addresses
 * @param routes the NIC's routes
 * @returns the plan
 */
export function planMove(addresses: readonly NicAddress[], routes: readonly NicRoute[]): MovePlan {
  return {
    move: addresses.filter((a) => !a.dynamic && a.scope !== "link"),
    dynamic: addresses.filter((a) => a.dynamic && a.scope !== "link"),
    routes: routes.filter((r) => r.protocol !== "kernel"),
  };
}

/**
 * `ip` arguments that add an address to the bridge.
 *
 * @param a the address
 * @param bridge the bridge
 * @returns arguments after `ip`
 */
export function addressArgs(a: NicAddress, bridge: string): string[] {
  return [
    ...(a.family === "inet6" ? ["-6"] : []),
    "addr",
    "add",
    `${a.local}/${a.prefixlen}`,
    ...(a.broadcast ? ["brd", a.broadcast] : []),
    "scope",
    a.scope,
    "dev",
    bridge,
  ];
}

/**
 * `ip` arguments that (re)add a route on the bridge.
 *
 * @param r the route
 * @param bridge the bridge
 * @returns arguments after `ip`
 */
export function routeArgs(r: NicRoute, bridge: string): string[] {
  return [
    ...(r.dst.includes(":") || r.gateway?.includes(":") ? ["-6"] : []),
    "route",
    "replace",
    r.dst,
    ...(r.gateway ? ["via", r.gateway] : []),
    "dev",
    bridge,
    ...(r.metric !== undefined ? ["metric", String(r.metric)] : []),
    ...(r.protocol && r.protocol !== "boot" ? ["proto", r.protocol] : []),
    ...(r.scope && r.scope !== "global" && !r.gateway ? ["scope", r.scope] : []),
    ...(r.prefsrc ? ["src", r.prefsrc] : []),
  ];
}

/** The local OVS rows nics-to-bridge reads. */
export interface NicBridgeState {
  root: { _uuid: string; external_ids: Record<string, string> } | undefined;
  bridges: Array<{ _uuid: string; name: string; ports: string[] }>;
  ports: Array<{ _uuid: string; name: string }>;
}

/**
 * Plans `br<nic>` with the NIC as its port.
 *
 * @param state local OVS state
 * @param nic the NIC
 * @param mac the NIC's MAC (the bridge takes it)
 * @param datapathType `netdev` on the userspace datapath, else "" (system)
 * @returns operations; empty when the bridge already holds the NIC
 * @throws {RangeError} when the NIC is a port of another bridge, or OVS is not initialised
 */
export function nicBridgeOps(
  state: NicBridgeState,
  nic: string,
  mac: string,
  datapathType: string,
): Operation[] {
  const name = makeNicBridgeName(nic);
  if (!state.root) {
    throw new RangeError(
      "Cannot make the bridge: the local Open_vSwitch table is empty; run ovn-k8s setup-host first",
    );
  }
  const port = state.ports.find((p) => p.name === nic);
  const holder = port && state.bridges.find((b) => b.ports.includes(port._uuid));
  if (holder && holder.name !== name) {
    throw new RangeError(
      `Cannot move ${nic} to ${name}: it is already a port of OVS bridge ${holder.name}; ` +
        "remove it from there first",
    );
  }
  const bridge = state.bridges.find((b) => b.name === name);
  if (bridge && holder) return [];
  const ops: Operation[] = [
    // A leftover port of that name in no bridge would clash with the new one.
    ...(port
      ? [{ op: "delete", table: "Port", where: [["_uuid", "==", port._uuid]] } as Operation]
      : []),
    { op: "insert", table: "Interface", uuidName: "nic_iface", row: { name: nic } },
    {
      op: "insert",
      table: "Port",
      uuidName: "nic_port",
      row: { name: nic, interfaces: ["nic_iface"] },
    },
  ];
  if (bridge) {
    ops.push({
      op: "mutate",
      table: "Bridge",
      where: [["_uuid", "==", bridge._uuid]],
      mutations: [["ports", "insert", ["nic_port"]]],
    });
    return ops;
  }
  ops.push(
    { op: "insert", table: "Interface", uuidName: "br_iface", row: { name, type: "internal" } },
    { op: "insert", table: "Port", uuidName: "br_port", row: { name, interfaces: ["br_iface"] } },
    {
      op: "insert",
      table: "Bridge",
      uuidName: "bridge",
      row: {
        name,
        ports: ["br_port", "nic_port"],
        fail_mode: ["standalone"],
        other_config: { hwaddr: mac },
        external_ids: { "bridge-id": name },
        ...(datapathType ? { datapath_type: datapathType } : {}),
      },
    },
    {
      op: "mutate",
      table: "Open_vSwitch",
      where: [["_uuid", "==", state.root._uuid]],
      mutations: [["bridges", "insert", ["bridge"]]],
    },
  );
  return ops;
}

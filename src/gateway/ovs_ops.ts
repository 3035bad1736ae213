/**
 * The local Open_vSwitch side of a gateway (reference §7 step 8), planned purely.
 *
 * Design note (userspace datapath, lab §5): a dedicated NIC becomes an OVS port on
 * br-int with `external_ids:iface-id=<nic>_<node>`, bound by ovn-controller like any VIF
 * (as the original). A shared bridge is attached through a localnet port instead of the
 * original's hand-made patch pair (`k8s-patch-<br>-br-int`): the bridge is named in
 * `external_ids:ovn-bridge-mappings` (`physnet_<br>:<br>`) and ovn-controller makes and
 * owns the patch ports. ovn-controller does not bind a patch interface as a VIF, so the
 * original's pair would carry no traffic here. The bridge's MAC is pinned with
 * `other_config:hwaddr` (ports added later would otherwise change it).
 *
 * @module
 */
import { mapMutateOps, type Operation, type OperationResult } from "../ovsdb/mod.ts";
import { INTEGRATION_BRIDGE } from "../ovs/mod.ts";

/** The `Open_vSwitch` key of OVN's bridge mappings. */
export const BRIDGE_MAPPINGS_KEY = "ovn-bridge-mappings";

/** A Bridge row (selected columns). */
export interface GwBridge {
  _uuid: string;
  name: string;
  ports: string[];
  other_config: Record<string, string>;
}

/** An Interface row (selected columns). */
export interface GwInterface {
  _uuid: string;
  name: string;
  type: string;
  mac_in_use: string[];
  ofport: number[];
  external_ids: Record<string, string>;
}

/** A Port row (selected columns). */
export interface GwPort {
  _uuid: string;
  name: string;
  interfaces: string[];
}

/** What gateway-init reads from the local Open_vSwitch database. */
export interface GatewayOvsState {
  root: { _uuid: string; external_ids: Record<string, string> } | undefined;
  /** br-int. */
  integration: GwBridge | undefined;
  /** The bridge named like the gateway interface (bridge mode), if any. */
  bridge: GwBridge | undefined;
  /** The port and interface named like the gateway interface, if any. */
  port: GwPort | undefined;
  iface: GwInterface | undefined;
  /** Every bridge (to find which one holds the port). */
  bridges: GwBridge[];
}

/**
 * Read operations for {@linkcode GatewayOvsState}.
 *
 * @param iface the NIC or bridge name
 * @returns select operations
 */
export function gatewayOvsReadOps(iface: string): Operation[] {
  const bridgeCols = ["_uuid", "name", "ports", "other_config"];
  return [
    { op: "select", table: "Open_vSwitch", where: [], columns: ["_uuid", "external_ids"] },
    { op: "select", table: "Bridge", where: [], columns: bridgeCols },
    {
      op: "select",
      table: "Port",
      where: [["name", "==", iface]],
      columns: ["_uuid", "name", "interfaces"],
    },
    {
      op: "select",
      table: "Interface",
      where: [["name", "==", iface]],
      columns: ["_uuid", "name", "type", "mac_in_use", "ofport", "external_ids"],
    },
  ];
}

/**
 * Parses the results of {@linkcode gatewayOvsReadOps}.
 *
 * @param iface the NIC or bridge name
 * @param results the results
 * @returns the state
 */
export function parseGatewayOvsState(
  iface: string,
  results: readonly OperationResult[],
): GatewayOvsState {
  const bridges = (results[1]?.rows ?? []) as unknown as GwBridge[];
  return {
    root: results[0]?.rows?.[0] as GatewayOvsState["root"],
    bridges,
    integration: bridges.find((b) => b.name === INTEGRATION_BRIDGE),
    bridge: bridges.find((b) => b.name === iface),
    port: results[2]?.rows?.[0] as GwPort | undefined,
    iface: results[3]?.rows?.[0] as GwInterface | undefined,
  };
}

/**
 * The localnet network name of a shared bridge.
 *
 * @param bridge the bridge
 * @returns `physnet_<bridge>`
 */
export function makeBridgeNetworkName(bridge: string): string {
  return `physnet_${bridge}`;
}

/**
 * Merges `network:bridge` into a bridge-mappings value (other pairs kept, a pair for
 * the same network replaced).
 *
 * @param current the current value (`a:br1,b:br2`) or undefined
 * @param network network name
 * @param bridge bridge name
 * @returns the new value
 */
export function mergeBridgeMapping(
  current: string | undefined,
  network: string,
  bridge: string,
): string {
  const pairs = (current ?? "").split(",").map((p) => p.trim()).filter((p) =>
    p !== "" && p.split(":")[0] !== network
  );
  return [...pairs, `${network}:${bridge}`].sort().join(",");
}

/**
 * Plans a dedicated NIC as a br-int port with `iface-id`.
 *
 * @param state local state read for the NIC
 * @param nic the NIC
 * @param ifaceId `<nic>_<node>`
 * @returns operations; empty when it already matches
 * @throws {RangeError} when br-int is missing or the NIC is a port of another bridge
 */
export function nicPortOps(state: GatewayOvsState, nic: string, ifaceId: string): Operation[] {
  const br = state.integration;
  if (!br) {
    throw new RangeError(
      `Cannot add --physical-interface ${nic} to ${INTEGRATION_BRIDGE}: the bridge does not ` +
        "exist; run master-init or minion-init on this node first",
    );
  }
  if (state.port) {
    const owner = state.bridges.find((b) => b.ports.includes(state.port!._uuid));
    if (owner && owner.name !== INTEGRATION_BRIDGE) {
      throw new RangeError(
        `Cannot use --physical-interface ${nic}: it is a port of OVS bridge ${owner.name}; ` +
          `use --bridge-interface ${owner.name}, or remove the port first`,
      );
    }
  }
  if (!state.port || !state.iface) {
    return [
      ...(state.port
        ? [{ op: "delete", table: "Port", where: [["_uuid", "==", state.port._uuid]] } as Operation]
        : []),
      {
        op: "insert",
        table: "Interface",
        uuidName: "gw_iface",
        row: { name: nic, external_ids: { "iface-id": ifaceId } },
      },
      {
        op: "insert",
        table: "Port",
        uuidName: "gw_port",
        row: { name: nic, interfaces: ["gw_iface"] },
      },
      {
        op: "mutate",
        table: "Bridge",
        where: [["_uuid", "==", br._uuid]],
        mutations: [["ports", "insert", ["gw_port"]]],
      },
    ];
  }
  const ops: Operation[] = [];
  ops.push(
    ...mapMutateOps("Interface", state.iface._uuid, "external_ids", state.iface.external_ids, {
      "iface-id": ifaceId,
    }),
  );
  if (!br.ports.includes(state.port._uuid)) {
    ops.push({
      op: "mutate",
      table: "Bridge",
      where: [["_uuid", "==", br._uuid]],
      mutations: [["ports", "insert", [state.port._uuid]]],
    });
  }
  return ops;
}

/**
 * Plans a shared bridge: its MAC pinned, and its bridge mapping.
 *
 * @param state local state read for the bridge
 * @param bridge the bridge
 * @param mac its MAC
 * @returns operations; empty when it already matches
 * @throws {RangeError} when the bridge does not exist
 */
export function sharedBridgeOps(state: GatewayOvsState, bridge: string, mac: string): Operation[] {
  const br = state.bridge;
  if (!br || !state.root) {
    throw new RangeError(
      `Cannot use --bridge-interface ${bridge}: no such OVS bridge; make it with ` +
        `ovn-k8s nics-to-bridge <nic> (it becomes br<nic>), or pass --physical-interface`,
    );
  }
  const current = state.root.external_ids[BRIDGE_MAPPINGS_KEY];
  const want = mergeBridgeMapping(current, makeBridgeNetworkName(bridge), bridge);
  return [
    ...mapMutateOps("Bridge", br._uuid, "other_config", br.other_config, { hwaddr: mac }),
    ...mapMutateOps("Open_vSwitch", state.root._uuid, "external_ids", state.root.external_ids, {
      [BRIDGE_MAPPINGS_KEY]: want,
    }),
  ];
}

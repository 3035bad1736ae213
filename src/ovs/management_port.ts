/**
 * The node's management port as an OVS internal interface on `br-int` (reference §6.3
 * steps 4-5, lab §4): `type=internal`, `mtu_request`, the MAC pinned in the `mac`
 * column (the original's MAC changed on reboot, §16.8) and `external_ids:iface-id`.
 * Creates `br-int` when missing (ovn-controller normally does). Pure.
 *
 * @module
 */
import { changedColumns, mapMutateOps, type Operation } from "../ovsdb/mod.ts";
import type { OvsState } from "./local_state.ts";

/** Inputs of {@linkcode managementPortOps}. */
export interface ManagementPortSpec {
  /** Bridge name, normally `br-int`. */
  bridge: string;
  /** Interface (and port) name, at most 15 characters. */
  name: string;
  /** OVN logical port bound to it. */
  ifaceId: string;
  /** MTU to request. */
  mtu: number;
  /** MAC to pin, lowercase. */
  mac: string;
  /** Datapath type for a bridge created here (`netdev` for the userspace datapath). */
  datapathType?: string;
}

/**
 * Plans the management port (and `br-int` when missing).
 *
 * @param state local OVSDB state read for this port
 * @param spec what the port must look like
 * @returns operations; empty when the port already matches
 * @throws {Error} when the Open_vSwitch row is missing (run setup-host first)
 */
export function managementPortOps(state: OvsState, spec: ManagementPortSpec): Operation[] {
  if (!state.root) {
    throw new Error(
      "Cannot add the management port: the local OVSDB has no Open_vSwitch row; run setup-host first",
    );
  }
  const ops: Operation[] = [];
  const ifaceCols = {
    type: "internal",
    mtu_request: [spec.mtu],
    mac: [spec.mac],
  };
  let bridgeRef = state.bridge?._uuid;
  if (!state.bridge) {
    // A bridge needs its own internal port, as ovs-vsctl add-br makes.
    ops.push(
      {
        op: "insert",
        table: "Interface",
        row: { name: spec.bridge, type: "internal" },
        uuidName: "br_iface",
      },
      {
        op: "insert",
        table: "Port",
        row: { name: spec.bridge, interfaces: ["br_iface"] },
        uuidName: "br_port",
      },
      {
        op: "insert",
        table: "Bridge",
        row: {
          name: spec.bridge,
          ports: ["br_port"],
          fail_mode: ["secure"],
          ...(spec.datapathType ? { datapath_type: spec.datapathType } : {}),
        },
        uuidName: "bridge",
      },
      {
        op: "mutate",
        table: "Open_vSwitch",
        where: [["_uuid", "==", state.root._uuid]],
        mutations: [["bridges", "insert", ["bridge"]]],
      },
    );
    bridgeRef = "bridge";
  }
  if (!state.iface || !state.port) {
    ops.push(
      {
        op: "insert",
        table: "Interface",
        row: { name: spec.name, ...ifaceCols, external_ids: { "iface-id": spec.ifaceId } },
        uuidName: "mgmt_iface",
      },
      {
        op: "insert",
        table: "Port",
        row: { name: spec.name, interfaces: ["mgmt_iface"] },
        uuidName: "mgmt_port",
      },
      {
        op: "mutate",
        table: "Bridge",
        where: [["_uuid", "==", bridgeRef!]],
        mutations: [["ports", "insert", ["mgmt_port"]]],
      },
    );
    if (state.port && !state.iface) {
      // A port without its interface cannot exist; a leftover one is replaced.
      ops.unshift({ op: "delete", table: "Port", where: [["_uuid", "==", state.port._uuid]] });
    }
    return ops;
  }
  const changed = changedColumns(state.iface as unknown as Record<string, unknown>, ifaceCols);
  if (changed) {
    ops.push({
      op: "update",
      table: "Interface",
      where: [["_uuid", "==", state.iface._uuid]],
      row: changed,
    });
  }
  ops.push(
    ...mapMutateOps("Interface", state.iface._uuid, "external_ids", state.iface.external_ids, {
      "iface-id": spec.ifaceId,
    }),
  );
  if (state.bridge && !state.bridge.ports.includes(state.port._uuid)) {
    ops.push({
      op: "mutate",
      table: "Bridge",
      where: [["_uuid", "==", state.bridge._uuid]],
      mutations: [["ports", "insert", [state.port._uuid]]],
    });
  }
  return ops;
}

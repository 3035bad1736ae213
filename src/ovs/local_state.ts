/**
 * The slice of the local Open_vSwitch database that setup-host and node init read:
 * the `Open_vSwitch` row, `br-int` and the management port, fetched with `select`s in
 * one read-only transaction.
 *
 * @module
 */
import type { Operation, OperationResult } from "../ovsdb/mod.ts";

/** The Open_vSwitch row (selected columns). */
export interface OvsRoot {
  _uuid: string;
  external_ids: Record<string, string>;
  bridges: string[];
}

/** A Bridge row (selected columns). */
export interface OvsBridge {
  _uuid: string;
  name: string;
  ports: string[];
  datapath_type: string;
  fail_mode: string[];
}

/** A Port row (selected columns). */
export interface OvsPort {
  _uuid: string;
  name: string;
  interfaces: string[];
}

/** An Interface row (selected columns). */
export interface OvsInterface {
  _uuid: string;
  name: string;
  type: string;
  mtu_request: number[];
  mac: string[];
  mac_in_use: string[];
  ofport: number[];
  error: string[];
  external_ids: Record<string, string>;
}

/** What the local OVSDB holds for us. */
export interface OvsState {
  /** The Open_vSwitch row; `undefined` before `ovs-vsctl init`. */
  root: OvsRoot | undefined;
  /** The integration bridge, if present. */
  bridge: OvsBridge | undefined;
  /** The named port, if present. */
  port: OvsPort | undefined;
  /** The named interface, if present. */
  iface: OvsInterface | undefined;
}

/** Integration bridge name. */
export const INTEGRATION_BRIDGE = "br-int";

/**
 * Read operations for {@linkcode OvsState}.
 *
 * @param portName the port/interface to read (e.g. the management port); omit for none
 * @param bridge bridge to read, default `br-int`
 * @returns select operations
 */
export function ovsStateReadOps(portName?: string, bridge = INTEGRATION_BRIDGE): Operation[] {
  const name = portName ?? "";
  return [
    {
      op: "select",
      table: "Open_vSwitch",
      where: [],
      columns: ["_uuid", "external_ids", "bridges"],
    },
    {
      op: "select",
      table: "Bridge",
      where: [["name", "==", bridge]],
      columns: ["_uuid", "name", "ports", "datapath_type", "fail_mode"],
    },
    {
      op: "select",
      table: "Port",
      where: [["name", "==", name]],
      columns: ["_uuid", "name", "interfaces"],
    },
    {
      op: "select",
      table: "Interface",
      where: [["name", "==", name]],
      columns: [
        "_uuid",
        "name",
        "type",
        "mtu_request",
        "mac",
        "mac_in_use",
        "ofport",
        "error",
        "external_ids",
      ],
    },
  ];
}

/**
 * Parses the results of {@linkcode ovsStateReadOps}.
 *
 * @param results the transaction's results
 * @returns the state
 */
export function parseOvsState(results: readonly OperationResult[]): OvsState {
  const first = <T>(i: number) => results[i]?.rows?.[0] as T | undefined;
  return {
    root: first<OvsRoot>(0),
    bridge: first<OvsBridge>(1),
    port: first<OvsPort>(2),
    iface: first<OvsInterface>(3),
  };
}

/**
 * The local Open vSwitch database over OVSDB: the `Open_vSwitch` row's `external_ids`
 * (the host's settings), `br-int` and the management port as an internal interface.
 * Builders are pure; roles commit them through the OVSDB client.
 *
 * @module
 */
export * from "./external_ids.ts";
export * from "./local_state.ts";
export * from "./management_port.ts";

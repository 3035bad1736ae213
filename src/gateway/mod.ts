/**
 * The gateway's host side: the local Open_vSwitch objects of a dedicated NIC or a shared
 * bridge, the demultiplexing flows of the gateway helper, and nics-to-bridge. The OVN
 * objects are planned in src/ovn (gateway_ops.ts); the roles compose both.
 *
 * @module
 */
export * from "./ovs_ops.ts";
export * from "./helper_flows.ts";
export * from "./nics_to_bridge.ts";

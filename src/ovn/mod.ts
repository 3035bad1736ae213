/**
 * OVN Northbound knowledge: object names (one `make*Name()` per kind), external ids
 * (the original's keys and our owner keys), the NB state node initialisation reads, and
 * PURE `plan*` builders that return OVSDB operations without I/O. Applying an
 * unchanged desired state yields no operation.
 *
 * @module
 */
export * from "./cluster_ops.ts";
export * from "./external_ids.ts";
export * from "./lb_layout.ts";
export * from "./lb_ops.ts";
export * from "./names.ts";
export * from "./nb_state.ts";
export * from "./node_ops.ts";
export { hasWrites } from "./_diff.ts";
export * from "./gateway_ops.ts";
export * from "./gateway_state.ts";

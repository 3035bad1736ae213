/**
 * Object names, one `make*Name()` per kind, as the original ovn-kubernetes named them so
 * a cluster it made keeps working (reference §6.2, Appendix A).
 *
 * The cluster router is the exception: the original named it after the master node,
 * which clashes with the master's node switch (reference §16.14; `ovn-sbctl lflow-list
 * <name>` becomes ambiguous). New clusters get {@linkcode CLUSTER_ROUTER_NAME}, as the Go
 * successor does. Every reader finds the router by `external_ids:k8s-cluster-router=yes`,
 * never by name, so a cluster whose router carries the master's name keeps working and
 * its `rtoj-`/`jtor-` ports keep their names (they are derived from the router's name).
 *
 * @module
 */

/** Name of a newly created cluster router. */
export const CLUSTER_ROUTER_NAME = "ovn_cluster_router";
/** Name of the join switch between the cluster router and gateway routers. */
export const JOIN_SWITCH_NAME = "join";
/** The join switch's network; the cluster router holds `.1`. */
export const JOIN_SUBNET = "100.64.1.0/24";
/** The cluster router's address on the join switch. */
export const JOIN_ROUTER_IP = "100.64.1.1";

/** Longest Kubernetes node name (a DNS-1123 subdomain). */
const MAX_NODE_NAME = 253;

/**
 * Lowercases a node name and checks it is a DNS-1123 subdomain (what Kubernetes accepts
 * as a node name): lowercase letters, digits, `-` and `.`, alphanumeric at both ends of
 * each label, at most 253 characters. The original lowercased only some names (§16.5).
 *
 * @param raw the name given by the operator
 * @returns the lowercased name
 * @throws {RangeError} with the reason, when empty or not a valid node name
 */
export function normalizeNodeName(raw: string): string {
  const name = raw.trim().toLowerCase();
  if (name === "") throw new RangeError("it is empty");
  if (name.length > MAX_NODE_NAME) {
    throw new RangeError(`it is ${name.length} characters long; at most ${MAX_NODE_NAME}`);
  }
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (!name.split(".").every((l) => label.test(l))) {
    throw new RangeError(
      "only letters, digits, '-' and '.' are allowed, starting and ending with a letter or digit",
    );
  }
  return name;
}

/** @returns the node's logical switch name: the (lowercased) node name */
export function makeNodeSwitchName(node: string): string {
  return node;
}

/** @returns the cluster router's port toward a node switch: `rtos-<node>` */
export function makeRouterToSwitchPortName(node: string): string {
  return `rtos-${node}`;
}

/** @returns the node switch's router-type port: `stor-<node>` */
export function makeSwitchToRouterPortName(node: string): string {
  return `stor-${node}`;
}

/** @returns the management logical port (and OVS iface-id): `k8s-<node>` */
export function makeManagementPortName(node: string): string {
  return `k8s-${node}`;
}

/**
 * The management port's OVS internal interface: `k8s-` plus the first 11 characters
 * of the node name, so it fits Linux's 15-character limit.
 *
 * @param node lowercased node name
 * @returns the interface name
 */
export function makeManagementInterfaceName(node: string): string {
  return `k8s-${node.slice(0, 11)}`;
}

/** @returns a router's port toward the join switch: `rtoj-<router>` */
export function makeRouterToJoinPortName(router: string): string {
  return `rtoj-${router}`;
}

/** @returns the join switch's router-type port toward a router: `jtor-<router>` */
export function makeJoinToRouterPortName(router: string): string {
  return `jtor-${router}`;
}

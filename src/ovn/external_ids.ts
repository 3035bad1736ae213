/**
 * External-id keys: the original's identifying keys (found by other tools and by the
 * watcher), and our owner keys (controller, kind, key) on every row we create, so repair
 * can list what we own.
 *
 * @module
 */

/** Keys the original wrote and read; kept verbatim. */
export const ORIGINAL_IDS = {
  /** On the cluster router: `yes`. */
  clusterRouter: "k8s-cluster-router",
  /** On the cluster TCP load balancer: `yes`. */
  clusterLbTcp: "k8s-cluster-lb-tcp",
  /** On the cluster UDP load balancer: `yes`. */
  clusterLbUdp: "k8s-cluster-lb-udp",
  /** On router ports toward the join switch: `yes`. */
  connectToJoin: "connect_to_join",
  /** On a node switch: the router port address with prefix, e.g. `192.168.1.1/24`. */
  gatewayIp: "gateway_ip",
} as const;

/** On the cluster router: the cluster subnet, so minions and `run` can infer it. */
export const CLUSTER_SUBNET_ID = "k8s-cluster-subnet";
/** On a node switch: `auto` when its subnet was allocated by ovn-k8s. */
export const SUBNET_ALLOCATED_ID = "k8s-subnet-allocated";

/** Owner keys. */
export const OWNER_IDS = {
  /** Which part of ovn-k8s made the row, e.g. `node-init`. */
  controller: "ovn-k8s-owner",
  /** What the row is, e.g. `node-switch`. */
  kind: "ovn-k8s-kind",
  /** Which object it belongs to, e.g. the node name. */
  key: "ovn-k8s-key",
} as const;

/** The controller name of rows made by master-init and minion-init. */
export const INIT_CONTROLLER = "node-init";

/** The controller name of rows made by the watcher (pods, services). */
export const WATCHER_CONTROLLER = "watcher";

/**
 * Owner external ids for a row.
 *
 * @param kind what the row is (`cluster-router`, `node-switch`, ...)
 * @param key the object it belongs to (a node name); omitted for cluster-wide rows
 * @param controller the owner, default {@linkcode INIT_CONTROLLER}
 * @returns the keys to merge into the row's external_ids
 */
export function ownerIds(
  kind: string,
  key?: string,
  controller: string = INIT_CONTROLLER,
): Record<string, string> {
  return {
    [OWNER_IDS.controller]: controller,
    [OWNER_IDS.kind]: kind,
    ...(key === undefined ? {} : { [OWNER_IDS.key]: key }),
  };
}

/**
 * The `Open_vSwitch` row's `external_ids`: the keys OVN and ovn-k8s read (reference
 * §2), and the operations that set them idempotently.
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";
import { mapMutateOps } from "../ovsdb/mod.ts";
import type { OvsRoot } from "./local_state.ts";

/** Keys of the local `Open_vSwitch` `external_ids` used by OVN and ovn-k8s. */
export const HOST_KEYS = {
  /** SB database for ovn-controller. */
  ovnRemote: "ovn-remote",
  /** NB database for the init commands. */
  ovnNb: "ovn-nb",
  /** Local tunnel endpoint. */
  encapIp: "ovn-encap-ip",
  /** Tunnel type: geneve, stt or vxlan. */
  encapType: "ovn-encap-type",
  /** Chassis name, unique and persistent per host. */
  systemId: "system-id",
  /** Kubernetes API server. */
  apiServer: "k8s-api-server",
  /** This host's roles: comma-separated `master`, `minion`, `gateway`, `central`. */
  roles: "ovn-k8s-roles",
  /** The Kubernetes node name. */
  nodeName: "ovn-k8s-node-name",
  /** The cluster subnet. */
  clusterSubnet: "ovn-k8s-cluster-subnet",
  /** This node's subnet, or `auto`. */
  nodeSubnet: "ovn-k8s-node-subnet",
  /** Prefix length of an allocated node subnet. */
  nodeSubnetSize: "ovn-k8s-node-subnet-size",
  /** The service cluster IP range. */
  serviceCidr: "ovn-k8s-service-cidr",
  /** The gateway's NIC or bridge. */
  gatewayInterface: "ovn-k8s-gateway-interface",
  /** Gateway mode: `nic`, `bridge` or `auto`. */
  gatewayMode: "ovn-k8s-gateway-mode",
  /** The gateway's external address, `IP/MASK`. */
  gatewayIp: "ovn-k8s-gateway-ip",
  /** The gateway's external next hop. */
  gatewayNextHop: "ovn-k8s-gateway-nexthop",
  /** Comma-separated rampout CIDRs of the gateway. */
  gatewayRampout: "ovn-k8s-gateway-rampout",
  /** Shared-bridge gateway: the NIC on the bridge (for the gateway helper). */
  gatewayNic: "ovn-k8s-gateway-nic",
  /** Overlay MTU. */
  mtu: "ovn-k8s-mtu",
  /** Hostname (written by OVS packaging; a fallback node name). */
  hostname: "hostname",
  /** Flags `ovn-k8s run` passes to the central role (space-separated). */
  centralOptions: "ovn-k8s-central-options",
  /** Flags `ovn-k8s run` passes to the watcher on a master (space-separated). */
  watcherOptions: "ovn-k8s-watcher-options",
  /** Datapath type of br-int when ovn-controller creates it. */
  bridgeDatapathType: "ovn-bridge-datapath-type",
} as const;

/**
 * Operations that set `external_ids` keys on the `Open_vSwitch` row (creating the row
 * when the database is fresh, as `ovs-vsctl init` would).
 *
 * @param root the row as read, or `undefined`
 * @param desired keys and values to set
 * @param remove keys to remove
 * @returns operations; empty when everything already matches
 */
export function setHostIdsOps(
  root: OvsRoot | undefined,
  desired: Record<string, string>,
  remove: readonly string[] = [],
): Operation[] {
  if (!root) {
    return [{ op: "insert", table: "Open_vSwitch", row: { external_ids: desired } }];
  }
  return mapMutateOps(
    "Open_vSwitch",
    root._uuid,
    "external_ids",
    root.external_ids,
    desired,
    remove,
  );
}

/**
 * The sandbox: "hosts in namespaces" on one machine, as product code. Used by
 * `ovn-k8s sandbox` and by the integration and end-to-end tests.
 *
 * ## For tests and other roles
 *
 * ```ts
 * import { startLab } from "../../src/sandbox/mod.ts";
 *
 * await using lab = await startLab({ nodes: 3, prefix: "mytest1" });
 * lab.central.nbRemote;              // "tcp:172.31.x.2:6641" (underlay, reachable from nodes)
 * lab.central.sbRemote;              // "tcp:172.31.x.2:6642"
 * lab.central.nbSock;                // unix socket path (any namespace on this machine)
 * lab.underlay.rootIp;               // the root namespace's underlay address
 * const n1 = lab.node("node1");      // or lab.nodes[0]
 * n1.netns; n1.netnsPath;            // "mytest1-node1", "/run/netns/mytest1-node1"
 * n1.ovsRunDir; n1.ovsDbSock;        // OVS_RUNDIR, its db.sock (n1.ovsDbRemote = "unix:...")
 * n1.underlayIp;                     // on br-phy, geneve endpoint
 * // Run a role exactly as a systemd unit on that host would:
 * await n1.exec(["dist/ovn-k8s", "master-init", "--node-name", "node1", ...]);
 * await n1.exec(["ping", "-c1", lab.node("node2").underlayIp]);
 * await lab.prePing();               // again, after adding tunnel peers (gotcha G3)
 * // leaving the block (or `await lab.down()`) kills every process in the lab's
 * // namespaces, deletes them and their links, and removes the state directory.
 * ```
 *
 * - Options: `nodes` (default 0: central only), `prefix` (1-12 of `[a-z0-9-]`, names
 *   every namespace and link, so labs coexist; default random), `dir` (default a new temp
 *   dir), `underlay`, `configureOvn`, `runner`, `log`, `timeoutMs`, `onProgress`.
 * - Each node runs its own ovsdb-server, ovs-vswitchd (datapath_type=netdev) and
 *   ovn-controller inside its namespace (`n.daemons`); `n.exec` sets OVS_RUNDIR,
 *   OVN_RUNDIR, ... to the node's run directory, so `ovs-vsctl`, `ovs-appctl -t
 *   ovs-vswitchd.ctl`, `ovn-appctl -t ovn-controller` work unchanged inside it.
 * - Underlay: the node's IP sits on the OVS bridge `br-phy` (port `eth1`); every veth the
 *   lab makes has tx checksum offload off (G1); nodes run with rp_filter=1, arp_ignore=1
 *   (G2); peers are pre-pinged (G3). Pod veths are the CNI plugin's business (G1 again).
 * - With the default `configureOvn: true` every node's `external_ids` carry system-id and
 *   hostname (= node name), ovn-remote (= `lab.central.sbRemote`), ovn-nb
 *   (= `lab.central.nbRemote`), ovn-encap-type geneve, ovn-encap-ip (= underlay IP), and
 *   `startLab` returns once every chassis is registered in SB, has created br-int and has a
 *   geneve tunnel to every peer. With `configureOvn: false` only
 *   `ovn-bridge-datapath-type=netdev` is set: run `ovn-k8s setup-host` in each node.
 * - The underlay is a free /24 of 172.31.0.0/16 (checked against this machine's routes),
 *   or `underlay`. Root `.1`, central `.2` (own namespace `PREFIX-central`), node i `.10+i`.
 * - `down()` also kills processes that `exec` left running in the lab's namespaces
 *   (long-running roles), found with `ip netns pids`.
 * - `openLab(dir)` re-opens a lab that another process started (for `status`, `down`).
 *
 * @module
 */
export {
  checkPrefix,
  Lab,
  type LabCentral,
  type LabNode,
  type LabOptions,
  type LabState,
  type LabStatus,
  type NodeStatus,
  openLab,
  startLab,
} from "./lab.ts";
export * from "./underlay.ts";
export type { ChassisInfo } from "./_ovsdb_io.ts";
export * from "./format.ts";
export type { DatabaseInfo } from "./_ovsdb_io.ts";
export {
  type CheckResult,
  clusterDown,
  type ClusterSummary,
  clusterSummary,
  clusterUp,
  type ClusterUpOptions,
  type PodSummary,
  SANDBOX_NETWORKS,
  setupHostArgs,
} from "./cluster.ts";
export * from "./cluster_state.ts";
export * from "./cni_runtime.ts";
export {
  killNetnsProcesses,
  Kubelet,
  type KubeletNode,
  type KubeletOptions,
  newContainerId,
  nodeReadyCondition,
  podNetnsName,
  type PodProcess,
  type PodRecord,
  type PodSpawner,
  podStatusPatch,
} from "./kubelet.ts";
export { pickNode, Scheduler } from "./scheduler.ts";
export { serve, type ServeOptions } from "./serve.ts";
export { runSupervisor } from "./supervisor.ts";

/**
 * OVS and OVN daemons with explicit paths: start (detached), adopt by pidfile, health
 * check over unixctl, stop by pid, supervise and restart. {@linkcode Central} composes the
 * NB and SB ovsdb-servers (standalone or RAFT) and ovn-northd; the `*Spec` builders
 * describe a host's ovsdb-server, ovs-vswitchd and ovn-controller, optionally inside a
 * network namespace. Nothing here uses the system default paths.
 *
 * ```ts
 * const central = new Central({ ...DISTRO_DIRS, listenAddress: "0.0.0.0", nbPort: 6641, sbPort: 6642 },
 *   { runner, log });
 * await central.ensure({ timeoutMs: 20_000 });
 * const { nbRemote, sbRemote } = await central.remotes();
 * ```
 *
 * @module
 */
export * from "./central.ts";
export * from "./cluster_status.ts";
export * from "./daemon.ts";
export * from "./process.ts";
export * from "./programs.ts";
export * from "./supervise.ts";
export * from "./wait.ts";

/**
 * The explicit registry of ovn-k8s subcommands. Each entry loads its role module
 * lazily, so a role only pays for what it imports (the CNI path never loads the
 * Kubernetes client library). No import-time registration.
 *
 * @module
 */
import type { RoleMain } from "./context.ts";

export type { EnvReader, RoleContext, RoleMain } from "./context.ts";

/** One subcommand. */
export interface RoleEntry {
  /** Subcommand name. */
  name: string;
  /** One-line help. */
  summary: string;
  /** Loads the role module; absent while the role is not built yet. */
  load?: () => Promise<{ main: RoleMain }>;
}

/** Every subcommand, in help order. */
export const ROLES: readonly RoleEntry[] = [
  {
    name: "central",
    summary: "start or adopt the OVN NB/SB databases and ovn-northd",
    load: () => import("./central.ts"),
  },
  {
    name: "setup-host",
    summary: "one-time host setup: write ovn-k8s settings into OVS external_ids",
    load: () => import("./setup_host.ts"),
  },
  {
    name: "master-init",
    summary: "initialize the cluster router, join switch and master node switch",
    load: () => import("./master_init.ts"),
  },
  {
    name: "minion-init",
    summary: "initialize a node switch, management port and CNI config",
    load: () => import("./minion_init.ts"),
  },
  {
    name: "gateway-init",
    summary: "initialize a gateway router (dedicated NIC or shared bridge)",
    load: () => import("./gateway_init.ts"),
  },
  {
    name: "nics-to-bridge",
    summary: "move NICs' addresses and routes onto OVS bridges br<nic>",
    load: () => import("./nics_to_bridge.ts"),
  },
  {
    name: "gateway-helper",
    summary: "demultiplex a shared NIC between the host and OVN",
    load: () => import("./gateway_helper.ts"),
  },
  {
    name: "watcher",
    summary: "program pods, services and endpoints into OVN",
    load: () => import("./watcher.ts"),
  },
  {
    name: "cni",
    summary: "the CNI plugin (also ovn-k8s-cni-overlay, ovn_cni, or CNI_COMMAND set)",
    load: () => import("./cni.ts"),
  },
  {
    name: "run",
    summary: "run this host's roles as read from OVS external_ids",
    load: () => import("./run.ts"),
  },
  {
    name: "sandbox",
    summary: "bring a small cluster up on this machine (up, status, exec, down)",
    load: () => import("./sandbox.ts"),
  },
  {
    name: "status",
    summary: "show what this host runs and how it is connected",
    load: () => import("./status.ts"),
  },
  { name: "version", summary: "print the version", load: () => import("./version.ts") },
];

/**
 * Finds a subcommand by name.
 *
 * @param name subcommand name
 * @returns the entry, or `undefined`
 */
export function findRole(name: string): RoleEntry | undefined {
  return ROLES.find((r) => r.name === name);
}

/**
 * `ovn-k8s minion-init` (also `ovn-k8s-overlay minion-init`): this node's switch, router
 * port and management port, attached to the cluster router and load balancers that
 * master-init made, plus the `ovn_cni` link and the CNI network config (reference §5,
 * §6). `--cluster-ip-subnet` may be left out: master-init records it on the cluster
 * router. Re-running with the same input writes nothing.
 *
 * @module
 */
import { renderUsage } from "../cli/mod.ts";
import { CNI_OPTIONS, COMMON_INIT_OPTIONS, realInitDeps, runNodeInitCommand } from "./_init_cli.ts";
import type { NodeInitDeps } from "./_node_init.ts";
import type { RoleContext } from "./context.ts";

const OPTIONS = {
  "minion-switch-subnet": {
    type: "string",
    arg: "CIDR",
    help: "this node's subnet (seed name of --node-subnet)",
  },
  ...COMMON_INIT_OPTIONS,
  ...CNI_OPTIONS,
} as const;
const USAGE = renderUsage(
  "ovn-k8s minion-init [--cluster-ip-subnet CIDR] --minion-switch-subnet CIDR|auto --node-name NAME [options]",
  "Create this node's switch and management port, and install the CNI plugin link and config.",
  OPTIONS,
);

/**
 * Runs minion-init with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries (default: real processes, OVSDB, files)
 * @returns exit code
 */
export function runMinionInit(
  args: string[],
  ctx: RoleContext,
  deps: NodeInitDeps = realInitDeps(ctx.log),
): Promise<number> {
  return runNodeInitCommand(
    { role: "minion", subnetFlag: "minion-switch-subnet", options: OPTIONS, usage: USAGE },
    args,
    ctx,
    deps,
  );
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runMinionInit(args, ctx);
}

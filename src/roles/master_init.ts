/**
 * `ovn-k8s master-init` (also `ovn-k8s-overlay master-init`): the cluster router, the
 * cluster load balancers, the join switch, and the master's node switch and management
 * port (reference §4, §6). Re-running with the same input writes nothing.
 *
 * @module
 */
import { renderUsage } from "../cli/mod.ts";
import { COMMON_INIT_OPTIONS, realInitDeps, runNodeInitCommand } from "./_init_cli.ts";
import type { NodeInitDeps } from "./_node_init.ts";
import type { RoleContext } from "./context.ts";

const OPTIONS = {
  "master-switch-subnet": {
    type: "string",
    arg: "CIDR",
    help: "this node's subnet (seed name of --node-subnet)",
  },
  ...COMMON_INIT_OPTIONS,
} as const;
const USAGE = renderUsage(
  "ovn-k8s master-init --cluster-ip-subnet CIDR --master-switch-subnet CIDR|auto --node-name NAME [options]",
  "Create the cluster router, load balancers and join switch, and this node's switch and management port.",
  OPTIONS,
);

/**
 * Runs master-init with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries (default: real processes, OVSDB, files)
 * @returns exit code
 */
export function runMasterInit(
  args: string[],
  ctx: RoleContext,
  deps: NodeInitDeps = realInitDeps(ctx.log),
): Promise<number> {
  return runNodeInitCommand(
    { role: "master", subnetFlag: "master-switch-subnet", options: OPTIONS, usage: USAGE },
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
  return runMasterInit(args, ctx);
}

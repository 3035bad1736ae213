/**
 * Maps the name the binary was started under (the original ovn-kubernetes command
 * names) and the CNI environment to an `ovn-k8s` subcommand line.
 *
 * @module
 */

/** How one original program name maps onto ovn-k8s. */
interface Alias {
  /** Subcommand to run. */
  command?: string;
  /** The first argument selects among these subcommands (ovn-k8s-overlay, ovn-k8s-util). */
  dispatch?: readonly string[];
}

/** Original program names and what they mean. */
export const PROGRAM_ALIASES: Readonly<Record<string, Alias>> = {
  "ovn-k8s-overlay": { dispatch: ["master-init", "minion-init", "gateway-init"] },
  "ovn-k8s-util": { dispatch: ["nics-to-bridge"] },
  "ovn-k8s-gateway-helper": { command: "gateway-helper" },
  "ovn-k8s-watcher": { command: "watcher" },
  "ovn-k8s-cni-overlay": { command: "cni" },
  "ovn_cni": { command: "cni" },
};

/** Result of resolving the invocation. */
export type Invocation =
  | { kind: "command"; args: string[]; alias?: string }
  | { kind: "alias-usage"; alias: string; choices: readonly string[]; message: string };

/**
 * Turns (program name, args, env) into the ovn-k8s command line to run.
 *
 * @param programName basename of argv[0]
 * @param args process arguments
 * @param cniCommand value of `CNI_COMMAND`, if set
 * @returns the subcommand line, or a usage failure for an alias without a valid verb
 */
export function resolveInvocation(
  programName: string,
  args: string[],
  cniCommand: string | undefined,
): Invocation {
  const base = programName.replace(/^.*\//, "").replace(/\.(js|ts|exe)$/, "");
  const alias = PROGRAM_ALIASES[base];
  if (alias?.command) return { kind: "command", args: [alias.command, ...args], alias: base };
  if (alias?.dispatch) {
    const [verb, ...rest] = args;
    if (verb && alias.dispatch.includes(verb)) {
      return { kind: "command", args: [verb, ...rest], alias: base };
    }
    return {
      kind: "alias-usage",
      alias: base,
      choices: alias.dispatch,
      message: verb ? `unknown command "${verb}"` : "missing command",
    };
  }
  // A container runtime calls the plugin by whatever name it was installed under.
  if (cniCommand !== undefined && cniCommand !== "" && args.length === 0) {
    return { kind: "command", args: ["cni"] };
  }
  return { kind: "command", args };
}

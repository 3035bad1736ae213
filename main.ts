/**
 * ovn-k8s: Kubernetes pod networking on OVN, one binary.
 *
 * This file only parses argv/argv0/env, picks the role, wires SIGINT/SIGTERM to one
 * AbortController and returns an exit code. `main(args, deps)` is testable.
 *
 * @module
 */
// Only light modules are imported statically: a role's own imports load with the role, and
// no node: module loads before a role needs one (node compat costs ~15 ms at start, which
// the CNI path cannot afford).
import { exitCodeOf, UsageError } from "./src/cli/errors.ts";
import { resolveInvocation } from "./src/cli/program_name.ts";
import { VERSION } from "./src/cli/version.ts";
import { createLogger, printErr, printOut } from "./src/log/logger.ts";
import { findRole, type RoleContext, ROLES } from "./src/roles/mod.ts";

/** Injected boundaries of {@linkcode main}. */
export interface MainDeps {
  /** Name the binary was started under. */
  argv0: string;
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** stdout writer. */
  stdout: (text: string) => void;
  /** stderr writer. */
  stderr: (text: string) => void;
}

/** Top-level usage text. */
export function topUsage(): string {
  const rows = ROLES.map((r) =>
    `  ${r.name.padEnd(16)} ${r.summary}${r.load ? "" : " (not built yet)"}`
  );
  return [
    `ovn-k8s ${VERSION}: Kubernetes pod networking on OVN`,
    "",
    "Usage: ovn-k8s <command> [options]",
    "       ovn-k8s <command> --help",
    "",
    "Commands:",
    ...rows,
    "",
    "Also answers to the original names: ovn-k8s-overlay {master-init,minion-init,gateway-init},",
    "ovn-k8s-util nics-to-bridge, ovn-k8s-gateway-helper, ovn-k8s-watcher, ovn-k8s-cni-overlay, ovn_cni.",
  ].join("\n");
}

/**
 * Runs ovn-k8s.
 *
 * @param args process arguments
 * @param deps injected boundaries
 * @returns the exit code
 */
export async function main(args: string[], deps: MainDeps): Promise<number> {
  const inv = resolveInvocation(deps.argv0, args, deps.env("CNI_COMMAND"));
  if (inv.kind === "alias-usage") {
    deps.stderr(
      `${inv.alias}: ${inv.message}\nUsage: ${inv.alias} {${inv.choices.join(",")}} [options]`,
    );
    return 2;
  }
  const [command, ...rest] = inv.args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? deps.stderr : deps.stdout)(topUsage());
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V") return main(["version"], deps);
  const role = findRole(command);
  if (!role) {
    deps.stderr(`ovn-k8s: unknown command "${command}"\n\n${topUsage()}`);
    return 2;
  }
  if (!role.load) {
    deps.stderr(`ovn-k8s: "${command}" is not built yet in ovn-k8s ${VERSION}`);
    return 2;
  }
  const ctx: RoleContext = {
    signal: deps.signal,
    env: deps.env,
    log: createLogger(command),
    stdout: deps.stdout,
    ...(inv.alias ? { invokedAs: inv.alias } : {}),
  };
  try {
    const mod = await role.load();
    return await mod.main(rest, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      deps.stderr(`ovn-k8s ${command}: ${err.message}\n\n${err.usage}`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    deps.stderr(`ovn-k8s ${command}: ${msg}`);
    return exitCodeOf(err);
  }
}

if (import.meta.main) {
  const ac = new AbortController();
  const onSignal = () => ac.abort(new DOMException("interrupted", "AbortError"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  // The name we were started under needs node:process; a container runtime calling the
  // CNI plugin (CNI_COMMAND set, no arguments) does not need it, so it is not loaded then.
  const cniCall = Deno.args.length === 0 && !!Deno.env.get("CNI_COMMAND");
  const argv0 = Deno.env.get("OVN_K8S_ARGV0") ??
    (cniCall ? "ovn-k8s" : (await import("node:process")).default.argv0);
  const code = await main(Deno.args, {
    argv0,
    env: (name) => Deno.env.get(name),
    signal: ac.signal,
    stdout: printOut,
    stderr: printErr,
  });
  Deno.exit(code);
}

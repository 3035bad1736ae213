/**
 * `ovn-k8s version`: prints the version of ovn-k8s and of the runtime it carries.
 *
 * @module
 */
import { parseCommand, renderUsage, VERSION } from "../cli/mod.ts";
import type { RoleContext } from "./context.ts";

const OPTIONS = { json: { type: "boolean", help: "print JSON" } } as const;
const USAGE = renderUsage("ovn-k8s version [--json]", "Print the ovn-k8s version.", OPTIONS);

/**
 * @param args `--json`
 * @param ctx role context
 * @returns exit code 0
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  const opts = parseCommand(args, OPTIONS, USAGE);
  const info = { ovnK8s: VERSION, deno: Deno.version.deno, v8: Deno.version.v8 };
  ctx.stdout(
    opts.flag("json")
      ? JSON.stringify(info)
      : `ovn-k8s ${info.ovnK8s} (deno ${info.deno}, v8 ${info.v8})`,
  );
  return Promise.resolve(0);
}

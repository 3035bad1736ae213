/**
 * `ovn-k8s sandbox up|status|down`: a small OVN cluster on this machine, in network
 * namespaces (see src/sandbox). `up` brings up central OVN and N node namespaces with OVS
 * and ovn-controller, prints progress and a summary, and exits leaving it running;
 * `status` prints the summary of a running sandbox; `down` removes everything.
 *
 * @module
 */
import { parseCommand, renderUsage, UsageError, ValidationError } from "../cli/mod.ts";
import { checkPrefix, formatLabStatus, labHealthy, openLab, startLab } from "../sandbox/mod.ts";
import { createLogger } from "../log/mod.ts";
import type { RoleContext } from "./context.ts";

/** Where the sandbox keeps its state unless `--dir` says otherwise. */
export const DEFAULT_SANDBOX_DIR = "/run/ovn-k8s-sandbox";

const OPTIONS = {
  nodes: { type: "string", arg: "N", help: "up: number of node namespaces (default 3)" },
  dir: { type: "string", arg: "DIR", help: `state directory (default ${DEFAULT_SANDBOX_DIR})` },
  prefix: { type: "string", arg: "NAME", help: "up: namespace/link name prefix (default ovnk8s)" },
  underlay: { type: "string", arg: "CIDR", help: "up: underlay /24 (default: a free one)" },
  json: { type: "boolean", help: "status as JSON" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s sandbox {up|status|down} [options]",
  "Bring a small OVN cluster up on this machine in network namespaces, show it, remove it.",
  OPTIONS,
);

/**
 * Runs `ovn-k8s sandbox`.
 *
 * @param args verb and options
 * @param ctx role context
 * @returns exit code
 */
export async function main(args: string[], ctx: RoleContext): Promise<number> {
  const o = parseCommand(args, OPTIONS, USAGE, true);
  const [verb, ...extra] = o.positionals;
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, USAGE);
  const dir = o.string("dir") ?? DEFAULT_SANDBOX_DIR;
  // Progress and results go to stdout; per-daemon log lines only when a level is asked for.
  const log = ctx.env("OVN_K8S_LOG_LEVEL") ? ctx.log : createLogger("sandbox", { level: "warn" });
  if ((verb === "up" || verb === "down") && Deno.uid() !== 0) {
    throw new ValidationError(
      `Cannot run \`ovn-k8s sandbox ${verb}\` as user ${Deno.uid()}: it creates network ` +
        "namespaces and links; run it as root (sudo)",
    );
  }
  switch (verb) {
    case "up": {
      const nodesText = o.string("nodes") ?? "3";
      if (!/^[0-9]+$/.test(nodesText) || Number(nodesText) > 50) {
        throw new ValidationError(`Cannot use --nodes "${nodesText}": give a number 0-50`);
      }
      const prefix = o.string("prefix") ?? "ovnk8s";
      try {
        checkPrefix(prefix);
      } catch (err) {
        throw new ValidationError((err as Error).message);
      }
      const existing = await openLab(dir, { log });
      if (existing) {
        const st = await existing.status();
        ctx.stdout(formatLabStatus(st));
        if (labHealthy(st)) {
          ctx.stdout(`sandbox is already up; \`ovn-k8s sandbox down --dir ${dir}\` removes it`);
          return 0;
        }
        throw new Error(
          `Cannot bring the sandbox up in ${dir}: one is there but not healthy (above); ` +
            `run \`ovn-k8s sandbox down --dir ${dir}\` first`,
        );
      }
      const underlay = o.string("underlay");
      let lab;
      try {
        lab = await startLab({
          nodes: Number(nodesText),
          prefix,
          dir,
          ...(underlay !== undefined ? { underlay } : {}),
          log,
          onProgress: (m) => ctx.stdout(`.. ${m}`),
        });
      } catch (err) {
        if (err instanceof RangeError || err instanceof SyntaxError) {
          throw new ValidationError(err.message);
        }
        throw err;
      }
      ctx.stdout(formatLabStatus(await lab.status()));
      ctx.stdout(
        `\nNB: ${lab.central.nbRemote}  SB: ${lab.central.sbRemote}\n` +
          `Run a command on a node: ip netns exec ${
            lab.nodes[0]?.netns ?? `${prefix}-node1`
          } ...\n` +
          `Remove it all: ovn-k8s sandbox down${
            dir === DEFAULT_SANDBOX_DIR ? "" : ` --dir ${dir}`
          }`,
      );
      return 0;
    }
    case "status": {
      const lab = await openLab(dir, { log });
      if (!lab) {
        ctx.stdout(`no sandbox in ${dir}; \`ovn-k8s sandbox up\` starts one`);
        return 3;
      }
      const st = await lab.status();
      ctx.stdout(o.flag("json") ? JSON.stringify(st) : formatLabStatus(st));
      return labHealthy(st) ? 0 : 1;
    }
    case "down": {
      const lab = await openLab(dir, { log });
      if (!lab) {
        ctx.stdout(`no sandbox in ${dir}; nothing to remove`);
        return 0;
      }
      await lab.down();
      ctx.stdout(`sandbox "${lab.prefix}" removed (namespaces, processes, links, ${dir})`);
      return 0;
    }
    case undefined:
      throw new UsageError("missing command: up, status or down", USAGE);
    default:
      throw new UsageError(`unknown command "${verb}": use up, status or down`, USAGE);
  }
}

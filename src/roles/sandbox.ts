/**
 * `ovn-k8s sandbox up|status|exec|down`: a small Kubernetes cluster on OVN on this
 * machine, in network namespaces (see src/sandbox and docs/sandbox.md).
 *
 * - `up [--nodes N] [--keep]`: the lab (central OVN, N nodes with their own OVS and
 *   ovn-controller), the API emulator (https + token, kubeconfig written for the user),
 *   `setup-host` then `run` in every node as its systemd unit would (node1 is the master
 *   and runs the watcher), a kubelet stand-in per node; then a demo workload and the
 *   connectivity checks. It prints progress, then a summary; the cluster keeps running
 *   after `up` returns (a detached supervisor process, pidfile in the state directory).
 * - `status`: the summary of the running sandbox.
 * - `exec POD -- CMD...`: runs a command in a pod's network namespace.
 * - `down`: stops everything and removes every process, namespace, link and file.
 * - `serve` (what the demo pods run) and `_supervise` (the detached supervisor) are
 *   internal.
 *
 * @module
 */
import { parseCommand, renderUsage, UsageError, ValidationError } from "../cli/mod.ts";
import {
  checkPrefix,
  clusterDown,
  clusterPaths,
  type ClusterSummary,
  clusterSummary,
  clusterUp,
  findClusterState,
  formatClusterSummary,
  formatLabStatus,
  labHealthy,
  openLab,
  type PodRecord,
  runSupervisor,
  serve,
} from "../sandbox/mod.ts";
import { createLogger } from "../log/mod.ts";
import type { RoleContext } from "./context.ts";
import { selfExecutable } from "./_node_init.ts";

/** Where the sandbox keeps its state unless `--dir` says otherwise. */
export const DEFAULT_SANDBOX_DIR = "/run/ovn-k8s-sandbox";

const OPTIONS = {
  nodes: { type: "string", arg: "N", help: "up: number of nodes (default 3; node1 is the master)" },
  keep: { type: "boolean", help: "up: when a step fails, leave everything for inspection" },
  "no-demo": { type: "boolean", help: "up: no demo workload and no connectivity checks" },
  dir: { type: "string", arg: "DIR", help: `state directory (default ${DEFAULT_SANDBOX_DIR})` },
  prefix: { type: "string", arg: "NAME", help: "up: namespace/link name prefix (default ovnk8s)" },
  underlay: { type: "string", arg: "CIDR", help: "up: underlay /24 (default: a free one)" },
  "api-port": { type: "string", arg: "PORT", help: "up: API server port (default 6443)" },
  namespace: { type: "string", short: "n", arg: "NS", help: "exec: pod namespace (default)" },
  json: { type: "boolean", help: "status as JSON" },
  http: { type: "string", arg: "PORT", help: "serve: HTTP port" },
  udp: { type: "string", arg: "PORT", help: "serve: UDP echo port" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s sandbox {up|status|exec POD -- CMD...|down} [options]",
  "Bring a small Kubernetes-on-OVN cluster up on this machine in network namespaces, show it,\n" +
    "run a command in one of its pods, remove it. Needs root.",
  OPTIONS,
);

/**
 * The argv prefix that runs this binary in other processes: the compiled binary or the
 * bundle's launcher; from source (`deno run main.ts`), the launcher `dist/ovn-k8s`
 * beside it, which the CNI link needs anyway.
 *
 * @returns the argv prefix
 * @throws {ValidationError} when running from source without dist/ovn-k8s
 */
function selfArgv(): string[] {
  const exists = (p: string) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  };
  if (Deno.mainModule.endsWith(".js")) {
    // The launcher beside the bundle, or one level up from a code-split bundle's main.js.
    const self = selfExecutable();
    const up = new URL("../ovn-k8s", Deno.mainModule).pathname;
    return [exists(self) ? self : up];
  }
  if (!Deno.mainModule.endsWith(".ts")) return [selfExecutable()];
  const launcher = new URL("./dist/ovn-k8s", Deno.mainModule).pathname;
  try {
    Deno.statSync(launcher);
  } catch {
    throw new ValidationError(
      `Cannot run the sandbox from source without ${launcher}: the nodes run the binary; ` +
        "build it with `deno task compile-ready`",
    );
  }
  return [launcher];
}

function intFlag(name: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ValidationError(`Cannot use --${name} "${text}": give a number ${min}-${max}`);
  }
  return Number(text);
}

/**
 * Formats what `up` and `status` print after the progress lines.
 *
 * @param s the summary
 * @param defaultDir the default state directory (omitted from hints when equal)
 * @returns text
 */
function hints(s: ClusterSummary, defaultDir: string): string {
  const dirFlag = s.dir === defaultDir ? "" : ` --dir ${s.dir}`;
  let self = "ovn-k8s";
  try {
    self = selfArgv().join(" ");
  } catch { /* from source without dist/: keep the name */ }
  const client = s.pods.find((p) => p.name === "client");
  const web = s.pods.find((p) => p.name.startsWith("web-") && p.node !== client?.node) ??
    s.pods.find((p) => p.name.startsWith("web-"));
  return [
    "",
    "Continue with kubectl:",
    `  export KUBECONFIG=${s.kubeconfig}`,
    "  kubectl get nodes,pods,svc -o wide",
    ...(client && web
      ? [`  ${self} sandbox exec client${dirFlag} -- curl -s http://${web.ip}:8080/`]
      : []),
    `Remove it all: ${self} sandbox down${dirFlag}`,
  ].join("\n");
}

/**
 * Runs `ovn-k8s sandbox`.
 *
 * @param args verb and options
 * @param ctx role context
 * @returns exit code
 */
export async function main(args: string[], ctx: RoleContext): Promise<number> {
  const dash = args.indexOf("--");
  const command = dash >= 0 ? args.slice(dash + 1) : [];
  const o = parseCommand(dash >= 0 ? args.slice(0, dash) : args, OPTIONS, USAGE, true);
  const [verb, ...extra] = o.positionals;
  const dir = o.string("dir") ?? DEFAULT_SANDBOX_DIR;
  // Progress and results go to stdout; per-daemon log lines only when a level is asked for.
  const log = ctx.env("OVN_K8S_LOG_LEVEL") ? ctx.log : createLogger("sandbox", { level: "warn" });
  if (verb !== "exec" && extra.length) {
    throw new UsageError(`unexpected argument "${extra[0]}"`, USAGE);
  }
  if ((verb === "up" || verb === "down" || verb === "exec") && Deno.uid() !== 0) {
    throw new ValidationError(
      `Cannot run \`ovn-k8s sandbox ${verb}\` as user ${Deno.uid()}: it creates network ` +
        "namespaces and links; run it as root (sudo)",
    );
  }
  switch (verb) {
    case "up":
      return await up(o, dir, ctx, log);
    case "status": {
      const lab = await openLab(dir, { log });
      if (!lab) {
        ctx.stdout(`no sandbox in ${dir}; \`ovn-k8s sandbox up\` starts one`);
        return 3;
      }
      const st = await lab.status();
      const cluster = await clusterSummary(dir, { log });
      if (o.flag("json")) {
        ctx.stdout(JSON.stringify({ ...st, cluster }));
      } else {
        ctx.stdout(formatLabStatus(st));
        if (cluster) {
          ctx.stdout(formatClusterSummary(cluster) + hints(cluster, DEFAULT_SANDBOX_DIR));
        }
      }
      const clusterOk = !cluster ||
        (cluster.supervisorPid !== undefined && cluster.nodes.every((n) => n.runPid !== undefined));
      return labHealthy(st) && clusterOk ? 0 : 1;
    }
    case "exec":
      return await exec(extra, command, o.string("namespace") ?? "default", dir);
    case "down": {
      if (!(await clusterDown(dir, { log }))) {
        ctx.stdout(`no sandbox in ${dir}; nothing to remove`);
        return 0;
      }
      ctx.stdout(`sandbox removed (processes, namespaces, links, ${dir})`);
      return 0;
    }
    case "serve": {
      await serve({
        httpPort: o.string("http") ? intFlag("http", o.string("http")!, 1, 65535) : 0,
        udpPort: o.string("udp") ? intFlag("udp", o.string("udp")!, 1, 65535) : 0,
        name: ctx.env("POD_NAME") ?? Deno.hostname(),
        signal: ctx.signal,
        log: ctx.log,
      });
      return 0;
    }
    case "_supervise": {
      const logFile = clusterPaths(dir).supervisorLog;
      const sink = (line: string) => {
        Deno.writeTextFileSync(logFile, line + "\n", { append: true });
      };
      await runSupervisor(dir, {
        signal: ctx.signal,
        log: createLogger("sandbox", { sink }),
      });
      return 0;
    }
    case undefined:
      throw new UsageError("missing command: up, status, exec or down", USAGE);
    default:
      throw new UsageError(`unknown command "${verb}": use up, status, exec or down`, USAGE);
  }
}

async function up(
  o: ReturnType<typeof parseCommand>,
  dir: string,
  ctx: RoleContext,
  log: ReturnType<typeof createLogger>,
): Promise<number> {
  const nodes = intFlag("nodes", o.string("nodes") ?? "3", 1, 50);
  const prefix = o.string("prefix") ?? "ovnk8s";
  try {
    checkPrefix(prefix);
  } catch (err) {
    throw new ValidationError((err as Error).message);
  }
  const apiPort = intFlag("api-port", o.string("api-port") ?? "6443", 1, 65535);
  if (await openLab(dir, { log })) {
    const cluster = await clusterSummary(dir, { log });
    const lab = (await openLab(dir, { log }))!;
    const st = await lab.status();
    if (cluster && labHealthy(st) && cluster.supervisorPid !== undefined) {
      ctx.stdout(formatClusterSummary(cluster) + hints(cluster, DEFAULT_SANDBOX_DIR));
      ctx.stdout(`sandbox is already up; \`ovn-k8s sandbox down --dir ${dir}\` removes it`);
      return 0;
    }
    ctx.stdout(formatLabStatus(st));
    throw new Error(
      `Cannot bring the sandbox up in ${dir}: one is there but not healthy (above); ` +
        `run \`ovn-k8s sandbox down --dir ${dir}\` first`,
    );
  }
  const underlay = o.string("underlay");
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  let summary: ClusterSummary;
  try {
    summary = await clusterUp({
      nodes,
      prefix,
      dir,
      ...(underlay !== undefined ? { underlay } : {}),
      self: selfArgv(),
      apiPort,
      demo: !o.flag("no-demo"),
      keepOnFailure: o.flag("keep"),
      log,
      progress: (m) => ctx.stdout(`.. [${elapsed()}] ${m}`),
    });
  } catch (err) {
    if (err instanceof RangeError || err instanceof SyntaxError) {
      throw new ValidationError(err.message);
    }
    throw err;
  }
  ctx.stdout(formatClusterSummary(summary) + hints(summary, DEFAULT_SANDBOX_DIR));
  return summary.checks.every((c) => c.ok) ? 0 : 1;
}

async function exec(
  positionals: string[],
  command: string[],
  namespace: string,
  dir: string,
): Promise<number> {
  const [pod, ...rest] = positionals;
  if (!pod || rest.length || !command.length) {
    throw new UsageError("exec needs a pod and a command: exec POD -- CMD [ARGS...]", USAGE);
  }
  if (!(await findClusterState(dir))) {
    throw new ValidationError(`Cannot exec in pod ${pod}: no sandbox cluster in ${dir}`);
  }
  const file = `${clusterPaths(dir).pods}/${namespace}_${pod}.json`;
  let record: PodRecord;
  try {
    record = JSON.parse(await Deno.readTextFile(file)) as PodRecord;
  } catch {
    throw new ValidationError(
      `Cannot exec in pod ${namespace}/${pod}: the sandbox runs no such pod (no ${file}); ` +
        "see `kubectl get pods -o wide`",
    );
  }
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", record.netns, ...command],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    env: { POD_NAME: record.name, POD_NAMESPACE: record.namespace },
  }).spawn();
  return (await child.status).code;
}

/**
 * `ovn-k8s cni` (also `ovn-k8s-cni-overlay`, `ovn_cni`, or any name with `CNI_COMMAND`
 * set): the CNI plugin's composition root. Reads the network config from stdin and
 * the `CNI_*` environment, wires the real boundaries (processes, fetch, files) into
 * {@linkcode runCni}, prints only the result or the error JSON on stdout, and logs to
 * the config's `logFile` or stderr.
 *
 * Imports nothing that loads the Kubernetes client library (checked by a test).
 *
 * @module
 */
import {
  type CniDeps,
  IpVeth,
  loadKubeconfig,
  OvsdbPorts,
  podReaderFor,
  runCni,
  VsctlPorts,
} from "../cni/mod.ts";
import { ProcessRunner } from "../exec/mod.ts";
import { createLogger, type Logger, type LogLevel, printOut } from "../log/mod.ts";
import type { RoleContext } from "./context.ts";

const HELP = `Usage: ovn-k8s cni   (run by the container runtime)

The CNI plugin: CNI_COMMAND=ADD|DEL|CHECK|VERSION, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME) in the environment, the network config on stdin.
Network config fields besides the spec's: bridge (br-int), mtu (1400), ovsdb (default
unix:$OVS_RUNDIR/db.sock), ovsDriver (native or ovs-vsctl), kubeconfig,
annotationTimeoutSeconds (30), ovnInstalledTimeoutSeconds (30, 0 = do not wait),
ovsTimeoutSeconds (10), logFile, logLevel.`;

/** Opens the log destination named by the config, or stderr. */
function openLog(stdin: string, fallback: Logger): { log: Logger; close: () => void } {
  let conf: { logFile?: unknown; logLevel?: unknown } = {};
  try {
    conf = JSON.parse(stdin) ?? {};
  } catch { /* reported by the plugin */ }
  const level = typeof conf.logLevel === "string" && /^(debug|info|warn|error)$/.test(conf.logLevel)
    ? conf.logLevel as LogLevel
    : undefined;
  if (typeof conf.logFile !== "string" || conf.logFile === "") {
    return { log: level ? createLogger("cni", { level }) : fallback, close: () => {} };
  }
  try {
    const file = Deno.openSync(conf.logFile, { append: true, create: true });
    const enc = new TextEncoder();
    const log = createLogger("cni", {
      ...(level ? { level } : {}),
      sink: (line) => file.writeSync(enc.encode(line + "\n")),
    });
    return { log, close: () => file.close() };
  } catch (err) {
    fallback.warn("cannot open logFile; logging to stderr", { logFile: conf.logFile, error: err });
    return { log: fallback, close: () => {} };
  }
}

/**
 * Reads stdin to its end with plain reads (`new Response(Deno.stdin.readable).text()`
 * costs ~4 ms more in a fresh process: it loads the streams and fetch body machinery).
 */
async function readStdin(): Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const buf = new Uint8Array(64 * 1024);
    const n = await Deno.stdin.read(buf);
    if (n === null) break;
    parts.push(buf.subarray(0, n));
    size += n;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}

async function netnsExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * @param args none (`--help` prints usage)
 * @param ctx role context: env, stdout, signal
 * @returns 0 on success, 1 when the error JSON was printed
 */
export async function main(args: string[], ctx: RoleContext): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    ctx.stdout(HELP);
    return 0;
  }
  // A runtime always passes the config on stdin; a person at a terminal gets the error
  // about CNI_COMMAND at once instead of a plugin waiting for input.
  const stdin = !ctx.env("CNI_COMMAND") || Deno.stdin.isTerminal() ? "" : await readStdin();
  const { log, close } = openLog(stdin, ctx.log);
  try {
    const runner = new ProcessRunner();
    const deps: CniDeps = {
      veth: new IpVeth(runner),
      ports: (conf) =>
        conf.ovsDriver === "ovs-vsctl"
          ? new VsctlPorts(runner, {
            timeoutMs: conf.ovsTimeoutMs,
            ...(conf.ovsdb ? { db: conf.ovsdb } : {}),
          })
          : new OvsdbPorts({
            remote: conf.ovsdb ??
              `unix:${ctx.env("OVS_RUNDIR") || "/var/run/openvswitch"}/db.sock`,
            timeoutMs: conf.ovsTimeoutMs,
          }),
      podReader: podReaderFor,
      loadKubeconfig: (path) => loadKubeconfig(path),
      netnsExists,
      log,
      signal: ctx.signal,
    };
    const out = await runCni(ctx.env, stdin, deps);
    if (out.stdout) ctx.stdout(out.stdout);
    return out.exitCode;
  } finally {
    close();
  }
}

/**
 * Runs the plugin as a program of its own: the entry of the CNI-only bundle
 * (dist/ovn-k8s-cni.js, see scripts/compile_ready.ts), which the launcher runs for the
 * CNI names and for `CNI_COMMAND` without arguments. It loads no node: module and none of
 * the other roles, so the plugin starts in the Deno runtime's own time. Exits the process.
 *
 * @param args the program's arguments (`--help`)
 */
export async function runStandalone(args: string[] = Deno.args): Promise<never> {
  const ac = new AbortController();
  const onSignal = () => ac.abort(new DOMException("interrupted", "AbortError"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const code = await main(args, {
    signal: ac.signal,
    env: (name) => Deno.env.get(name),
    log: createLogger("cni"),
    stdout: printOut,
  });
  Deno.exit(code);
}

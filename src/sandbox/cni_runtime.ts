/**
 * The container runtime's side of CNI, as the sandbox's kubelet stand-in plays it:
 * find the node's network configuration (the first `*.conf`, `*.conflist` or `*.json`
 * of the config directory in lexical order, as libcni does), build each plugin's
 * invocation (`CNI_*` environment, the config on stdin, the plugin found on
 * `CNI_PATH`), run it inside the node's namespace, and read the result. A `.conflist`
 * runs its plugins in order for ADD (each one gets `prevResult`) and in reverse for DEL.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";
import { inNetns } from "../host/mod.ts";

/** One plugin's configuration, ready for stdin. */
export type PluginConf = Record<string, unknown> & { type: string };

/** A network configuration as found on disk. */
export interface NetworkConfig {
  /** The file it came from. */
  path: string;
  /** Network name. */
  name: string;
  /** cniVersion. */
  cniVersion: string;
  /** The plugins to run, in ADD order (one for a `.conf`). */
  plugins: PluginConf[];
}

/** What the runtime passes to a plugin besides its config. */
export interface CniCall {
  command: "ADD" | "DEL" | "CHECK";
  containerId: string;
  /** Path of the pod's network namespace (`/run/netns/NAME`). */
  netnsPath: string;
  ifname: string;
  podNamespace: string;
  podName: string;
  podUid: string;
}

/** One plugin invocation: program, environment and stdin. */
export interface CniInvocation {
  program: string;
  env: Record<string, string>;
  stdin: string;
}

/**
 * Parses a network configuration file's text.
 *
 * @param path file path (decides `.conflist` vs `.conf`)
 * @param text file content
 * @returns the configuration
 * @throws {SyntaxError} naming the file when it is not JSON or lacks `type`/`plugins`
 */
export function parseNetworkConfig(path: string, text: string): NetworkConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new SyntaxError(`Cannot parse CNI config ${path}: ${(err as Error).message}`);
  }
  const cniVersion = typeof raw.cniVersion === "string" ? raw.cniVersion : "0.1.0";
  const name = typeof raw.name === "string" ? raw.name : "";
  if (path.endsWith(".conflist")) {
    const plugins = raw.plugins;
    if (!Array.isArray(plugins) || !plugins.length) {
      throw new SyntaxError(`Cannot use CNI config ${path}: "plugins" must be a non-empty list`);
    }
    return {
      path,
      name,
      cniVersion,
      plugins: plugins.map((p, i) => {
        if (typeof p?.type !== "string") {
          throw new SyntaxError(`Cannot use CNI config ${path}: plugin ${i} has no "type"`);
        }
        return { cniVersion, name, ...p } as PluginConf;
      }),
    };
  }
  if (typeof raw.type !== "string") {
    throw new SyntaxError(`Cannot use CNI config ${path}: no "type"`);
  }
  return { path, name, cniVersion, plugins: [{ ...raw, cniVersion, name, type: raw.type }] };
}

/**
 * Picks the configuration file a runtime would use: the lexically first
 * `*.conf`/`*.conflist`/`*.json`.
 *
 * @param names file names of the config directory
 * @returns the chosen name, or `undefined`
 */
export function pickConfigFile(names: readonly string[]): string | undefined {
  return [...names].filter((n) => /\.(conf|conflist|json)$/.test(n)).sort()[0];
}

/**
 * Reads the node's network configuration.
 *
 * @param confDir the CNI config directory
 * @returns the configuration, or `undefined` while there is none (node not ready)
 * @throws {SyntaxError} when the chosen file is malformed
 */
export async function loadNetworkConfig(confDir: string): Promise<NetworkConfig | undefined> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(confDir)) if (e.isFile) names.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const file = pickConfigFile(names);
  if (!file) return undefined;
  const path = `${confDir}/${file}`;
  return parseNetworkConfig(path, await Deno.readTextFile(path));
}

/**
 * Builds one plugin invocation as a runtime does (CNI spec §"Parameters").
 *
 * @param call command and pod
 * @param plugin the plugin's config
 * @param binDirs `CNI_PATH` entries; the program is `<first dir>/<type>` found by `exists`
 * @param exists whether a file exists (injected)
 * @param prevResult the previous plugin's result in a chain
 * @returns program, env, stdin
 * @throws {Error} naming the plugin and the path when no directory holds it
 */
export function buildInvocation(
  call: CniCall,
  plugin: PluginConf,
  binDirs: readonly string[],
  exists: (path: string) => boolean,
  prevResult?: unknown,
): CniInvocation {
  const program = binDirs.map((d) => `${d}/${plugin.type}`).find(exists);
  if (!program) {
    throw new Error(
      `Cannot find CNI plugin "${plugin.type}" in CNI_PATH ${binDirs.join(":")}; ` +
        "is the node initialised (minion-init installs ovn_cni)?",
    );
  }
  const conf = prevResult === undefined ? plugin : { ...plugin, prevResult };
  return {
    program,
    env: {
      CNI_COMMAND: call.command,
      CNI_CONTAINERID: call.containerId,
      CNI_NETNS: call.netnsPath,
      CNI_IFNAME: call.ifname,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${call.podNamespace};` +
        `K8S_POD_NAME=${call.podName};K8S_POD_INFRA_CONTAINER_ID=${call.containerId};` +
        `K8S_POD_UID=${call.podUid}`,
      CNI_PATH: binDirs.join(":"),
    },
    stdin: JSON.stringify(conf),
  };
}

/** A CNI plugin failed: carries the spec's error code and message. */
export class CniCallError extends Error {
  override name = "CniCallError";
  /**
   * @param message what failed
   * @param code the CNI error code, when the plugin printed one
   */
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

/**
 * Runs a whole configuration for one command inside the node namespace: ADD through
 * the chain with `prevResult`, DEL and CHECK (with the last result) in reverse.
 *
 * @param runner runs `ip netns exec NODE PLUGIN`
 * @param o node namespace, extra environment, config, call, bin dirs, previous result
 * @returns the last plugin's result (ADD), else `undefined`
 * @throws {CniCallError} with the plugin's message when a plugin fails
 */
export async function runCni(
  runner: Runner,
  o: {
    nodeNetns: string;
    env: Record<string, string>;
    config: NetworkConfig;
    call: CniCall;
    binDirs: readonly string[];
    prevResult?: unknown;
    timeoutMs?: number;
  },
): Promise<unknown> {
  const exists = (p: string) => {
    try {
      Deno.statSync(p);
      return true;
    } catch {
      return false;
    }
  };
  const plugins = o.call.command === "ADD" ? o.config.plugins : [...o.config.plugins].reverse();
  let prev: unknown = o.call.command === "ADD" ? undefined : o.prevResult;
  let last: unknown;
  for (const plugin of plugins) {
    const inv = buildInvocation(o.call, plugin, o.binDirs, exists, prev);
    const r = await runner.run(inNetns(o.nodeNetns, [inv.program]), {
      check: false,
      stdin: inv.stdin,
      env: { ...o.env, ...inv.env },
      timeoutMs: o.timeoutMs ?? 120_000,
    });
    let out: Record<string, unknown> | undefined;
    try {
      out = r.stdout ? JSON.parse(r.stdout) as Record<string, unknown> : undefined;
    } catch {
      out = undefined;
    }
    if (r.code !== 0) {
      const msg = typeof out?.msg === "string" ? out.msg : r.stderr.split("\n").pop() ?? "";
      const details = typeof out?.details === "string" ? `: ${out.details}` : "";
      throw new CniCallError(
        `CNI ${o.call.command} of ${plugin.type} for pod ${o.call.podNamespace}/${o.call.podName} ` +
          `failed (exit ${r.code}): ${msg}${details}`,
        typeof out?.code === "number" ? out.code : undefined,
      );
    }
    if (o.call.command === "ADD") prev = out;
    last = out;
  }
  return o.call.command === "ADD" ? last : undefined;
}

/**
 * The first IPv4 address of a CNI result (1.0.0 `ips[].address`, or 0.2.0 `ip4.ip`).
 *
 * @param result the ADD result
 * @returns the address without prefix length, or `undefined`
 */
export function resultIpv4(result: unknown): string | undefined {
  const r = result as {
    ips?: Array<{ address?: string }>;
    ip4?: { ip?: string };
  } | undefined;
  const cidrs = [...(r?.ips ?? []).map((x) => x.address), r?.ip4?.ip];
  for (const c of cidrs) {
    const ip = c?.split("/")[0];
    if (ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip;
  }
  return undefined;
}

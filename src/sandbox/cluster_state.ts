/**
 * What a sandbox cluster records in its state directory, and where: `cluster.json`
 * (prefix, API address, master, the binary), the API token and PKI, the user's
 * kubeconfig, the supervisor's pidfile and ready marker, per node the CNI directories
 * and the `run` unit's pidfile and log, and the pods' records.
 *
 * @module
 */
import { parsePid, type Processes } from "../daemons/mod.ts";

/** `cluster.json`. */
export interface ClusterState {
  version: 1;
  prefix: string;
  /** API server URL (`https://ROOT_UNDERLAY_IP:6443`). */
  apiServer: string;
  apiHost: string;
  apiPort: number;
  /** The master node (runs the watcher). */
  master: string;
  clusterSubnet: string;
  serviceCidr: string;
  /** First ClusterIP the emulator hands out. */
  serviceIpBase: string;
  /** argv prefix that runs this binary (`/usr/bin/ovn-k8s`). */
  self: string[];
}

/** Paths of one node's files. */
export interface NodePaths {
  dir: string;
  cniBin: string;
  cniConf: string;
  systemIdFile: string;
  runPid: string;
  runLog: string;
}

/**
 * The files of a sandbox cluster.
 *
 * @param dir state directory
 * @returns the paths
 */
export function clusterPaths(dir: string) {
  return {
    state: `${dir}/cluster.json`,
    token: `${dir}/pki/token`,
    pki: `${dir}/pki`,
    ca: `${dir}/pki/ca.crt`,
    serverCert: `${dir}/pki/server.crt`,
    serverKey: `${dir}/pki/server.key`,
    kubeconfig: `${dir}/kubeconfig`,
    supervisorPid: `${dir}/supervisor.pid`,
    supervisorReady: `${dir}/supervisor.json`,
    supervisorLog: `${dir}/supervisor.log`,
    pods: `${dir}/pods`,
    node: (name: string): NodePaths => {
      const d = `${dir}/nodes/${name}`;
      return {
        dir: d,
        cniBin: `${d}/cni/bin`,
        cniConf: `${d}/cni/net.d`,
        systemIdFile: `${d}/system-id.conf`,
        runPid: `${d}/run.pid`,
        runLog: `${d}/run.log`,
      };
    },
  };
}

/**
 * Reads `cluster.json`.
 *
 * @param dir state directory
 * @returns the state
 * @throws {Error} naming the file when it is missing or of another version
 */
export async function readClusterState(dir: string): Promise<ClusterState> {
  const path = clusterPaths(dir).state;
  let s: ClusterState;
  try {
    s = JSON.parse(await Deno.readTextFile(path)) as ClusterState;
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (s.version !== 1) throw new Error(`Cannot read ${path}: unknown version ${s.version}`);
  return s;
}

/**
 * Reads `cluster.json` when present.
 *
 * @param dir state directory
 * @returns the state, or `undefined` (a lab without the cluster parts, or nothing)
 */
export async function findClusterState(dir: string): Promise<ClusterState | undefined> {
  try {
    await Deno.stat(clusterPaths(dir).state);
  } catch {
    return undefined;
  }
  return await readClusterState(dir);
}

/**
 * Writes a file atomically (temp file, then rename).
 *
 * @param path target
 * @param text content
 * @param mode file mode (default 0644)
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text, { mode });
  await Deno.chmod(tmp, mode);
  await Deno.rename(tmp, path);
}

/**
 * A kubeconfig for the sandbox: one cluster, one user with a bearer token, one
 * context (`ovn-k8s-sandbox`), CA embedded. YAML, as kubectl writes them.
 *
 * @param o server URL, CA PEM, token, names
 * @returns the file text
 */
export function renderKubeconfig(o: { server: string; caPem: string; token: string }): string {
  const ca = btoa(o.caPem);
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: ovn-k8s-sandbox",
    "  cluster:",
    `    server: ${o.server}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    "- name: sandbox-admin",
    "  user:",
    `    token: ${o.token}`,
    "contexts:",
    "- name: ovn-k8s-sandbox",
    "  context:",
    "    cluster: ovn-k8s-sandbox",
    "    user: sandbox-admin",
    "    namespace: default",
    "current-context: ovn-k8s-sandbox",
    "",
  ].join("\n");
}

/**
 * The pid in a pidfile when that process is alive.
 *
 * @param procs process table
 * @param pidfile the pidfile
 * @returns the pid, or `undefined`
 */
export async function alivePid(procs: Processes, pidfile: string): Promise<number | undefined> {
  const pid = parsePid(await procs.readFile(pidfile));
  return pid !== undefined && await procs.alive(pid) ? pid : undefined;
}

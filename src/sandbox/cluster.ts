/**
 * `ovn-k8s sandbox up|status|down` as product code: the whole cluster on one machine.
 *
 * `up`, from nothing: the lab (underlay, central OVN, node namespaces with their own
 * OVS and ovn-controller; lab.ts), a token and a PKI for the API server and a kubeconfig
 * for the user, then on each node what its provisioning and its systemd unit would do:
 * `ovn-k8s setup-host` with the cluster's settings (plus the original's API token and CA
 * keys, for the CNI plugin), then the detached supervisor (supervisor.ts: the API
 * emulator, `ovn-k8s run` per node, the scheduler, the kubelets). Once every node has its
 * CNI config, a demo workload (a `web` pod per node running `ovn-k8s sandbox serve`, a
 * `client` pod, a ClusterIP service `web`) and the connectivity checks; the result is
 * what the role prints.
 *
 * `down`: the supervisor by its pidfile (it stops the runs and pod commands), every pod
 * namespace, then the lab (processes left in its namespaces, namespaces, links, the
 * state directory).
 *
 * @module
 */
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import { deleteNetns, listNetns } from "../host/mod.ts";
import type { Logger } from "../log/mod.ts";
import { KubeHttp } from "../k8s/http.ts";
import { makeConnection } from "../k8s/connection_info.ts";
import { ensureEmulatorPki } from "../k8s/emulator/tls.ts";
import { pollUntil, sleep, systemProcesses } from "../daemons/mod.ts";
import { initOpenVswitch, listChassis } from "./_ovsdb_io.ts";
import { type Lab, openLab, startLab } from "./lab.ts";
import { killNetnsProcesses, type PodRecord } from "./kubelet.ts";
import {
  alivePid,
  clusterPaths,
  type ClusterState,
  findClusterState,
  renderKubeconfig,
  writeFileAtomic,
} from "./cluster_state.ts";

/** Options of {@linkcode clusterUp}. */
export interface ClusterUpOptions {
  nodes: number;
  prefix: string;
  dir: string;
  underlay?: string;
  /** argv prefix that runs this binary. */
  self: string[];
  /** API server port on the underlay (default 6443). */
  apiPort?: number;
  /** Create the demo workload and run the checks (default true). */
  demo?: boolean;
  /** Leave everything in place when `up` fails (default: remove it). */
  keepOnFailure?: boolean;
  runner?: Runner;
  log: Logger;
  progress: (message: string) => void;
  /** Deadline of each waiting step (default 60 s). */
  timeoutMs?: number;
}

/** One connectivity check. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** A pod as the summary shows it. */
export interface PodSummary {
  name: string;
  node: string;
  ip: string;
  phase: string;
}

/** What `up` (and `status`) report. */
export interface ClusterSummary {
  dir: string;
  prefix: string;
  apiServer: string;
  kubeconfig: string;
  master: string;
  nodes: Array<{ name: string; ip: string; netns: string; runPid?: number; ready: boolean }>;
  pods: PodSummary[];
  checks: CheckResult[];
  supervisorPid?: number;
  elapsedMs?: number;
}

/** The cluster's pod and service ranges. */
export const SANDBOX_NETWORKS = {
  clusterSubnet: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/16",
  serviceIpBase: "10.96.0.1",
} as const;

/**
 * The argv of `setup-host` for one sandbox node. Pure.
 *
 * @param o the node, the cluster state, the remotes
 * @returns the arguments after the binary
 */
export function setupHostArgs(o: {
  node: string;
  ip: string;
  master: boolean;
  state: ClusterState;
  nbRemote: string;
  sbRemote: string;
  systemIdFile: string;
  kubeconfig: string;
}): string[] {
  return [
    "setup-host",
    `--ovn-remote=${o.sbRemote}`,
    `--ovn-nb=${o.nbRemote}`,
    `--encap-ip=${o.ip}`,
    `--k8s-api-server=${o.state.apiServer}`,
    `--roles=${o.master ? "master,minion" : "minion"}`,
    `--node-name=${o.node}`,
    `--cluster-ip-subnet=${o.state.clusterSubnet}`,
    `--service-cluster-ip-range=${o.state.serviceCidr}`,
    "--bridge-datapath-type=netdev",
    `--system-id-file=${o.systemIdFile}`,
    ...(o.master ? [`--watcher-options=--kubeconfig=${o.kubeconfig} --no-leader-election`] : []),
  ];
}

function apiClient(state: ClusterState, caPem: string, token: string): KubeHttp {
  return new KubeHttp(makeConnection({ server: state.apiServer, token, caPem, source: "sandbox" }));
}

async function readSecrets(dir: string): Promise<{ token: string; caPem: string }> {
  const p = clusterPaths(dir);
  return {
    token: (await Deno.readTextFile(p.token)).trim(),
    caPem: await Deno.readTextFile(p.ca),
  };
}

/**
 * Brings the whole sandbox cluster up (see the module doc).
 *
 * @param o nodes, names, binary, logger, progress
 * @returns the summary, checks included
 * @throws {Error} when a step fails (after removing what it made, unless `keepOnFailure`)
 */
export async function clusterUp(o: ClusterUpOptions): Promise<ClusterSummary> {
  const t0 = performance.now();
  const runner = o.runner ?? new ProcessRunner();
  const timeoutMs = o.timeoutMs ?? 60_000;
  const lab = await startLab({
    nodes: o.nodes,
    prefix: o.prefix,
    dir: o.dir,
    ...(o.underlay !== undefined ? { underlay: o.underlay } : {}),
    configureOvn: false,
    runner,
    log: o.log,
    onProgress: o.progress,
    timeoutMs,
  });
  try {
    const state = await prepareCluster(lab, o, runner);
    await startSupervisor(lab, state, o, runner, timeoutMs);
    const { token, caPem } = await readSecrets(lab.dir);
    using http = apiClient(state, caPem, token);
    await waitNodesReady(lab, o, timeoutMs);
    let checks: CheckResult[] = [];
    if (o.demo ?? true) {
      const demo = await startDemo(lab, state, http, o, timeoutMs);
      o.progress("running connectivity checks");
      checks = await runChecks(lab, demo, runner);
    }
    const summary = await clusterSummary(lab.dir, { runner, log: o.log });
    return { ...summary!, checks, elapsedMs: performance.now() - t0 };
  } catch (err) {
    if (!o.keepOnFailure) {
      o.progress(`failed: removing what was made (--keep leaves it): ${(err as Error).message}`);
      await clusterDown(lab.dir, { runner, log: o.log }).catch((e) =>
        o.log.error("cleanup after failed up failed", { err: e })
      );
    }
    throw err;
  }
}

async function prepareCluster(lab: Lab, o: ClusterUpOptions, runner: Runner) {
  const p = clusterPaths(lab.dir);
  const apiHost = lab.underlay.rootIp;
  const apiPort = o.apiPort ?? 6443;
  const state: ClusterState = {
    version: 1,
    prefix: lab.prefix,
    apiServer: `https://${apiHost}:${apiPort}`,
    apiHost,
    apiPort,
    master: lab.nodes[0]?.name ?? "",
    ...SANDBOX_NETWORKS,
    self: o.self,
  };
  o.progress(`API server ${state.apiServer}: token, CA and kubeconfig in ${lab.dir}`);
  const pki = await ensureEmulatorPki(runner, p.pki, [apiHost]);
  const token = [...crypto.getRandomValues(new Uint8Array(24))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  await writeFileAtomic(p.token, `${token}\n`, 0o600);
  await writeFileAtomic(
    p.kubeconfig,
    renderKubeconfig({ server: state.apiServer, caPem: pki.caPem, token }),
    0o600,
  );
  await writeFileAtomic(p.state, JSON.stringify(state, null, 2) + "\n");
  o.progress(`setup-host on ${lab.nodes.map((n) => n.name).join(", ") || "no node"}`);
  await Promise.all(lab.nodes.map(async (n) => {
    const nd = p.node(n.name);
    await Deno.mkdir(nd.dir, { recursive: true });
    // As provisioning would: the host's persistent identity (the chassis is named after it).
    await writeFileAtomic(nd.systemIdFile, `${n.name}\n`);
    await n.exec([
      ...o.self,
      ...setupHostArgs({
        node: n.name,
        ip: n.underlayIp,
        master: n.name === state.master,
        state,
        nbRemote: lab.central.nbRemote,
        sbRemote: lab.central.sbRemote,
        systemIdFile: nd.systemIdFile,
        kubeconfig: p.kubeconfig,
      }),
    ], { timeoutMs: 60_000 });
    // The original's keys for the API token and CA (the CNI plugin reads them; setup-host
    // has no flags for secrets, so they are set as its docs said: straight into OVS).
    await initOpenVswitch(n.ovsDbSock, {
      "k8s-api-token": token,
      "k8s-ca-certificate": pki.caPem.trim().replaceAll("\n", "\\n"),
    });
  }));
  return state;
}

async function startSupervisor(
  lab: Lab,
  state: ClusterState,
  o: ClusterUpOptions,
  runner: Runner,
  timeoutMs: number,
): Promise<void> {
  const p = clusterPaths(lab.dir);
  o.progress("starting the supervisor: API emulator, `ovn-k8s run` per node, kubelets");
  // Its own session, so it outlives `up` and the terminal; its log goes to supervisor.log.
  const child = new Deno.Command("setsid", {
    args: [...state.self, "sandbox", "_supervise", `--dir=${lab.dir}`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  child.unref();
  let exited: number | undefined;
  void child.status.then((s) => exited = s.code);
  const procs = systemProcesses(runner);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      const log = await Deno.readTextFile(p.supervisorLog).catch(() => "");
      throw new Error(
        `Cannot start the sandbox supervisor: it exited with ${exited}; ${p.supervisorLog}:\n` +
          log.split("\n").slice(-15).join("\n"),
      );
    }
    const ready = await Deno.stat(p.supervisorReady).then(() => true, () => false);
    if (ready && (await alivePid(procs, p.supervisorPid)) !== undefined) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for the sandbox supervisor; see ${p.supervisorLog}`,
      );
    }
    await sleep(50);
  }
}

async function waitNodesReady(lab: Lab, o: ClusterUpOptions, timeoutMs: number): Promise<void> {
  const p = clusterPaths(lab.dir);
  o.progress("waiting for every node: chassis in SB, minion-init's CNI config");
  await pollUntil("every node's chassis in SB and CNI config", async () => {
    const names = new Set((await listChassis(`unix:${lab.central.sbSock}`)).map((c) => c.name));
    for (const n of lab.nodes) {
      if (!names.has(n.name)) return false;
      if (!(await Deno.stat(`${p.node(n.name).cniConf}/10-net.conf`).then(() => 1, () => 0))) {
        return false;
      }
    }
    return true;
  }, { timeoutMs, intervalMs: 100 });
  await lab.prePing();
}

interface Demo {
  /** Pod name -> record. */
  pods: Map<string, PodRecord & { ip: string }>;
  clusterIp: string;
}

async function startDemo(
  lab: Lab,
  state: ClusterState,
  http: KubeHttp,
  o: ClusterUpOptions,
  timeoutMs: number,
): Promise<Demo> {
  const serveCmd = [...state.self, "sandbox", "serve", "--http=8080", "--udp=5353"];
  const pods = [
    ...lab.nodes.map((n) => ({
      name: `web-${n.name}`,
      node: n.name,
      labels: { app: "web" },
      command: serveCmd,
    })),
    { name: "client", node: state.master, labels: { app: "client" }, command: [] as string[] },
  ];
  o.progress(`demo workload: ${pods.map((p) => `${p.name}@${p.node}`).join(", ")}, service web`);
  for (const p of pods) {
    await http.request("POST", "/api/v1/namespaces/default/pods", {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: p.name, labels: p.labels },
        spec: {
          nodeName: p.node,
          containers: [{
            name: p.name.split("-")[0],
            image: "sandbox/host-command",
            ...(p.command.length ? { command: p.command } : {}),
          }],
        },
      },
    });
  }
  const svc = await http.request<{ spec: { clusterIP: string } }>(
    "POST",
    "/api/v1/namespaces/default/services",
    {
      body: {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: {
          selector: { app: "web" },
          ports: [
            { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
            { name: "echo", port: 53, targetPort: 5353, protocol: "UDP" },
          ],
        },
      },
    },
  );
  const dir = clusterPaths(lab.dir).pods;
  const out = new Map<string, PodRecord & { ip: string }>();
  await pollUntil(`the demo pods to run (see ${clusterPaths(lab.dir).supervisorLog})`, async () => {
    for (const p of pods) {
      if (out.has(p.name)) continue;
      const text = await Deno.readTextFile(`${dir}/default_${p.name}.json`).catch(() => "");
      if (!text) return false;
      const r = JSON.parse(text) as PodRecord;
      if (r.ip) out.set(p.name, { ...r, ip: r.ip });
    }
    return out.size === pods.length;
  }, { timeoutMs, intervalMs: 100 }).catch(async (err) => {
    // Say why: the kubelets' last complaints.
    const log = await Deno.readTextFile(clusterPaths(lab.dir).supervisorLog).catch(() => "");
    const why = log.split("\n").filter((l) => /\|(warn|error)\|/.test(l)).slice(-3).join("\n");
    throw new Error(`${(err as Error).message}${why ? `; last warnings:\n${why}` : ""}`);
  });
  return { pods: out, clusterIp: svc.spec.clusterIP };
}

async function retry(
  runner: Runner,
  netns: string,
  argv: string[],
  expect: (out: string) => boolean,
  deadlineMs: number,
): Promise<{ ok: boolean; detail: string }> {
  const end = Date.now() + deadlineMs;
  let last = "";
  for (;;) {
    const r = await runner.run(["ip", "netns", "exec", netns, ...argv], {
      check: false,
      timeoutMs: 10_000,
    });
    if (r.code === 0 && expect(r.stdout)) return { ok: true, detail: r.stdout.split("\n")[0]! };
    last = `exit ${r.code}: ${(r.stderr || r.stdout).split("\n").slice(-1)[0]}`;
    if (Date.now() > end) return { ok: false, detail: last };
    await sleep(200);
  }
}

async function runChecks(lab: Lab, demo: Demo, runner: Runner): Promise<CheckResult[]> {
  const client = demo.pods.get("client")!;
  const local = demo.pods.get(`web-${client.node}`)!;
  const remoteNode = lab.nodes.find((n) => n.name !== client.node);
  const remote = remoteNode ? demo.pods.get(`web-${remoteNode.name}`) : undefined;
  const curl = (url: string) => ["curl", "-sf", "-m", "2", url];
  const ping = (ip: string) => ["ping", "-c1", "-W1", "-q", ip];
  const cases: Array<[string, string, string[], (s: string) => boolean]> = [
    ["pod -> pod, same node (ICMP)", client.netns, ping(local.ip), () => true],
    [
      `pod -> pod, same node (TCP) ${local.name}`,
      client.netns,
      curl(`http://${local.ip}:8080/`),
      (s) => s.includes(local.name),
    ],
  ];
  if (remote) {
    cases.push(
      ["pod -> pod, across nodes (ICMP)", client.netns, ping(remote.ip), () => true],
      [
        `pod -> pod, across nodes (TCP) ${remote.name}`,
        client.netns,
        curl(`http://${remote.ip}:8080/`),
        (s) => s.includes(remote.name),
      ],
      [
        `node ${remoteNode!.name} -> pod ${local.name} (management port, TCP)`,
        remoteNode!.netns,
        curl(`http://${local.ip}:8080/`),
        (s) => s.includes(local.name),
      ],
    );
  }
  cases.push([
    `pod -> ClusterIP ${demo.clusterIp}:80 (TCP)`,
    client.netns,
    curl(`http://${demo.clusterIp}/`),
    (s) => s.startsWith("web-"),
  ]);
  const out: CheckResult[] = [];
  for (const [name, netns, argv, expect] of cases) {
    const r = await retry(runner, netns, argv, expect, 15_000);
    out.push({ name, ...r });
  }
  return out;
}

/**
 * The summary of a running cluster: nodes (with their `run` pid and CNI readiness),
 * pods (from the kubelets' records), the API address and kubeconfig.
 *
 * @param dir state directory
 * @param deps runner, logger
 * @returns the summary, or `undefined` when there is no cluster in `dir`
 */
export async function clusterSummary(
  dir: string,
  deps: { runner?: Runner; log: Logger },
): Promise<ClusterSummary | undefined> {
  const state = await findClusterState(dir);
  const lab = await openLab(dir, {
    ...(deps.runner ? { runner: deps.runner } : {}),
    log: deps.log,
  });
  if (!state || !lab) return undefined;
  const runner = deps.runner ?? new ProcessRunner();
  const procs = systemProcesses(runner);
  const p = clusterPaths(dir);
  const pods: PodSummary[] = [];
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(p.pods)) names.push(e.name);
  } catch { /* no pods yet */ }
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    const r = JSON.parse(await Deno.readTextFile(`${p.pods}/${name}`)) as PodRecord;
    pods.push({
      name: r.namespace === "default" ? r.name : `${r.namespace}/${r.name}`,
      node: r.node,
      ip: r.ip ?? "",
      phase: "Running",
    });
  }
  pods.sort((a, b) => a.name.localeCompare(b.name));
  const nodes = await Promise.all(lab.nodes.map(async (n) => {
    const nd = p.node(n.name);
    const runPid = await alivePid(procs, nd.runPid);
    const ready = await Deno.stat(`${nd.cniConf}/10-net.conf`).then(() => true, () => false);
    return {
      name: n.name,
      ip: n.underlayIp,
      netns: n.netns,
      ready,
      ...(runPid !== undefined ? { runPid } : {}),
    };
  }));
  const supervisorPid = await alivePid(procs, p.supervisorPid);
  return {
    dir,
    prefix: state.prefix,
    apiServer: state.apiServer,
    kubeconfig: p.kubeconfig,
    master: state.master,
    nodes,
    pods,
    checks: [],
    ...(supervisorPid !== undefined ? { supervisorPid } : {}),
  };
}

/**
 * Removes the sandbox in `dir` (cluster or bare lab): supervisor, pod namespaces, lab.
 * Idempotent.
 *
 * @param dir state directory
 * @param deps runner, logger
 * @returns false when there was nothing in `dir`
 * @throws {AggregateError} when some step failed (the others still ran)
 */
export async function clusterDown(
  dir: string,
  deps: { runner?: Runner; log: Logger },
): Promise<boolean> {
  const runner = deps.runner ?? new ProcessRunner();
  const lab = await openLab(dir, { runner, log: deps.log });
  if (!lab) return false;
  const procs = systemProcesses(runner);
  const p = clusterPaths(dir);
  const pid = await alivePid(procs, p.supervisorPid);
  if (pid !== undefined) {
    const t0 = performance.now();
    procs.kill(pid, "SIGTERM");
    for (let i = 0; i < 100 && await procs.alive(pid); i++) await sleep(100);
    const stopped = !(await procs.alive(pid));
    procs.kill(pid, "SIGKILL");
    deps.log.info(stopped ? "supervisor stopped" : "supervisor killed (SIGTERM not enough)", {
      pid,
      ms: Math.round(performance.now() - t0),
    });
  }
  const podNs = (await listNetns(runner)).filter((n) => n.startsWith(`${lab.prefix}-p-`));
  await Promise.all(podNs.map(async (ns) => {
    await killNetnsProcesses(runner, ns);
    await deleteNetns(runner, ns).catch((err) =>
      deps.log.warn("cannot delete pod namespace", { ns, err })
    );
  }));
  await lab.down();
  return true;
}

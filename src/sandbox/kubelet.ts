/**
 * The sandbox's kubelet stand-in, one per node: it watches the pods scheduled to its
 * node and plays the container runtime's part for their network, nothing more.
 *
 * For a new pod: a network namespace `PREFIX-p-<uid8>`, the node's CNI network config
 * (the file minion-init wrote) run with CNI ADD inside the node namespace exactly as a
 * runtime would (see cni_runtime.ts), the pod status patched with its IP, phase
 * `Running` and the `Ready` condition (so the endpoints controller takes it), then the
 * pod's command (`spec.containers[0].command` + `args`, from this machine's filesystem:
 * the image is ignored) started inside the pod namespace with its log in the state
 * directory. A failed ADD is undone with DEL and retried with a growing delay, as the
 * kubelet retries sandbox creation.
 *
 * For a deleted pod (or one recreated under the same name, seen as a new uid): the
 * command and anything else in the namespace is killed, CNI DEL is called, the
 * namespace deleted; a pod created again under that name is set up only after that.
 *
 * Each pod's record (`pods/<namespace>_<name>.json`: netns, IP, container id) lets
 * `ovn-k8s sandbox exec` find the namespace from another process.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";
import { addNetns, deleteNetns, netnsPath } from "../host/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { KubeHttp } from "../k8s/http.ts";
import { httpListWatcher, Informer } from "../k8s/informer.ts";
import { findResource, type KubeObject } from "../k8s/resources.ts";
import { sleep } from "../daemons/mod.ts";
import { loadNetworkConfig, resultIpv4, runCni } from "./cni_runtime.ts";

/** The node a kubelet serves. */
export interface KubeletNode {
  name: string;
  /** The node's network namespace (CNI runs there). */
  netns: string;
  /** Its underlay address (the pod's hostIP). */
  ip: string;
  /** The node's environment (OVS_RUNDIR, ...), given to the plugin too. */
  env: Record<string, string>;
  /** Where minion-init wrote the network config, and linked the plugin. */
  cniConfDir: string;
  cniBinDir: string;
}

/** A started pod command. */
export interface PodProcess {
  pid: number;
  /** Resolves with the exit code. */
  status: Promise<number>;
  kill(signal: Deno.Signal): void;
}

/** Starts a pod's command inside its namespace (injected for tests). */
export type PodSpawner = (
  argv: string[],
  o: { netns: string; env: Record<string, string>; logFile: string },
) => PodProcess;

/** Options of {@linkcode Kubelet}. */
export interface KubeletOptions {
  node: KubeletNode;
  http: KubeHttp;
  runner: Runner;
  /** Prefix of pod namespace names. */
  prefix: string;
  /** Directory of pod records and logs. */
  podDir: string;
  log: Logger;
  /** Starts pod commands (default: `ip netns exec` with the output to a log file). */
  spawn?: PodSpawner;
  /** Pods set up at once (default 6). */
  concurrency?: number;
  /** Kills every process in a namespace (default: SIGTERM, then SIGKILL, by `ip netns pids`). */
  killNetns?: (netns: string) => Promise<void>;
}

/** What a pod record on disk says. */
export interface PodRecord {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  netns: string;
  containerId: string;
  ip?: string;
  pid?: number;
}

type Pod = KubeObject & {
  spec?: {
    nodeName?: string;
    containers?: Array<
      {
        name?: string;
        image?: string;
        command?: string[];
        args?: string[];
        env?: Array<{ name: string; value?: string }>;
      }
    >;
  };
  status?: { podIP?: string; phase?: string };
};

interface PodState {
  record: PodRecord;
  /** Set once the namespace exists (teardown needed). */
  created: boolean;
  lastResult?: unknown;
  proc?: PodProcess;
  gone: boolean;
  done: Promise<void>;
}

const PODS = findResource("pods")!;

/**
 * The container id the sandbox gives a pod: 64 hex characters, random, so the host
 * veth name (its first 15) never repeats.
 *
 * @returns the id
 */
export function newContainerId(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * The pod namespace name: prefix and the uid's first 8 hex digits.
 *
 * @param prefix sandbox prefix
 * @param uid pod uid
 * @returns the name
 */
export function podNetnsName(prefix: string, uid: string): string {
  return `${prefix}-p-${uid.replace(/-/g, "").slice(0, 8)}`;
}

/**
 * The status a running pod gets (a merge patch of `/status`).
 *
 * @param o pod IP, node IP, container name, start time, readiness
 * @returns the patch body
 */
export function podStatusPatch(o: {
  ip: string;
  hostIp: string;
  container: string;
  image: string;
  containerId: string;
  startedAt: string;
  ready: boolean;
  exitCode?: number;
}): Record<string, unknown> {
  const ready = o.ready ? "True" : "False";
  return {
    status: {
      phase: "Running",
      podIP: o.ip,
      podIPs: [{ ip: o.ip }],
      hostIP: o.hostIp,
      startTime: o.startedAt,
      conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
        type,
        status: type === "PodScheduled" || type === "Initialized" ? "True" : ready,
        lastTransitionTime: o.startedAt,
      })),
      containerStatuses: [{
        name: o.container,
        image: o.image,
        imageID: "",
        containerID: `sandbox://${o.containerId}`,
        ready: o.ready,
        started: o.ready,
        restartCount: 0,
        state: o.exitCode === undefined
          ? { running: { startedAt: o.startedAt } }
          : { terminated: { exitCode: o.exitCode, startedAt: o.startedAt } },
      }],
    },
  };
}

/**
 * Wraps argv so that its stdout and stderr are appended to a file by the kernel, not
 * pumped through this process (the output stays complete when the supervisor stops).
 * The shell script is constant; the file and the command are its positional arguments.
 *
 * @param logFile the file
 * @param argv the command
 * @returns the wrapped argv
 */
export function appendOutput(logFile: string, argv: readonly string[]): string[] {
  return ["sh", "-c", 'f=$1; shift; exec "$@" >>"$f" 2>&1', "sh", logFile, ...argv];
}

function realSpawn(
  argv: string[],
  o: { netns: string; env: Record<string, string>; logFile: string },
): PodProcess {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", o.netns, ...appendOutput(o.logFile, argv)],
    env: o.env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    pid: child.pid,
    status: child.status.then((s) => s.code),
    kill: (sig) => {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    },
  };
}

/**
 * The Node `Ready` condition as a kubelet reports it: not ready while the network plugin
 * has no config (`NetworkPluginNotReady`), as the real kubelet says.
 *
 * @param ready whether the node's CNI config exists
 * @param now timestamp (ISO)
 * @returns the condition
 */
export function nodeReadyCondition(
  ready: boolean,
  now = new Date().toISOString(),
): Record<string, string> {
  return {
    type: "Ready",
    status: ready ? "True" : "False",
    reason: ready ? "KubeletReady" : "NetworkPluginNotReady",
    message: ready
      ? "sandbox kubelet is posting ready status"
      : "network plugin not ready: no CNI config yet (minion-init writes it)",
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  };
}

/** One node's kubelet stand-in. Run it with {@linkcode Kubelet.run}. */
export class Kubelet {
  readonly #o: KubeletOptions;
  readonly #pods = new Map<string, PodState>();
  /** Teardowns of deleted pods still running, by key (a pod re-created under the name waits). */
  readonly #leaving = new Map<string, Promise<void>>();
  readonly #spawn: PodSpawner;
  #slots: number;
  readonly #waiters: Array<() => void> = [];
  #stopping = false;

  /** @param o node, API, runner, names, logger */
  constructor(o: KubeletOptions) {
    this.#o = o;
    this.#spawn = o.spawn ?? realSpawn;
    this.#slots = o.concurrency ?? 6;
  }

  /** Pods this kubelet runs, by `namespace/name`. */
  get pods(): ReadonlyMap<string, Readonly<PodRecord>> {
    return new Map([...this.#pods].map(([k, s]) => [k, s.record]));
  }

  /**
   * Watches this node's pods until `signal` aborts; then kills the pods' commands at once
   * (the namespaces stay for `down`, which removes everything).
   *
   * @param signal stops the kubelet
   */
  async run(signal: AbortSignal): Promise<void> {
    const node = this.#o.node.name;
    const informer = new Informer<Pod>(
      httpListWatcher<Pod>(this.#o.http, PODS, { fieldSelector: `spec.nodeName=${node}` }),
      {
        name: `pods@${node}`,
        log: this.#o.log,
        handlers: {
          add: (p) => this.#sync(p),
          update: (_old, p) => this.#sync(p),
          delete: (p) => this.#remove(p),
        },
      },
    );
    const stop = () => {
      this.#stopping = true;
      for (const s of this.#pods.values()) s.proc?.kill("SIGTERM");
    };
    signal.addEventListener("abort", stop, { once: true });
    void this.#nodeStatus(signal);
    try {
      await informer.run(signal);
    } finally {
      signal.removeEventListener("abort", stop);
      if (signal.aborted) stop();
    }
  }

  /** Reports the node Ready once the CNI config exists (and NotReady if it goes). */
  async #nodeStatus(signal: AbortSignal): Promise<void> {
    let reported: boolean | undefined;
    while (!signal.aborted) {
      const ready = await loadNetworkConfig(this.#o.node.cniConfDir).then(
        (c) => c !== undefined,
        () => false,
      );
      if (ready !== reported) {
        try {
          await this.#o.http.request("PATCH", `/api/v1/nodes/${this.#o.node.name}/status`, {
            body: { status: { conditions: [nodeReadyCondition(ready)] } },
            contentType: "application/merge-patch+json",
            signal,
          });
          reported = ready;
          this.#o.log.info(ready ? "node ready" : "node not ready");
        } catch (err) {
          if (!signal.aborted) this.#o.log.warn("cannot report node status", { err });
        }
      }
      await sleep(reported ? 2000 : 250, signal).catch(() => {});
    }
  }

  #sync(p: Pod): void {
    if (p.spec?.nodeName !== this.#o.node.name || p.metadata.deletionTimestamp) {
      if (p.metadata.deletionTimestamp) this.#remove(p);
      return;
    }
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const uid = p.metadata.uid ?? "";
    const cur = this.#pods.get(key);
    if (cur && cur.record.uid === uid) return;
    // The previous pod of this name goes first (its CNI DEL, then its namespace), whether
    // seen as deleted or replaced: its port carries the same iface-id as the new one's.
    const before = cur ? this.#teardown(key, cur) : this.#leaving.get(key) ?? Promise.resolve();
    const record: PodRecord = {
      namespace: p.metadata.namespace ?? "default",
      name: p.metadata.name ?? "",
      uid,
      node: this.#o.node.name,
      netns: podNetnsName(this.#o.prefix, uid),
      containerId: newContainerId(),
    };
    const state: PodState = { record, created: false, gone: false, done: Promise.resolve() };
    this.#pods.set(key, state);
    state.done = before.then(() => this.#limited(() => this.#start(p, state)));
  }

  #remove(p: Pod): void {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const cur = this.#pods.get(key);
    if (!cur || (p.metadata.uid && cur.record.uid !== p.metadata.uid)) return;
    this.#pods.delete(key);
    const gone = this.#teardown(key, cur);
    this.#leaving.set(key, gone);
    void gone.finally(() => {
      if (this.#leaving.get(key) === gone) this.#leaving.delete(key);
    });
  }

  async #limited(fn: () => Promise<void>): Promise<void> {
    while (this.#slots === 0) await new Promise<void>((r) => this.#waiters.push(r));
    this.#slots--;
    try {
      await fn();
    } finally {
      this.#slots++;
      this.#waiters.shift()?.();
    }
  }

  async #start(p: Pod, s: PodState): Promise<void> {
    const o = this.#o;
    const r = s.record;
    const log = o.log.child(r.name);
    let delay = 1000;
    let said = false;
    while (!s.gone && !this.#stopping) {
      try {
        const config = await loadNetworkConfig(o.node.cniConfDir);
        if (!config) {
          if (!said) log.info("waiting for the node's CNI config", { dir: o.node.cniConfDir });
          said = true;
          await sleep(500);
          continue;
        }
        if (!s.created) {
          await addNetns(o.runner, r.netns);
          s.created = true;
        }
        const result = await runCni(o.runner, {
          nodeNetns: o.node.netns,
          env: o.node.env,
          config,
          call: this.#call("ADD", r),
          binDirs: [o.node.cniBinDir, "/usr/lib/cni", "/opt/cni/bin"],
        });
        if (s.gone) return;
        s.lastResult = result;
        const ip = resultIpv4(result);
        if (!ip) throw new Error(`CNI ADD for ${r.namespace}/${r.name} returned no IPv4 address`);
        r.ip = ip;
        break;
      } catch (err) {
        if (s.gone || this.#stopping) return;
        log.warn("pod network setup failed; retrying", { err, inMs: delay });
        await this.#cniDel(s).catch(() => {});
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
    if (s.gone || this.#stopping || !r.ip) return;
    const c = p.spec?.containers?.[0];
    const argv = [...(c?.command ?? []), ...(c?.args ?? [])];
    const startedAt = new Date().toISOString();
    const reported = Promise.withResolvers<void>();
    if (argv.length) {
      const env: Record<string, string> = {
        POD_NAME: r.name,
        POD_NAMESPACE: r.namespace,
        POD_IP: r.ip,
        NODE_NAME: r.node,
        HOSTNAME: r.name,
      };
      for (const e of c?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      try {
        // The command's output goes to a file in podDir: it must exist before the spawn
        // (else the shell's redirect fails and the command never runs).
        await Deno.mkdir(this.#o.podDir, { recursive: true });
        s.proc = this.#spawn(argv, { netns: r.netns, env, logFile: this.#logFile(r) });
        r.pid = s.proc.pid;
        const proc = s.proc;
        // An exit is reported after the pod was reported running, never before it (the
        // running status would hide it).
        void Promise.all([proc.status, reported.promise]).then(([code]) =>
          this.#exited(s, proc, code, startedAt, c?.name ?? "main")
        );
      } catch (err) {
        log.warn("cannot start the pod's command", { argv: argv.join(" "), err });
      }
    }
    try {
      await this.#writeRecord(r);
      await this.#patchStatus(r, {
        container: c?.name ?? "main",
        image: c?.image ?? "",
        startedAt,
        ready: true,
      });
    } finally {
      reported.resolve();
    }
    log.info("pod running", { ip: r.ip, netns: r.netns, command: argv.join(" ") || "(none)" });
  }

  async #exited(s: PodState, proc: PodProcess, code: number, startedAt: string, name: string) {
    if (s.gone || this.#stopping || s.proc !== proc) return;
    this.#o.log.warn("pod command exited", { pod: s.record.name, code });
    await this.#patchStatus(s.record, {
      container: name,
      image: "",
      startedAt,
      ready: false,
      exitCode: code,
    }).catch(() => {});
  }

  async #patchStatus(
    r: PodRecord,
    o: { container: string; image: string; startedAt: string; ready: boolean; exitCode?: number },
  ): Promise<void> {
    try {
      await this.#o.http.request(
        "PATCH",
        `/api/v1/namespaces/${r.namespace}/pods/${r.name}/status`,
        {
          body: podStatusPatch({
            ip: r.ip!,
            hostIp: this.#o.node.ip,
            containerId: r.containerId,
            ...o,
          }),
          contentType: "application/merge-patch+json",
        },
      );
    } catch (err) {
      this.#o.log.warn("cannot patch pod status", { pod: `${r.namespace}/${r.name}`, err });
    }
  }

  #call(command: "ADD" | "DEL", r: PodRecord) {
    return {
      command,
      containerId: r.containerId,
      netnsPath: netnsPath(r.netns),
      ifname: "eth0",
      podNamespace: r.namespace,
      podName: r.name,
      podUid: r.uid,
    } as const;
  }

  async #cniDel(s: PodState): Promise<void> {
    const config = await loadNetworkConfig(this.#o.node.cniConfDir);
    if (!config) return;
    await runCni(this.#o.runner, {
      nodeNetns: this.#o.node.netns,
      env: this.#o.node.env,
      config,
      call: this.#call("DEL", s.record),
      binDirs: [this.#o.node.cniBinDir, "/usr/lib/cni", "/opt/cni/bin"],
      prevResult: s.lastResult,
    });
  }

  async #teardown(key: string, s: PodState): Promise<void> {
    s.gone = true;
    await s.done.catch(() => {});
    const log = this.#o.log.child(s.record.name);
    s.proc?.kill("SIGTERM");
    if (!s.created) return;
    await (this.#o.killNetns ?? ((ns) => killNetnsProcesses(this.#o.runner, ns)))(s.record.netns)
      .catch((err) => log.warn("cannot kill the pod's processes", { err }));
    await this.#cniDel(s).catch((err) => log.warn("CNI DEL failed", { err }));
    await deleteNetns(this.#o.runner, s.record.netns).catch((err) =>
      log.warn("cannot delete the pod namespace", { err })
    );
    if (!this.#pods.has(key)) {
      await Deno.remove(this.#recordFile(s.record)).catch(() => {});
    }
    log.info("pod removed", { netns: s.record.netns });
  }

  #recordFile(r: PodRecord): string {
    return `${this.#o.podDir}/${r.namespace}_${r.name}.json`;
  }

  #logFile(r: PodRecord): string {
    return `${this.#o.podDir}/${r.namespace}_${r.name}.log`;
  }

  async #writeRecord(r: PodRecord): Promise<void> {
    await Deno.mkdir(this.#o.podDir, { recursive: true });
    const path = this.#recordFile(r);
    await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(r) + "\n");
    await Deno.rename(`${path}.tmp`, path);
  }
}

/**
 * Kills every process in a network namespace: SIGTERM, then SIGKILL after 2 s.
 *
 * @param runner runs `ip netns pids`
 * @param netns the namespace
 */
export async function killNetnsProcesses(runner: Runner, netns: string): Promise<void> {
  const pids = async () =>
    (await runner.run(["ip", "netns", "pids", netns], { check: false })).stdout.split(/\s+/)
      .filter((t) => /^\d+$/.test(t)).map(Number);
  let left = await pids();
  const kill = (sig: Deno.Signal) => {
    for (const p of left) {
      try {
        Deno.kill(p, sig);
      } catch { /* gone */ }
    }
  };
  kill("SIGTERM");
  for (let i = 0; i < 20 && left.length; i++) {
    await sleep(100);
    left = await pids();
  }
  kill("SIGKILL");
}

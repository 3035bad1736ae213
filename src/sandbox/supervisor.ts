/**
 * The sandbox's one long-running process (`ovn-k8s sandbox up` starts it detached, in
 * its own session, and `down` stops it by its pidfile `supervisor.pid`). It holds what a
 * real cluster keeps running:
 *
 * - the API emulator (https on the underlay address of the root namespace, bearer
 *   token), with every node registered as a Kubernetes Node;
 * - per node, `ovn-k8s run` inside the node namespace, as that host's systemd unit
 *   would run it (`Restart=always`, `RestartSec=1`): pid in `nodes/NAME/run.pid`, output
 *   in `nodes/NAME/run.log`;
 * - the scheduler and one kubelet stand-in per node (pod records and logs in `pods/`).
 *
 * It writes `supervisor.json` once everything is started (what `up` waits for), and on
 * SIGTERM stops the runs, the scheduler, the kubelets and the pods' commands (waiting at
 * most 3 s, for runs slow to exit), then the emulator.
 *
 * The runs are long-lived children, which the injected `Runner` (run to completion) does
 * not model: they are spawned with `Deno.Command`, their output appended to the log file
 * by the kernel (see `appendOutput`), so nothing is lost when this process stops.
 *
 * @module
 */
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import type { Logger } from "../log/mod.ts";
import { startEmulator } from "../k8s/emulator/mod.ts";
import { KubeHttp } from "../k8s/http.ts";
import { makeConnection } from "../k8s/connection_info.ts";
import { isConflict } from "../k8s/errors.ts";
import { sleep } from "../daemons/mod.ts";
import { appendOutput } from "./kubelet.ts";
import { openLab } from "./lab.ts";
import { Kubelet, nodeReadyCondition } from "./kubelet.ts";
import { Scheduler } from "./scheduler.ts";
import { clusterPaths, type ClusterState, readClusterState } from "./cluster_state.ts";

/** Keeps one node's `ovn-k8s run` running, as `Restart=always` would. */
async function runUnit(
  o: {
    argv: string[];
    netns: string;
    env: Record<string, string>;
    pidFile: string;
    logFile: string;
    signal: AbortSignal;
    log: Logger;
  },
): Promise<void> {
  while (!o.signal.aborted) {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", o.netns, ...appendOutput(o.logFile, o.argv)],
      env: o.env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await Deno.writeTextFile(`${o.pidFile}.tmp`, `${child.pid}\n`);
    await Deno.rename(`${o.pidFile}.tmp`, o.pidFile);
    const stop = () => {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
    };
    o.signal.addEventListener("abort", stop, { once: true });
    const status = await child.status;
    o.signal.removeEventListener("abort", stop);
    if (o.signal.aborted) break;
    o.log.warn("run exited; restarting in 1 s", { netns: o.netns, code: status.code });
    await sleep(1000, o.signal).catch(() => {});
  }
  await Deno.remove(o.pidFile).catch(() => {});
}

/**
 * Runs the supervisor until `signal` aborts.
 *
 * @param dir the sandbox state directory
 * @param o stop signal, logger, runner
 * @throws {Error} when the state is missing or the emulator cannot start
 */
export async function runSupervisor(
  dir: string,
  o: { signal: AbortSignal; log: Logger; runner?: Runner },
): Promise<void> {
  const runner = o.runner ?? new ProcessRunner();
  const state: ClusterState = await readClusterState(dir);
  const paths = clusterPaths(dir);
  const lab = await openLab(dir, { runner, log: o.log });
  if (!lab) throw new Error(`Cannot supervise the sandbox in ${dir}: no lab.json`);
  await Deno.writeTextFile(paths.supervisorPid, `${Deno.pid}\n`);
  const token = (await Deno.readTextFile(paths.token)).trim();
  const emu = await startEmulator({
    hostname: state.apiHost,
    port: state.apiPort,
    tls: {
      cert: await Deno.readTextFile(paths.serverCert),
      key: await Deno.readTextFile(paths.serverKey),
    },
    token,
    serviceIpBase: state.serviceIpBase,
    log: o.log.child("emulator"),
  });
  const http = new KubeHttp(makeConnection({
    server: emu.url,
    token,
    caPem: await Deno.readTextFile(paths.ca),
    source: "sandbox supervisor",
  }));
  const tasks: Promise<void>[] = [];
  const pending = new Set<string>();
  const track = (name: string, p: Promise<void>) => {
    pending.add(name);
    tasks.push(
      p.catch((err) => o.log.error(`${name} failed`, { err })).finally(() => pending.delete(name)),
    );
  };
  try {
    for (const n of lab.nodes) {
      const node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: n.name,
          labels: {
            "kubernetes.io/hostname": n.name,
            "kubernetes.io/os": "linux",
            ...(n.name === state.master ? { "node-role.kubernetes.io/control-plane": "" } : {}),
          },
        },
        status: {
          addresses: [{ type: "InternalIP", address: n.underlayIp }, {
            type: "Hostname",
            address: n.name,
          }],
          // The node's kubelet turns this True once minion-init has written the CNI config.
          conditions: [nodeReadyCondition(false)],
          nodeInfo: { kubeletVersion: "sandbox", operatingSystem: "linux", architecture: "amd64" },
        },
      };
      await http.request("POST", "/api/v1/nodes", { body: node }).catch((err) => {
        if (!isConflict(err)) throw err;
      });
    }
    for (const n of lab.nodes) {
      const nd = clusterPaths(dir).node(n.name);
      track(
        `run@${n.name}`,
        runUnit({
          argv: [
            ...state.self,
            "run",
            `--cni-bin-dir=${nd.cniBin}`,
            `--cni-conf-dir=${nd.cniConf}`,
          ],
          netns: n.netns,
          env: { ...n.env, NO_COLOR: "1" },
          pidFile: nd.runPid,
          logFile: nd.runLog,
          signal: o.signal,
          log: o.log,
        }),
      );
    }
    track(
      "scheduler",
      new Scheduler(http, lab.nodes.map((n) => n.name), o.log.child("scheduler")).run(o.signal),
    );
    for (const n of lab.nodes) {
      const nd = clusterPaths(dir).node(n.name);
      const k = new Kubelet({
        node: {
          name: n.name,
          netns: n.netns,
          ip: n.underlayIp,
          env: n.env,
          cniConfDir: nd.cniConf,
          cniBinDir: nd.cniBin,
        },
        http,
        runner,
        prefix: state.prefix,
        podDir: paths.pods,
        log: o.log.child(`kubelet.${n.name}`),
      });
      track(`kubelet@${n.name}`, k.run(o.signal));
    }
    const ready = { pid: Deno.pid, url: emu.url, startedAt: new Date().toISOString() };
    await Deno.writeTextFile(`${paths.supervisorReady}.tmp`, JSON.stringify(ready) + "\n");
    await Deno.rename(`${paths.supervisorReady}.tmp`, paths.supervisorReady);
    o.log.info("sandbox supervisor running", { url: emu.url, nodes: lab.nodes.length });
    // Run until SIGTERM; then wait for every part: the scheduler's and kubelets' informers
    // return at once on abort, the runs are child processes, bounded in case one is slow.
    await new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      else o.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    o.log.info("stopping");
    const bound = new AbortController();
    await Promise.race([Promise.all(tasks), sleep(3000, bound.signal).catch(() => {})]);
    bound.abort(); // the bound's timer must not keep the process alive once all stopped
  } finally {
    const left = [...pending];
    if (left.length) o.log.warn("parts still stopping; exiting anyway", { parts: left.join(",") });
    else o.log.info("runs, scheduler and kubelets stopped");
    http.close();
    await emu.close();
    await Deno.remove(paths.supervisorPid).catch(() => {});
    o.log.info("sandbox supervisor stopped");
  }
}

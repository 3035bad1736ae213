/**
 * High availability and the command line of `ovn-k8s watcher`, as real processes
 * (`deno run main.ts watcher ...` with the binary's permissions): two watchers share a
 * Lease; the one holding it works, the other stands by; the leader is SIGKILLed and the
 * standby takes over and serves the pods created afterwards. Also: `--underlay` exits 2
 * as in the original, and the original's daemon flags are accepted (pidfile written and
 * removed, /metrics served). Needs ovsdb-server.
 */
import assert from "node:assert/strict";
import { findResource } from "../../src/k8s/resources.ts";
import { pollUntil } from "../../src/daemons/wait.ts";
import { runOvnK8s, spawnOvnK8s } from "../helpers/ovn_k8s_process.ts";
import { annotationOf, startWatcherEnv, until, type WatcherEnv } from "./watcher_env.ts";

const LEASES = findResource("leases", "coordination.k8s.io")!;

/** A watcher child process whose output is drained (a full pipe would block it). */
class WatcherProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  output = "";
  #drained: Promise<void>;
  constructor(args: string[]) {
    this.child = spawnOvnK8s(["watcher", ...args]);
    const drain = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) this.output += chunk;
    };
    this.#drained = Promise.all([drain(this.child.stdout), drain(this.child.stderr)]).then(
      () => {},
    );
  }
  kill(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
  }
  async status(): Promise<Deno.CommandStatus> {
    const s = await this.child.status;
    await this.#drained;
    return s;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.status();
  }
}

function holder(env: WatcherEnv): string | undefined {
  try {
    const l = env.emu.store.get(LEASES, "kube-system", "ovn-k8s-watcher");
    return (l.spec as { holderIdentity?: string }).holderIdentity;
  } catch {
    return undefined;
  }
}

/** A file's text, or "" while it does not exist. */
function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function watcherArgs(env: WatcherEnv, id: string): string[] {
  return [
    "--nb",
    env.nbServer.remotes("tcp"),
    "--k8s-api-server",
    env.emu.url,
    "--identity",
    id,
    "--lease-duration",
    "3",
    "--metrics-address",
    "off",
  ];
}

Deno.test("watcher: two watchers, one leader; the standby takes over when the leader dies", async () => {
  await using env = await startWatcherEnv([
    { name: "node1", subnet: "10.244.1.0/24" },
    { name: "node2", subnet: "10.244.2.0/24" },
  ]);
  await using a = new WatcherProcess(watcherArgs(env, "watcher-a"));
  await until("a holds the lease", () => holder(env) === "watcher-a", 60_000);
  await using b = new WatcherProcess(watcherArgs(env, "watcher-b"));
  await until("b stands by", () => b.output.includes("standing by"), 60_000);

  for (let i = 0; i < 10; i++) env.createPod("default", `a${i}`, i % 2 ? "node1" : "node2");
  await until(
    "pods served by a",
    () =>
      Array.from({ length: 10 }, (_, i) => annotationOf(env.pod("default", `a${i}`))).every(
        Boolean,
      ),
    60_000,
  );
  assert.equal(holder(env), "watcher-a");
  assert.doesNotMatch(b.output, /watcher working/, "the standby did not work");

  a.kill("SIGKILL");
  await a.status();
  for (let i = 0; i < 10; i++) env.createPod("default", `b${i}`, i % 2 ? "node1" : "node2");
  await until("b holds the lease", () => holder(env) === "watcher-b", 60_000);
  await until(
    "pods served by b",
    () =>
      Array.from({ length: 10 }, (_, i) => annotationOf(env.pod("default", `b${i}`))).every(
        Boolean,
      ),
    60_000,
  );
  // The test's own NB monitor (another session) may show the ports after the annotations.
  await until(
    "20 pod ports in NB",
    () => ["a", "b"].every((x) => [...Array(10).keys()].every((i) => env.port(`default_${x}${i}`))),
    30_000,
  );
  const ports = env.podPorts();
  assert.equal(ports.length, 20);
  const ips = ports.map((p) => p.addresses[0]!.split(" ")[1]);
  assert.equal(new Set(ips).size, 20, "no address handed out twice across the takeover");
  const lease = env.emu.store.get(LEASES, "kube-system", "ovn-k8s-watcher");
  assert.equal((lease.spec as { leaseTransitions: number }).leaseTransitions, 1);

  b.kill("SIGTERM");
  assert.equal((await b.status()).code, 0);
  assert.equal(holder(env), "", "a clean stop releases the lease");
});

Deno.test("watcher: original CLI: --underlay exits 2; daemon flags accepted, pidfile and /metrics work", async () => {
  const bad = await runOvnK8s(["watcher", "--underlay"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--underlay: not implemented/);

  await using env = await startWatcherEnv([{ name: "node1", subnet: "10.244.1.0/24" }]);
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-watcher-" });
  try {
    await using w = new WatcherProcess([
      "--overlay",
      "--nb",
      env.nbServer.remotes("unix"),
      "--k8s-api-server",
      env.emu.url,
      "--no-leader-election",
      "--metrics-address",
      "127.0.0.1:0", // the watcher binds a free port and logs it (no port picked, then bound)
      `--pidfile=${dir}/w.pid`,
      `--log-file=${dir}/w.log`,
      "-vfile:info",
      "-vconsole:emer",
      "--detach",
    ]);
    await until("watcher working", () => w.output.includes("watcher working"), 60_000);
    assert.equal(Number((await Deno.readTextFile(`${dir}/w.pid`)).trim()), w.child.pid);
    const log = await until(
      "the log file says where /metrics is",
      () => /watcher working/.test(readOr(`${dir}/w.log`)) && readOr(`${dir}/w.log`),
      60_000,
    );
    const url = /http:\/\/127\.0\.0\.1:\d+\/metrics/.exec(log)?.[0];
    assert.ok(url, `no "metrics served" URL in the log file:\n${log}`);
    env.createPod("default", "m", "node1");
    await until("m annotated", () => annotationOf(env.pod("default", "m")), 60_000);
    // The annotated latency is observed once the watcher has the PATCH's response (after
    // the emulator applied it), and the annotation's own watch event queues the pod once
    // more: the metrics settle shortly after the annotation is seen.
    let text = "";
    const settled = (t: string) =>
      /^ovnk8s_nb_transactions_total\{controller="pods",result="ok"\} [1-9]/m.test(t) &&
      /^ovnk8s_pod_annotated_seconds_count [1-9]/m.test(t) &&
      /^ovnk8s_workqueue_depth\{queue="pods"\} 0$/m.test(t);
    await pollUntil("/metrics shows the pod's transaction and latency, queue drained", async () => {
      text = await (await fetch(url)).text();
      return settled(text);
    }, { timeoutMs: 30_000, intervalMs: 100 }).catch((err) => {
      throw new Error(`${(err as Error).message}; last /metrics:\n${text}`);
    });
    w.kill("SIGTERM");
    assert.equal((await w.status()).code, 0);
    await assert.rejects(Deno.stat(`${dir}/w.pid`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

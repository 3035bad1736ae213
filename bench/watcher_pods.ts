// deno-lint-ignore-file no-console
/**
 * `deno task bench watcher_pods`: the watcher (`main.ts watcher`, its own process)
 * between the API emulator (in this process) and a real OVN NB ovsdb-server (private
 * temp dir, unix socket), with 10 node switches made by the project's init builders.
 *
 * 1. Burst: 10,000 pods across the 10 nodes created at once; pods/second until every
 *    pod is annotated, and per-pod latency (created -> annotation seen by an in-process
 *    watch of the emulator store) p50/p99. Run without and with ovn-northd (+ SB).
 * 2. Steady: pods created at a fixed rate (BENCH_RATE/s for 5 s); per-pod p50/p99.
 * 3. Baselines for the same rows (port, addresses, port security, ids): one
 *    `ovn-nbctl` per pod, SAMPLED (BENCH_NBCTL_SAMPLE calls, default 200, on a database
 *    holding 5,000 ports, i.e. mid-way through 10,000) and extrapolated to 10,000; and
 *    one raw JSON-RPC transaction of all 10,000 rows written by hand on the socket.
 *    Neither baseline annotates pods; the watcher does.
 * 4. Restart: 50,000 pod ports already in NB and 50,000 annotated pods in the API, after
 *    one untimed run (other parts' cluster-wide rows): time from spawning the watcher to
 *    every pod reconciled, its NB transaction count (from its /metrics) and API writes
 *    (the emulator's resourceVersion).
 * 5. Watcher RSS (VmHWM peak and VmRSS) from /proc.
 *
 * Needs ovsdb-tool, ovsdb-server, ovn-nbctl, ovn-northd; `--allow-all`.
 * Env: BENCH_PODS (10000), BENCH_RESTART_PODS (50000), BENCH_RATE (200),
 * BENCH_NBCTL_SAMPLE (200), BENCH_SERVICES (1000), BENCH_SKIP (comma list of burst,northd,
 * services,steady,baseline,restart), BENCH_WATCHER_V8_FLAGS (the watcher's DENO_V8_FLAGS).
 *
 * @module
 */
import { startEmulator } from "../src/k8s/emulator/mod.ts";
import { findResource, type KubeObject } from "../src/k8s/resources.ts";
import { formatIpv4, Ipv4Cidr, macFromIpv4 } from "../src/net/mod.ts";
import {
  findClusterRouter,
  nbStateReadOps,
  parseNbState,
  planCluster,
  planNode,
} from "../src/ovn/mod.ts";
import { NB_DATABASE, type NbTables } from "../src/ovn/nb_models.ts";
import { podPortIds } from "../src/ovn/pod_ops.ts";
import { type Operation, OvsdbClient } from "../src/ovsdb/mod.ts";
import { ovnK8sArgv } from "../tests/helpers/ovn_k8s_process.ts";
import {
  killPidfile,
  NB_SCHEMA,
  percentile,
  run,
  SB_SCHEMA,
  startNorthd,
  startOvsdbServer,
} from "./_common.ts";

const PODS = findResource("pods")!;
const SERVICES = findResource("services")!;
/** ClusterIP services created with the burst (selecting the pods by label). */
const N_SERVICES = Number(Deno.env.get("BENCH_SERVICES") ?? "1000");
const N = Number(Deno.env.get("BENCH_PODS") ?? "10000");
const N_RESTART = Number(Deno.env.get("BENCH_RESTART_PODS") ?? "50000");
const RATE = Number(Deno.env.get("BENCH_RATE") ?? "200");
const SAMPLE = Number(Deno.env.get("BENCH_NBCTL_SAMPLE") ?? "200");
const SKIP = new Set((Deno.env.get("BENCH_SKIP") ?? "").split(","));
/** V8 flags for the watcher process (its `DENO_V8_FLAGS`), e.g. `--max-semi-space-size=8`. */
const WATCHER_V8_FLAGS = Deno.env.get("BENCH_WATCHER_V8_FLAGS") ?? "";
const NODE_COUNT = 10;

interface Central {
  nbSock: string;
  stop(): Promise<void>;
}

/** A fresh NB (and SB + northd when asked) in a private directory. */
async function startCentral(northd: boolean): Promise<Central> {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-bench-watcher-" });
  await startOvsdbServer(dir, "nb", NB_SCHEMA);
  if (northd) {
    await startOvsdbServer(dir, "sb", SB_SCHEMA);
    await startNorthd(dir);
  }
  return {
    nbSock: `${dir}/nb.sock`,
    async stop() {
      for (const n of ["northd", "sb", "nb"]) await killPidfile(`${dir}/${n}.pid`);
      await new Promise((r) => setTimeout(r, 100));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function nodeName(i: number): string {
  return `node${i + 1}`;
}

function nodeSubnet(i: number): Ipv4Cidr {
  return Ipv4Cidr.parse(`10.${128 + i}.0.0/16`);
}

async function connectNb(sock: string): Promise<OvsdbClient<NbTables>> {
  return await OvsdbClient.connect<NbTables>({
    remotes: `unix:${sock}`,
    database: NB_DATABASE,
    timeoutMs: 10_000,
  });
}

/** The cluster router and 10 node switches, as master-/minion-init make them. */
async function addNodes(nb: OvsdbClient<NbTables>): Promise<Map<string, string>> {
  for (let i = 0; i < NODE_COUNT; i++) {
    let state = parseNbState(await nb.transact(nbStateReadOps(nodeName(i))));
    if (!findClusterRouter(state)) {
      await nb.transact(planCluster(state, Ipv4Cidr.parse("10.128.0.0/9")).ops);
      state = parseNbState(await nb.transact(nbStateReadOps(nodeName(i))));
    }
    const router = findClusterRouter(state)!;
    const subnet = nodeSubnet(i);
    await nb.transact(planNode(state, {
      node: nodeName(i),
      subnet,
      managementMac: macFromIpv4(subnet.host(2)),
      router: { ref: router._uuid, name: router.name },
      loadBalancers: [...state.tcpLoadBalancers, ...state.udpLoadBalancers].map((l) => l._uuid),
    }));
  }
  const state = parseNbState(await nb.transact(nbStateReadOps("x")));
  return new Map(state.switches.map((s) => [s.name, s._uuid]));
}

/** The rows the watcher would write for pod `i`, as raw operations. */
function podRows(
  i: number,
  switches: Map<string, string>,
  ns = "bench",
  uid = `uid-${i}`,
): Operation[] {
  const node = i % NODE_COUNT;
  const ip = nodeSubnet(node).host(3 + Math.floor(i / NODE_COUNT));
  const addr = `${macFromIpv4(ip)} ${formatIpv4(ip)}`;
  const name = `p${i}`;
  return [
    {
      op: "insert",
      table: "Logical_Switch_Port",
      row: {
        name: `${ns}_${name}`,
        addresses: [addr],
        port_security: [addr],
        external_ids: podPortIds({ namespace: ns, pod: name, uid, mac: "", ip: "" }),
      },
      uuidName: `p${i}`,
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", switches.get(nodeName(node))!]],
      mutations: [["ports", "insert", [`p${i}`]]],
    },
  ];
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

interface WatcherChild {
  child: Deno.ChildProcess;
  metricsUrl: string;
  output: () => string;
  stop(): Promise<void>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function spawnWatcher(nbSock: string, apiUrl: string): WatcherChild {
  const port = freePort();
  const [prog, ...args] = ovnK8sArgv([
    "watcher",
    "--nb",
    `unix:${nbSock}`,
    "--k8s-api-server",
    apiUrl,
    "--no-leader-election",
    "--metrics-address",
    `127.0.0.1:${port}`,
  ]);
  const child = new Deno.Command(prog!, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: {
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      OVN_K8S_LOG_LEVEL: "info",
      ...(WATCHER_V8_FLAGS ? { DENO_V8_FLAGS: WATCHER_V8_FLAGS } : {}),
    },
  }).spawn();
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s.pipeThrough(new TextDecoderStream())) {
      out += c;
      if (out.length > 200_000) out = out.slice(-100_000);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  return {
    child,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    output: () => out,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await drained;
    },
  };
}

async function metricsText(w: WatcherChild): Promise<string | undefined> {
  try {
    return await (await fetch(w.metricsUrl)).text();
  } catch {
    return undefined;
  }
}

function metricValue(text: string, line: RegExp): number {
  return Number(line.exec(text)?.[1] ?? NaN);
}

async function rss(pid: number): Promise<{ hwmMiB: number; rssMiB: number }> {
  const s = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN);
  return { hwmMiB: kb("VmHWM") / 1024, rssMiB: kb("VmRSS") / 1024 };
}

async function waitWorking(w: WatcherChild, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!/watcher working|watcher stopped/.test(w.output())) {
    if (Date.now() > end) throw new Error(`watcher did not start:\n${w.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Burst (or steady-rate) pods through a watcher; returns throughput and latencies. */
async function podRun(
  label: string,
  opts: { northd: boolean; rate?: number; count: number; services?: number },
): Promise<Record<string, number>> {
  const central = await startCentral(opts.northd);
  const emu = await startEmulator({ historySize: 500_000, bookmarkIntervalMs: 5000 });
  const nb = await connectNb(central.nbSock);
  await addNodes(nb);
  nb.close();
  const created = new Map<string, number>();
  const annotated = new Map<string, number>();
  const unwatch = emu.store.watch({
    resource: PODS,
    match: () => true,
    send: (ev) => {
      const name = ev.object.metadata.name!;
      if (!annotated.has(name) && ev.object.metadata.annotations?.["ovn"]) {
        annotated.set(name, performance.now());
      }
    },
  });
  const w = spawnWatcher(central.nbSock, emu.url);
  try {
    await waitWorking(w);
    const t0 = performance.now();
    for (let i = 0; i < (opts.services ?? 0); i++) {
      emu.store.create(SERVICES, "default", {
        metadata: { name: `s${i}`, namespace: "default" },
        spec: {
          selector: { app: `s${i}` },
          ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }],
        },
      } as KubeObject);
    }
    const create = (i: number) => {
      const name = `p${i}`;
      created.set(name, performance.now());
      emu.store.create(PODS, "default", {
        metadata: {
          name,
          namespace: "default",
        },
        spec: { containers: [{ name: "c", image: "pause" }], nodeName: nodeName(i % NODE_COUNT) },
      } as KubeObject);
    };
    if (opts.rate) {
      const interval = 1000 / opts.rate;
      for (let i = 0; i < opts.count; i++) {
        create(i);
        const due = t0 + (i + 1) * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    } else {
      for (let i = 0; i < opts.count; i++) {
        create(i);
        if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
      }
    }
    const tCreated = performance.now();
    const end = Date.now() + 300_000;
    while (annotated.size < opts.count) {
      if (Date.now() > end) throw new Error(`${label}: only ${annotated.size} annotated`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const tLast = Math.max(...annotated.values());
    const lat = [...created].map(([n, t]) => annotated.get(n)! - t).sort((a, b) => a - b);
    const mem = await rss(w.child.pid);
    const text = (await metricsText(w)) ?? "";
    const txns = metricValue(
      text,
      /^ovnk8s_nb_transactions_total\{controller="pods",result="ok"\} (\d+)/m,
    );
    const r = {
      pods: opts.count,
      createMs: tCreated - t0,
      totalMs: tLast - t0,
      podsPerSecond: opts.count / ((tLast - t0) / 1000),
      p50Ms: percentile(lat, 0.5),
      p99Ms: percentile(lat, 0.99),
      nbTransactions: txns,
      rssHwmMiB: mem.hwmMiB,
      rssMiB: mem.rssMiB,
      heapMiB: metricValue(text, /^ovnk8s_js_heap_used_bytes (\d+)/m) / 2 ** 20,
      heapTotalMiB: metricValue(text, /^ovnk8s_js_heap_total_bytes (\d+)/m) / 2 ** 20,
    };
    console.log(
      `${label}: ${r.pods} pods annotated in ${fmt(r.totalMs)} (creating them took ${
        fmt(r.createMs)
      }) ` +
        `= ${r.podsPerSecond.toFixed(0)} pods/s; per pod p50 ${fmt(r.p50Ms)}, p99 ${
          fmt(r.p99Ms)
        }; ` +
        `${txns} NB transactions; watcher RSS peak ${r.rssHwmMiB.toFixed(0)} MiB, now ` +
        `${r.rssMiB.toFixed(0)} MiB (JS heap in use ${r.heapMiB.toFixed(0)} MiB of ` +
        `${r.heapTotalMiB.toFixed(0)} MiB)`,
    );
    return r;
  } finally {
    unwatch();
    await w.stop();
    await emu.close();
    await central.stop();
  }
}

/** One ovn-nbctl per pod (sampled) and one raw transaction of all rows. */
async function baselines(count: number): Promise<{ nbctlPerPodMs: number; rawMs: number }> {
  // (a) ovn-nbctl per pod, on a database holding count/2 ports.
  let central = await startCentral(false);
  let nbctlPerPodMs: number;
  try {
    const nb = await connectNb(central.nbSock);
    const switches = await addNodes(nb);
    const half = Math.floor(count / 2);
    const pre: Operation[] = [];
    for (let i = 0; i < half; i++) pre.push(...podRows(i, switches, "pre"));
    await nb.transact(pre);
    nb.close();
    const t0 = performance.now();
    for (let k = 0; k < SAMPLE; k++) {
      const i = half + k;
      const node = i % NODE_COUNT;
      const ip = nodeSubnet(node).host(3 + Math.floor(i / NODE_COUNT));
      const addr = `${macFromIpv4(ip)} ${formatIpv4(ip)}`;
      const port = `bench_p${i}`;
      await run([
        "ovn-nbctl",
        `--db=unix:${central.nbSock}`,
        "--",
        "lsp-add",
        nodeName(node),
        port,
        "--",
        "lsp-set-addresses",
        port,
        addr,
        "--",
        "lsp-set-port-security",
        port,
        addr,
        "--",
        "set",
        "logical_switch_port",
        port,
        "external_ids:namespace=bench",
        "external_ids:pod=true",
        `external_ids:ovn-k8s-key=bench/p${i}`,
      ]);
    }
    nbctlPerPodMs = (performance.now() - t0) / SAMPLE;
  } finally {
    await central.stop();
  }
  // (b) one raw JSON-RPC transaction of all rows, by hand on the socket.
  central = await startCentral(false);
  let rawMs: number;
  try {
    const nb = await connectNb(central.nbSock);
    const switches = await addNodes(nb);
    nb.close();
    const wire = (v: unknown): unknown => {
      if (Array.isArray(v)) {
        return [
          "set",
          v.map((x) => /^p\d+$/.test(String(x)) ? ["named-uuid", x] : x),
        ];
      }
      if (v && typeof v === "object") return ["map", Object.entries(v)];
      return v;
    };
    const ops: unknown[] = [];
    for (let i = 0; i < count; i++) {
      for (const o of podRows(i, switches)) {
        if (o.op === "insert") {
          const row = Object.fromEntries(Object.entries(o.row).map(([k, v]) => [k, wire(v)]));
          ops.push({ op: "insert", table: o.table, row, "uuid-name": o.uuidName });
        } else if (o.op === "mutate") {
          const [[col, mut, val]] = o.mutations as [[string, string, string[]]];
          ops.push({
            op: "mutate",
            table: o.table,
            where: [["_uuid", "==", ["uuid", (o.where[0] as unknown as unknown[])[2]]]],
            mutations: [[col, mut, ["set", val.map((x) => ["named-uuid", x])]]],
          });
        }
      }
    }
    const conn = await Deno.connect({ transport: "unix", path: central.nbSock });
    const body = new TextEncoder().encode(
      JSON.stringify({ id: 1, method: "transact", params: [NB_DATABASE, ...ops] }),
    );
    const t0 = performance.now();
    const writeAll = async () => {
      for (let off = 0; off < body.length;) off += await conn.write(body.subarray(off));
    };
    await writeAll().then(async () => {
      let text = "";
      const buf = new Uint8Array(1 << 20);
      const dec = new TextDecoder();
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("raw transaction: connection closed");
        text += dec.decode(buf.subarray(0, n), { stream: true });
        if (text.includes('"id":1')) {
          try {
            const msg = JSON.parse(text);
            if (msg.error) throw new Error(`raw transaction failed: ${JSON.stringify(msg.error)}`);
            const bad = (msg.result as { error?: string }[]).find((r) => r?.error);
            if (bad) throw new Error(`raw transaction failed: ${JSON.stringify(bad)}`);
            break;
          } catch (err) {
            if (err instanceof SyntaxError) continue;
            throw err;
          }
        }
      }
    });
    rawMs = performance.now() - t0;
    conn.close();
  } finally {
    await central.stop();
  }
  console.log(
    `baselines: ovn-nbctl ${nbctlPerPodMs.toFixed(2)} ms per pod (${SAMPLE} calls sampled on a ` +
      `database of ${Math.floor(count / 2)} ports; extrapolated: ${
        fmt(nbctlPerPodMs * count)
      } for ` +
      `${count}); one raw transaction of ${count} pods' rows: ${fmt(rawMs)}`,
  );
  return { nbctlPerPodMs, rawMs };
}

/** Restart with `count` ports already in NB and `count` annotated pods in the API. */
async function restart(count: number): Promise<Record<string, number>> {
  const central = await startCentral(false);
  const emu = await startEmulator({ historySize: 1000 });
  try {
    const nb = await connectNb(central.nbSock);
    const switches = await addNodes(nb);
    // Pods first (the emulator gives them their uids), then their ports, as a watcher
    // that ran before would have left them.
    const uids: string[] = [];
    for (let i = 0; i < count; i++) {
      const node = i % NODE_COUNT;
      const subnet = nodeSubnet(node);
      const ip = subnet.host(3 + Math.floor(i / NODE_COUNT));
      const pod = emu.store.create(PODS, "default", {
        metadata: {
          name: `p${i}`,
          namespace: "default",
          annotations: {
            ovn: JSON.stringify({
              ip_address: `${formatIpv4(ip)}/${subnet.prefix}`,
              mac_address: macFromIpv4(ip),
              gateway_ip: formatIpv4(subnet.host(1)),
            }),
          },
        },
        spec: { containers: [{ name: "c", image: "pause" }], nodeName: nodeName(node) },
      } as KubeObject);
      uids.push(pod.metadata.uid!);
    }
    for (let start = 0; start < count; start += 10_000) {
      const ops: Operation[] = [];
      for (let i = start; i < Math.min(count, start + 10_000); i++) {
        ops.push(...podRows(i, switches, "default", uids[i]));
      }
      await nb.transact(ops, { timeoutMs: 120_000 });
    }
    nb.close();
    // A first, untimed run lets the other parts create their cluster-wide rows (the
    // services part's load balancer group), as a watcher that ran before would have.
    const first = spawnWatcher(central.nbSock, emu.url);
    await waitWorking(first, 300_000);
    await first.stop();
    const rv = emu.store.resourceVersion;
    const t0 = performance.now();
    const spawnedAt = Date.now();
    const w = spawnWatcher(central.nbSock, emu.url);
    try {
      await waitWorking(w, 300_000);
      const tWorking = performance.now();
      let text = "";
      const end = Date.now() + 300_000;
      for (;;) {
        text = (await metricsText(w)) ?? "";
        const adds = metricValue(text, /^ovnk8s_workqueue_adds\{queue="pods"\} (\d+)/m);
        const depth = metricValue(text, /^ovnk8s_workqueue_depth\{queue="pods"\} (\d+)/m);
        const inflight = metricValue(text, /^ovnk8s_workqueue_in_flight\{queue="pods"\} (\d+)/m);
        if (adds >= count && depth === 0 && inflight === 0) break;
        if (Date.now() > end) throw new Error(`restart: queue not drained:\n${text}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const tDone = performance.now();
      const txnLines = [...text.matchAll(/^ovnk8s_nb_transactions_total(\{[^}]*\}) (\d+)/gm)];
      const txns = txnLines.reduce((n, m) => n + Number(m[2]), 0);
      if (txns) {
        console.log(`  NB transactions: ${txnLines.map((m) => `${m[1]} ${m[2]}`).join(", ")}`);
      }
      const mem = await rss(w.child.pid);
      // Phases from the watcher's own log timestamps, relative to the spawn.
      const phases: string[] = [];
      for (const line of w.output().split("\n")) {
        const m = /^(\S+Z)\|\w+\|[\w.]+\|([^=]*?)(?: \w+=|$)/.exec(line);
        if (
          !m ||
          !/watcher starting|NB monitored|informer synced|caches synced|repair done|watcher working/
            .test(m[2]!)
        ) continue;
        phases.push(`${m[2]} +${Date.parse(m[1]!) - spawnedAt} ms`);
        console.log(`  watcher: ${line}`);
      }
      console.log(`  phases from spawn: ${phases.join(", ")}`);
      const r = {
        ports: count,
        toWorkingMs: tWorking - t0,
        toReconciledMs: tDone - t0,
        nbTransactions: txns,
        apiWrites: Number(emu.store.resourceVersion) - Number(rv),
        rssHwmMiB: mem.hwmMiB,
        heapMiB: metricValue(text, /^ovnk8s_js_heap_used_bytes (\d+)/m) / 2 ** 20,
      };
      console.log(
        `restart with ${count} ports in NB: working (caches synced, repair done) after ` +
          `${fmt(r.toWorkingMs)}, every pod reconciled after ${fmt(r.toReconciledMs)} ` +
          `(process start included); NB transactions ${txns}, API writes ${r.apiWrites}; ` +
          `RSS peak ${r.rssHwmMiB.toFixed(0)} MiB (JS heap in use now ${r.heapMiB.toFixed(0)} MiB)`,
      );
      return r;
    } finally {
      await w.stop();
    }
  } finally {
    await emu.close();
    await central.stop();
  }
}

if (import.meta.main) {
  console.log(
    `watcher_pods${
      WATCHER_V8_FLAGS ? ` (watcher DENO_V8_FLAGS=${WATCHER_V8_FLAGS})` : ""
    }: ${N} pods on ${NODE_COUNT} node switches (and a run with ${N_SERVICES} ` +
      "ClusterIP services, no selector, no endpoints, created in the same burst)",
  );
  const results: Record<string, unknown> = {};
  if (!SKIP.has("burst")) {
    results.burst = await podRun("burst, no northd", { northd: false, count: N });
  }
  if (!SKIP.has("northd")) {
    results.burstNorthd = await podRun("burst, northd running", { northd: true, count: N });
  }
  if (!SKIP.has("services") && N_SERVICES > 0) {
    results.burstServices = await podRun(`burst + ${N_SERVICES} services, no northd`, {
      northd: false,
      count: N,
      services: N_SERVICES,
    });
  }
  if (!SKIP.has("steady")) {
    results.steady = await podRun(`steady ${RATE} pods/s, no northd`, {
      northd: false,
      count: RATE * 5,
      rate: RATE,
    });
  }
  if (!SKIP.has("baseline")) {
    const b = await baselines(N);
    results.baselines = b;
    const burst = results.burst as { totalMs: number } | undefined;
    if (burst) {
      const nbctlTotal = b.nbctlPerPodMs * N;
      console.log(
        `ratios: watcher (ports + annotations) is ${(nbctlTotal / burst.totalMs).toFixed(0)}x ` +
          `the ovn-nbctl-per-pod rate (rows only), and takes ${
            (burst.totalMs / b.rawMs).toFixed(1)
          }x ` +
          "the time of one raw transaction of the same rows (rows only)",
      );
    }
  }
  if (!SKIP.has("restart")) results.restart = await restart(N_RESTART);
  console.log(JSON.stringify(results));
}

// deno-lint-ignore-file no-console
/**
 * `deno task bench watcher_services`: N services (default 10,000; 1,000 of them NodePort)
 * with 5 ready endpoints each, through the API emulator and the watcher's services part
 * into a fresh NB ovsdb-server (private temp dir, unix socket, no northd), with 10 node
 * switches and 10 gateway routers. Prints:
 *
 * - the initial load: time until every service is programmed, NB transactions,
 *   operations and bytes sent, NB rows (load balancers, group members, VIP keys), and
 *   the compacted NB file size;
 * - the cost of ONE endpoint change (a slice loses a ready endpoint) as the watcher
 *   commits it: operations and bytes on the wire, and the latency from the API change
 *   to the NB commit (median of several changes), for a ClusterIP and a NodePort service;
 * - the same change in the original's layout (one shared cluster load balancer holding
 *   every VIP), measured in the same run on a second fresh NB: (b1) the whole `vips` map
 *   written by one `update` (what "set the map" costs on the wire), (b2) the original's
 *   actual command, one `ovn-nbctl set load_balancer <lb> vips:"<vip>"="<backends>"`
 *   process per change (the process reads the database first);
 * - a restart of the watcher on the full NB: time to ready and idle, and its writes
 *   (target: zero).
 *
 * With `BENCH_NORTHD=1` each NB gets an SB and ovn-northd, and the time northd takes to
 * bring SB up to date (`ovn-nbctl --wait=sb sync`) is measured after the initial load and
 * after each endpoint change, in both layouts (the original's cluster load balancer is
 * then attached to the same node switches).
 *
 * Environment: BENCH_SERVICES, BENCH_ENDPOINTS, BENCH_NODEPORT, BENCH_NODES, BENCH_CHANGES,
 * BENCH_NORTHD.
 * Needs ovsdb-tool, ovsdb-server, ovs-appctl and ovn-nbctl; `--allow-all`.
 *
 * @module
 */
import { NO_EVENTS } from "../src/controllers/events.ts";
import { MetricsRegistry } from "../src/controllers/metrics.ts";
import { NbWriter, type Transactor } from "../src/controllers/nb_writer.ts";
import { servicesPart } from "../src/controllers/service_controller.ts";
import { runWatcher } from "../src/controllers/watcher.ts";
import { makeConnection } from "../src/k8s/connection_info.ts";
import { type Emulator, startEmulator } from "../src/k8s/emulator/server.ts";
import { KubeHttp } from "../src/k8s/http.ts";
import { findResource, type KubeObject } from "../src/k8s/resources.ts";
import { createLogger } from "../src/log/mod.ts";
import type { NbTables } from "../src/ovn/nb_models.ts";
import { encodeOperation, type Operation, OvsdbClient } from "../src/ovsdb/mod.ts";
import {
  killPidfile,
  median,
  NB_SCHEMA,
  run,
  SB_SCHEMA,
  startNorthd,
  startOvsdbServer,
} from "./_common.ts";

const N = Number(Deno.env.get("BENCH_SERVICES") ?? "10000");
const EPS = Number(Deno.env.get("BENCH_ENDPOINTS") ?? "5");
const NODEPORT = Math.min(N, Number(Deno.env.get("BENCH_NODEPORT") ?? "1000"));
const NODES = Number(Deno.env.get("BENCH_NODES") ?? "10");
const CHANGES = Number(Deno.env.get("BENCH_CHANGES") ?? "15");
const NORTHD = Deno.env.get("BENCH_NORTHD") === "1";
const SERVICES = findResource("services")!;
const SLICES = findResource("endpointslices", "discovery.k8s.io")!;
const log = createLogger("bench", { level: "error" });

interface Server {
  dir: string;
  remote: string;
  fileSize(): Promise<number>;
  /** Time until northd has processed every NB change (`--wait=sb sync`); needs BENCH_NORTHD. */
  sbSync(): Promise<number>;
  stop(): Promise<void>;
}

async function freshNb(): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-bench-svc-" });
  const daemons = ["nb"];
  await startOvsdbServer(dir, "nb", NB_SCHEMA);
  if (NORTHD) {
    await startOvsdbServer(dir, "sb", SB_SCHEMA);
    daemons.push("sb");
    await startNorthd(dir);
    daemons.unshift("northd");
  }
  return {
    dir,
    remote: `unix:${dir}/nb.sock`,
    async fileSize() {
      await run(["ovs-appctl", "-t", `${dir}/nb.ctl`, "ovsdb-server/compact"]);
      return (await Deno.stat(`${dir}/nb.db`)).size;
    },
    async sbSync() {
      const t0 = performance.now();
      await run(["ovn-nbctl", `--db=unix:${dir}/nb.sock`, "--wait=sb", "--timeout=600", "sync"]);
      return performance.now() - t0;
    },
    async stop() {
      for (const d of daemons) await killPidfile(`${dir}/${d}.pid`);
      await new Promise((r) => setTimeout(r, 200));
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Counts what the watcher sends: transactions, operations, bytes of the encoded ops. */
class CountingTransactor implements Transactor {
  txns = 0;
  ops = 0;
  bytes = 0;
  last: { ops: number; bytes: number } = { ops: 0, bytes: 0 };
  constructor(readonly db: OvsdbClient<NbTables>) {}
  transact(ops: readonly Operation[], opts?: { timeoutMs?: number }) {
    const bytes = wireBytes(this.db, ops);
    this.txns++;
    this.ops += ops.length;
    this.bytes += bytes;
    this.last = { ops: ops.length, bytes };
    return this.db.transact(ops, opts);
  }
}

function wireBytes(db: OvsdbClient<NbTables>, ops: readonly Operation[]): number {
  return JSON.stringify(["OVN_Northbound", ...ops.map((o) => encodeOperation(db.schema, o))])
    .length;
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });

function backendIp(svc: number, ep: number): string {
  const n = svc * EPS + ep;
  return `10.${128 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
}

function sliceFor(name: string, svc: number, notReady = -1): KubeObject {
  return {
    metadata: {
      name: `${name}-ipv4`,
      namespace: "default",
      labels: { "kubernetes.io/service-name": name },
    },
    addressType: "IPv4",
    endpoints: Array.from({ length: EPS }, (_, e) => ({
      addresses: [backendIp(svc, e)],
      conditions: { ready: e !== notReady },
    })),
    ports: [{ name: "", port: 8080, protocol: "TCP" }],
  };
}

async function topology(db: OvsdbClient<NbTables>): Promise<void> {
  const ops: Operation[] = [];
  for (let i = 1; i <= NODES; i++) {
    ops.push({
      op: "insert",
      table: "Logical_Switch",
      row: { name: `node${i}`, other_config: { subnet: `10.244.${i}.0/24` } },
    });
    ops.push({
      op: "insert",
      table: "Logical_Router",
      row: {
        name: `GR_node${i}`,
        options: { chassis: `ch-${i}` },
        external_ids: { physical_ip: `172.16.0.${10 + i}` },
      },
    });
  }
  await db.transact(ops);
}

interface Running {
  stop(): Promise<void>;
  part: ReturnType<typeof servicesPart>;
  counter: CountingTransactor;
  readyMs: number;
}

async function startWatcher(remote: string, emu: Emulator): Promise<Running> {
  const db = await OvsdbClient.connect<NbTables>({ remotes: remote, database: "OVN_Northbound" });
  const counter = new CountingTransactor(db);
  const metrics = new MetricsRegistry();
  const http = new KubeHttp(makeConnection({ server: emu.url, source: "bench" }));
  const ac = new AbortController();
  const part = servicesPart({ batchSize: 500 });
  const ready = Promise.withResolvers<void>();
  const t0 = performance.now();
  const done = runWatcher({
    nb: db,
    writer: new NbWriter(counter, metrics),
    http,
    events: NO_EVENTS,
    metrics,
    parts: [part],
    log,
    onReady: () => ready.resolve(),
    signal: ac.signal,
  });
  done.catch((e) => ready.reject(e));
  await ready.promise;
  return {
    part,
    counter,
    readyMs: performance.now() - t0,
    async stop() {
      ac.abort();
      await done.catch(() => {});
      db.close();
    },
  };
}

async function until(what: string, fn: () => boolean, ms = 300_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function serviceVip(w: Running, name: string): string | undefined {
  const lb = w.part.controller!.index.serviceLbs(`default/${name}`).get("tcp")?.[0];
  return lb ? Object.values(lb.vips)[0] : undefined;
}

async function measureChanges(w: Running, emu: Emulator, svc: number, srv: Server) {
  const name = `svc-${svc}`;
  const sb: number[] = [];
  const lat: number[] = [];
  const ops: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const before = w.counter.txns;
    const obj = emu.store.get(SLICES, "default", `${name}-ipv4`);
    const want = sliceFor(name, svc, i % EPS);
    const t0 = performance.now();
    emu.store.update(SLICES, "default", `${name}-ipv4`, { ...want, metadata: obj.metadata });
    const expect = Array.from({ length: EPS }, (_, e) => e).filter((e) => e !== i % EPS)
      .map((e) => `${backendIp(svc, e)}:8080`);
    await until(`change ${i} of ${name}`, () => {
      const v = serviceVip(w, name);
      return v !== undefined && expect.every((b) => v.includes(b)) &&
        v.split(",").length === expect.length;
    });
    lat.push(performance.now() - t0);
    await until("the queue to drain", () => w.part.controller!.queue.idle);
    if (w.counter.txns === before + 1) {
      ops.push(w.counter.last.ops);
      bytes.push(w.counter.last.bytes);
    }
    if (NORTHD) sb.push(await srv.sbSync());
  }
  return { latencyMs: median(lat), ops: median(ops), bytes: median(bytes), sbMs: median(sb) };
}

async function baseline(
  vips: Record<string, string>,
  key: string,
  routerVips: Map<string, Record<string, string>>,
) {
  const srv = await freshNb();
  try {
    const db = await OvsdbClient.connect<NbTables>({
      remotes: srv.remote,
      database: "OVN_Northbound",
    });
    const [ins] = await db.transact([
      {
        op: "insert",
        table: "Load_Balancer",
        uuidName: "lb",
        row: { external_ids: { "k8s-cluster-lb-tcp": "yes" }, vips },
      },
      ...Array.from({ length: NODES }, (_, i): Operation => ({
        op: "insert",
        table: "Logical_Switch",
        row: {
          name: `node${i + 1}`,
          other_config: { subnet: `10.244.${i + 1}.0/24` },
          load_balancer: ["lb"],
        },
      })),
      // The same gateway routers with the same per-router NodePort load balancers.
      ...[...routerVips].flatMap(([router, rv], i): Operation[] => [
        {
          op: "insert",
          table: "Load_Balancer",
          uuidName: `gw${i}`,
          row: { external_ids: { TCP_lb_gateway_router: router }, vips: rv },
        },
        {
          op: "insert",
          table: "Logical_Router",
          row: { name: router, options: { chassis: `ch-${i}` }, load_balancer: [`gw${i}`] },
        },
      ]),
    ]);
    const uuid = ins!.uuid!;
    const sbInitial = NORTHD ? await srv.sbSync() : 0;
    const sb: number[] = [];
    const upd: number[] = [];
    let bytes = 0;
    for (let i = 0; i < CHANGES; i++) {
      const next = {
        ...vips,
        [key]: `${vips[key]!.split(",").slice(0, EPS - 1 - (i % 2)).join(",")}`,
      };
      const ops: Operation[] = [{
        op: "update",
        table: "Load_Balancer",
        where: [["_uuid", "==", uuid]],
        row: { vips: next },
      }];
      bytes = wireBytes(db, ops);
      const t0 = performance.now();
      await db.transact(ops);
      upd.push(performance.now() - t0);
      if (NORTHD) sb.push(await srv.sbSync());
    }
    const nbctl: number[] = [];
    for (let i = 0; i < Math.min(CHANGES, 5); i++) {
      const t0 = performance.now();
      await run([
        "ovn-nbctl",
        `--db=${srv.remote}`,
        "--timeout=60",
        "set",
        "load_balancer",
        uuid,
        `vips:"${key}"="${vips[key]!.split(",").slice(0, EPS - 1 - (i % 2)).join(",")}"`,
      ]);
      nbctl.push(performance.now() - t0);
    }
    db.close();
    return {
      updateMs: median(upd),
      updateBytes: bytes,
      nbctlMs: median(nbctl),
      sbInitial,
      sbMs: median(sb),
    };
  } finally {
    await srv.stop();
  }
}

if (import.meta.main) {
  const srv = await freshNb();
  const emu = await startEmulator({});
  let w: Running | undefined;
  try {
    {
      const db = await OvsdbClient.connect<NbTables>({
        remotes: srv.remote,
        database: "OVN_Northbound",
      });
      await topology(db);
      db.close();
    }
    const tc = performance.now();
    for (let i = 0; i < N; i++) {
      const name = `svc-${i}`;
      emu.store.create(SERVICES, "default", {
        metadata: { name },
        spec: {
          type: i < NODEPORT ? "NodePort" : "ClusterIP",
          ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }],
        },
      });
      emu.store.create(SLICES, "default", sliceFor(name, i));
    }
    console.log(
      `setup: ${fmt(N)} services (${fmt(NODEPORT)} NodePort) x ${EPS} endpoints in the emulator ` +
        `in ${fmt(performance.now() - tc)} ms; ${NODES} node switches, ${NODES} gateway routers`,
    );

    const t0 = performance.now();
    w = await startWatcher(srv.remote, emu);
    await until(
      "every service programmed",
      () => w!.part.controller!.index.services().length === N && w!.part.controller!.queue.idle,
    );
    const loadMs = performance.now() - t0;
    const ix = w.part.controller!.index;
    let lbs = 0, vipKeys = 0, grKeys = 0;
    const db2 = await OvsdbClient.connect<NbTables>({
      remotes: srv.remote,
      database: "OVN_Northbound",
    });
    const [lbRows] = await db2.transact([{
      op: "select",
      table: "Load_Balancer",
      where: [],
      columns: ["vips", "external_ids"],
    }]);
    for (const r of (lbRows?.rows ?? []) as { vips: Record<string, string> }[]) {
      lbs++;
      vipKeys += Object.keys(r.vips).length;
    }
    for (const g of ix.gatewayRouters()) {
      for (const lb of ix.gatewayLbs(g.row.name).values()) grKeys += Object.keys(lb.vips).length;
    }
    db2.close();
    const size = await srv.fileSize();
    console.log(
      `initial load: ${fmt(loadMs)} ms to program ${fmt(N)} services ` +
        `(${fmt(N / (loadMs / 1000))} services/s); ${w.counter.txns} transactions, ` +
        `${fmt(w.counter.ops)} operations, ${fmt(w.counter.bytes / 1024)} KiB sent`,
    );
    console.log(
      `NB rows: ${fmt(lbs)} Load_Balancer rows (${fmt(ix.services().length)} per-service, ` +
        `${fmt(lbs - ix.services().length)} per-router), 1 Load_Balancer_Group with ` +
        `${fmt(ix.group()?.load_balancer.length ?? 0)} members, ${fmt(vipKeys)} VIP keys ` +
        `(${fmt(grKeys)} nodePort keys on ${NODES} routers); compacted NB file ${
          fmt(size / 1024)
        } KiB`,
    );

    const sbInitial = NORTHD ? await srv.sbSync() : 0;
    if (NORTHD) {
      console.log(
        `northd: SB up to date ${fmt(sbInitial)} ms after the initial load was committed`,
      );
    }
    const cip = await measureChanges(w, emu, Math.floor((N + NODEPORT) / 2), srv);
    const np = await measureChanges(w, emu, Math.floor(NODEPORT / 2), srv);
    if (NORTHD) {
      console.log(
        `northd after one endpoint change (--wait=sb sync, median): ClusterIP ${
          fmt(cip.sbMs)
        } ms, ` +
          `NodePort ${fmt(np.sbMs)} ms`,
      );
    }
    console.log(
      `one endpoint change, ClusterIP service: ${cip.ops} operation(s), ${fmt(cip.bytes)} bytes ` +
        `sent, ${
          fmt(cip.latencyMs)
        } ms from the API change to the NB commit (median of ${CHANGES})`,
    );
    console.log(
      `one endpoint change, NodePort service: ${np.ops} operation(s), ${fmt(np.bytes)} bytes ` +
        `sent (per-service LB + one single-key mutate per gateway router), ` +
        `${fmt(np.latencyMs)} ms (median)`,
    );

    // The original's layout: every VIP in one cluster load balancer.
    const all: Record<string, string> = {};
    for (const spec of [...Array(N).keys()].map((i) => `default/svc-${i}`)) {
      const lb = ix.serviceLbs(spec).get("tcp")?.[0];
      if (lb) Object.assign(all, lb.vips);
    }
    const key = Object.keys(all)[Math.floor(N / 2)]!;
    const routerVips = new Map<string, Record<string, string>>();
    for (const g of ix.gatewayRouters()) {
      routerVips.set(g.row.name, { ...ix.gatewayLb(g.row.name, "tcp")?.vips });
    }
    const b = await baseline(all, key, routerVips);
    console.log(
      `baseline (original layout, ${
        fmt(Object.keys(all).length)
      } VIPs in one LB): (b1) whole vips ` +
        `map update ${fmt(b.updateBytes)} bytes, ${fmt(b.updateMs)} ms per commit; (b2) one ` +
        `ovn-nbctl set per change ${fmt(b.nbctlMs)} ms`,
    );
    if (NORTHD) {
      console.log(
        `baseline northd: SB up to date ${fmt(b.sbInitial)} ms after the load; ` +
          `${fmt(b.sbMs)} ms after one whole-map change (median)`,
      );
    }
    console.log(
      `ratio: bytes per endpoint change (b1)/(ours) = ${fmt(b.updateBytes / cip.bytes)}x; ` +
        `(b2) time / our API-to-NB latency = ${fmt(b.nbctlMs / cip.latencyMs)}x`,
    );

    await w.stop();
    w = undefined;
    const tr = performance.now();
    w = await startWatcher(srv.remote, emu);
    const readyMs = performance.now() - tr;
    await until("restart idle", () => w!.part.controller!.queue.idle);
    console.log(
      `restart on the full NB: ready (caches synced + repair) in ${fmt(readyMs)} ms, idle in ` +
        `${fmt(performance.now() - tr)} ms, ${w.counter.txns} NB transactions (target 0); ` +
        `RSS ${fmt(Deno.memoryUsage().rss / 2 ** 20)} MiB`,
    );
  } finally {
    await w?.stop();
    await emu.close();
    await srv.stop();
  }
}

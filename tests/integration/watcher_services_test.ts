/**
 * The services part of the watcher on a real NB ovsdb-server with the API emulator:
 * services of each kind with endpoint churn, named ports, port and type changes,
 * externalIPs on every gateway router, a gateway router added later, Endpoints
 * fallback, session affinity, SCTP; and restarts (stale rows removed; nothing changed:
 * zero writes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { servicesPart } from "../../src/controllers/service_controller.ts";
import { MetricsRegistry } from "../../src/controllers/metrics.ts";
import { NbWriter } from "../../src/controllers/nb_writer.ts";
import { NO_EVENTS } from "../../src/controllers/events.ts";
import { runWatcher } from "../../src/controllers/watcher.ts";
import { makeConnection } from "../../src/k8s/connection_info.ts";
import { type Emulator, startEmulator } from "../../src/k8s/emulator/server.ts";
import { KubeHttp } from "../../src/k8s/http.ts";
import { findResource, type KubeObject } from "../../src/k8s/resources.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { NbTables } from "../../src/ovn/nb_models.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import { NB_SCHEMA, type OvsdbServer, startOvsdbServer } from "../helpers/ovsdb_server.ts";
import { pollUntil } from "../../src/daemons/wait.ts";

const PODS = findResource("pods")!;
const SERVICES = findResource("services")!;
const ENDPOINTS = findResource("endpoints")!;
const SLICES = findResource("endpointslices", "discovery.k8s.io")!;
const log = createLogger("test", { level: "error" });

function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000) {
  return pollUntil(what, fn, { timeoutMs: ms, intervalMs: 50 });
}

interface LbRow {
  _uuid: string;
  name: string;
  protocol: string[];
  vips: Record<string, string>;
  options: Record<string, string>;
  external_ids: Record<string, string>;
}

/** NB as a test reads it: selects through its own connection. */
class NbView {
  constructor(readonly db: OvsdbClient<NbTables>) {}

  async lbs(): Promise<LbRow[]> {
    const [r] = await this.db.transact([{ op: "select", table: "Load_Balancer", where: [] }]);
    return (r?.rows ?? []) as unknown as LbRow[];
  }

  async serviceLb(service: string, proto = "tcp"): Promise<LbRow | undefined> {
    return (await this.lbs()).find((l) => l.name === `Service_${service}_${proto}`);
  }

  async gatewayLb(router: string, key = "TCP_lb_gateway_router"): Promise<LbRow | undefined> {
    return (await this.lbs()).find((l) => l.external_ids[key] === router);
  }

  async rows(table: string, name: string): Promise<Record<string, unknown> | undefined> {
    const [r] = await this.db.transact([{ op: "select", table, where: [["name", "==", name]] }]);
    return r?.rows?.[0];
  }

  async groupUuid(): Promise<string> {
    const g = await this.rows("Load_Balancer_Group", "ovn-k8s-services");
    assert.ok(g, "the services load balancer group exists");
    return g["_uuid"] as string;
  }
}

/** Node switches and gateway routers as master-init/minion-init/gateway-init leave them. */
async function topology(db: OvsdbClient<NbTables>): Promise<void> {
  await db.transact([
    {
      op: "insert",
      table: "Logical_Switch",
      row: { name: "node1", other_config: { subnet: "10.244.1.0/24" } },
    },
    {
      op: "insert",
      table: "Logical_Switch",
      row: { name: "node2", other_config: { subnet: "10.244.2.0/24" } },
    },
    { op: "insert", table: "Logical_Switch", row: { name: "join" } },
    {
      op: "insert",
      table: "Logical_Router",
      row: {
        name: "GR_node1",
        options: { chassis: "ch-node1" },
        external_ids: { physical_ip: "172.16.0.11" },
      },
    },
  ]);
}

async function addGatewayRouter(db: OvsdbClient<NbTables>, name: string, ip: string) {
  await db.transact([{
    op: "insert",
    table: "Logical_Router",
    row: { name, options: { chassis: `ch-${name}` }, external_ids: { physical_ip: ip } },
  }]);
}

/** A running watcher with only the services part. */
class Watcher implements AsyncDisposable {
  readonly ac = new AbortController();
  readonly part = servicesPart({ batchSize: 200 });
  done!: Promise<void>;
  writer!: NbWriter;
  db!: OvsdbClient<NbTables>;
  http!: KubeHttp;
  ready = Promise.withResolvers<void>();

  static async start(srv: OvsdbServer, emu: Emulator): Promise<Watcher> {
    const w = new Watcher();
    w.db = await OvsdbClient.connect<NbTables>({
      remotes: srv.remotes("unix"),
      database: "OVN_Northbound",
    });
    const metrics = new MetricsRegistry();
    w.writer = new NbWriter(w.db, metrics);
    w.http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
    w.done = runWatcher({
      nb: w.db,
      writer: w.writer,
      http: w.http,
      events: NO_EVENTS,
      metrics,
      parts: [w.part],
      log,
      onReady: () => w.ready.resolve(),
      signal: w.ac.signal,
    });
    w.done.catch((err) => w.ready.reject(err));
    await w.ready.promise;
    return w;
  }

  /** Resolves when the queue is idle (every queued key reconciled). */
  async settled(): Promise<void> {
    await until(
      "the services queue to drain",
      () => Promise.resolve(this.part.controller!.queue.idle),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.ac.abort();
    await this.done.catch(() => {});
    this.db.close();
    this.http[Symbol.dispose]?.();
  }
}

function pod(name: string, ip: string, ready: boolean, labels = { app: "web" }): KubeObject {
  return {
    metadata: { name, namespace: "default", labels },
    spec: {
      nodeName: "node1",
      containers: [{ name: "c", ports: [{ name: "web", containerPort: 8080 }] }],
    },
    status: {
      phase: "Running",
      podIP: ip,
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

function setReady(emu: Emulator, name: string, ready: boolean): void {
  const p = emu.store.get(PODS, "default", name);
  emu.store.update(PODS, "default", name, {
    ...p,
    status: {
      ...(p.status as object),
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  }, "status");
}

function updateService(
  emu: Emulator,
  name: string,
  change: (spec: Record<string, unknown>) => void,
) {
  const s = structuredClone(emu.store.get(SERVICES, "default", name));
  change(s["spec"] as Record<string, unknown>);
  emu.store.update(SERVICES, "default", name, s);
}

async function setup() {
  const srv = await startOvsdbServer({ schema: NB_SCHEMA });
  const emu = await startEmulator({});
  const db = await OvsdbClient.connect<NbTables>({
    remotes: srv.remotes("unix"),
    database: "OVN_Northbound",
  });
  await topology(db);
  return {
    srv,
    emu,
    db,
    nb: new NbView(db),
    async [Symbol.asyncDispose]() {
      db.close();
      await emu.close();
      await srv[Symbol.asyncDispose]();
    },
  };
}

Deno.test("watcher services: ClusterIP/NodePort/UDP/SCTP services follow endpoint churn, spec changes and gateways", async () => {
  await using t = await setup();
  const { emu, nb, db } = t;
  await using w = await Watcher.start(t.srv, emu);
  const group = await nb.groupUuid();
  for (const sw of ["node1", "node2"]) {
    const row = await nb.rows("Logical_Switch", sw);
    assert.deepEqual(row?.["load_balancer_group"], [group], `group on node switch ${sw}`);
  }
  assert.deepEqual((await nb.rows("Logical_Switch", "join"))?.["load_balancer_group"], []);

  // A ClusterIP service with a named target port and two ready pods.
  emu.store.create(PODS, "default", pod("p1", "10.244.1.5", true));
  emu.store.create(PODS, "default", pod("p2", "10.244.2.6", true));
  const svc = emu.store.create(SERVICES, "default", {
    metadata: { name: "web" },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "web" }] },
  });
  const cip = (svc["spec"] as { clusterIP: string }).clusterIP;
  const vip = `${cip}:80`;
  const lb = await until("the web VIP", async () => {
    const l = await nb.serviceLb("default/web");
    return l?.vips[vip] === "10.244.1.5:8080,10.244.2.6:8080" ? l : undefined;
  });
  assert.deepEqual(lb.options, { reject: "true" });
  assert.equal(lb.external_ids["ovn-k8s-owner"], "watcher");
  assert.deepEqual((await nb.rows("Load_Balancer_Group", "ovn-k8s-services"))?.["load_balancer"], [
    lb._uuid,
  ]);

  // Readiness flips, a new pod, a deleted pod.
  setReady(emu, "p2", false);
  await until(
    "p2 out",
    async () => (await nb.serviceLb("default/web"))?.vips[vip] === "10.244.1.5:8080",
  );
  emu.store.create(PODS, "default", pod("p3", "10.244.1.7", true));
  setReady(emu, "p2", true);
  await until(
    "p2 and p3 in",
    async () =>
      (await nb.serviceLb("default/web"))?.vips[vip] ===
        "10.244.1.5:8080,10.244.1.7:8080,10.244.2.6:8080",
  );
  emu.store.delete(PODS, "default", "p1");
  await until(
    "p1 gone",
    async () =>
      (await nb.serviceLb("default/web"))?.vips[vip] === "10.244.1.7:8080,10.244.2.6:8080",
  );

  // No ready endpoint: the VIP stays, with no backend, and the LB rejects.
  setReady(emu, "p2", false);
  setReady(emu, "p3", false);
  await until("empty backends", async () => (await nb.serviceLb("default/web"))?.vips[vip] === "");
  assert.equal((await nb.serviceLb("default/web"))?.options["reject"], "true");
  setReady(emu, "p3", true);

  // Service port change: old VIP gone, new one there; same row.
  updateService(emu, "web", (s) => (s["ports"] as { port: number }[])[0]!.port = 8000);
  const moved = await until("port 8000", async () => {
    const l = await nb.serviceLb("default/web");
    return l && l.vips[`${cip}:8000`] === "10.244.1.7:8080" && !(vip in l.vips) ? l : undefined;
  });
  assert.equal(moved._uuid, lb._uuid, "the per-service LB is updated in place");

  // ClusterIP -> NodePort with two external IPs; a second gateway router appears later.
  updateService(emu, "web", (s) => {
    s["type"] = "NodePort";
    s["externalIPs"] = ["192.0.2.10", "192.0.2.11"];
    (s["ports"] as { nodePort?: number }[])[0]!.nodePort = 30080;
  });
  await until(
    "nodePort VIP on GR_node1",
    async () => (await nb.gatewayLb("GR_node1"))?.vips["172.16.0.11:30080"] === "10.244.1.7:8080",
  );
  const ext = await nb.serviceLb("default/web");
  assert.equal(ext?.vips["192.0.2.10:8000"], "10.244.1.7:8080");
  assert.equal(ext?.vips["192.0.2.11:8000"], "10.244.1.7:8080");
  await addGatewayRouter(db, "GR_node2", "172.16.0.12");
  const gw2 = await until("nodePort VIP on the new GR_node2", async () => {
    const l = await nb.gatewayLb("GR_node2");
    return l?.vips["172.16.0.12:30080"] === "10.244.1.7:8080" ? l : undefined;
  });
  for (const gr of ["GR_node1", "GR_node2"]) {
    const gl = await until(`${gr} has both external IPs`, async () => {
      const l = await nb.gatewayLb(gr);
      return l?.vips["192.0.2.10:8000"] === "10.244.1.7:8080" &&
          l.vips["192.0.2.11:8000"] === "10.244.1.7:8080"
        ? l
        : undefined;
    });
    const r = await nb.rows("Logical_Router", gr);
    assert.ok((r?.["load_balancer"] as string[]).includes(gl._uuid), `${gr} has its TCP LB`);
    assert.deepEqual(r?.["load_balancer_group"], [], `no cluster IPs on ${gr}`);
    assert.ok(await nb.gatewayLb(gr, "UDP_lb_gateway_router"), `${gr} has a UDP LB`);
  }
  assert.deepEqual(gw2.options, { reject: "true" });

  // Endpoint churn reaches every gateway router as single-key changes.
  setReady(emu, "p2", true);
  await until(
    "both GRs follow the endpoints",
    async () =>
      (await nb.gatewayLb("GR_node1"))?.vips["172.16.0.11:30080"] ===
        "10.244.1.7:8080,10.244.2.6:8080" &&
      (await nb.gatewayLb("GR_node2"))?.vips["172.16.0.12:30080"] ===
        "10.244.1.7:8080,10.244.2.6:8080",
  );

  // NodePort -> ClusterIP: nodePort VIPs and external IPs go.
  updateService(emu, "web", (s) => {
    s["type"] = "ClusterIP";
    delete s["externalIPs"];
    delete (s["ports"] as { nodePort?: number }[])[0]!.nodePort;
  });
  await until(
    "nodePort VIPs removed",
    async () =>
      Object.keys((await nb.gatewayLb("GR_node1"))?.vips ?? { x: 1 }).length === 0 &&
      Object.keys((await nb.gatewayLb("GR_node2"))?.vips ?? { x: 1 }).length === 0,
  );
  assert.deepEqual(Object.keys((await nb.serviceLb("default/web"))!.vips), [`${cip}:8000`]);

  // UDP and SCTP services, ClientIP affinity (also on the nodePort, per-router sibling LB).
  emu.store.create(PODS, "default", pod("dns1", "10.244.2.9", true, { app: "dns" }));
  const dns = emu.store.create(SERVICES, "default", {
    metadata: { name: "dns" },
    spec: {
      type: "NodePort",
      selector: { app: "dns" },
      sessionAffinity: "ClientIP",
      ports: [
        { name: "udp", port: 53, targetPort: 5353, protocol: "UDP", nodePort: 30053 },
        { name: "sctp", port: 5000, protocol: "SCTP" },
      ],
    },
  });
  const dip = (dns["spec"] as { clusterIP: string }).clusterIP;
  const udp = await until("UDP LB", async () => {
    const l = await nb.serviceLb("default/dns", "udp");
    return l?.vips[`${dip}:53`] === "10.244.2.9:5353" ? l : undefined;
  });
  assert.deepEqual(udp.protocol, ["udp"]);
  assert.deepEqual(udp.options, { reject: "true", affinity_timeout: "10800" });
  const sctp = await until("SCTP LB", async () => {
    const l = await nb.serviceLb("default/dns", "sctp");
    return l?.vips[`${dip}:5000`] === "10.244.2.9:5000" ? l : undefined;
  });
  assert.deepEqual(sctp.protocol, ["sctp"]);
  const affLb = await until(
    "affinity nodePort LB on GR_node2",
    async () =>
      (await nb.lbs()).find((l) =>
        l.external_ids["ovn-k8s-gateway-router"] === "GR_node2" &&
        l.vips["172.16.0.12:30053"] === "10.244.2.9:5353"
      ),
  );
  assert.deepEqual(affLb.options, { reject: "true", affinity_timeout: "10800" });
  assert.deepEqual(affLb.protocol, ["udp"]);

  // Endpoints as fallback: a service without selector and a hand-written Endpoints.
  const manual = emu.store.create(SERVICES, "default", {
    metadata: { name: "manual" },
    spec: { ports: [{ name: "db", port: 5432 }] },
  });
  emu.store.create(ENDPOINTS, "default", {
    metadata: { name: "manual" },
    subsets: [{ addresses: [{ ip: "10.244.1.50" }], ports: [{ name: "db", port: 15432 }] }],
  });
  const mip = (manual["spec"] as { clusterIP: string }).clusterIP;
  await until(
    "VIP from Endpoints",
    async () => (await nb.serviceLb("default/manual"))?.vips[`${mip}:5432`] === "10.244.1.50:15432",
  );

  // Delete: every LB of the service goes, and its nodePort VIPs.
  emu.store.delete(SERVICES, "default", "dns");
  await until(
    "dns LBs gone",
    async () =>
      !(await nb.lbs()).some((l) =>
        l.name.startsWith("Service_default/dns_") || "172.16.0.12:30053" in l.vips
      ),
  );
  // A node switch added later gets the group; a gateway router that goes takes the
  // per-router load balancers the watcher made for it.
  await db.transact([{
    op: "insert",
    table: "Logical_Switch",
    row: { name: "node3", other_config: { subnet: "10.244.3.0/24" } },
  }]);
  await until(
    "the group on the new node switch",
    async () =>
      ((await nb.rows("Logical_Switch", "node3"))?.["load_balancer_group"] as string[])
        .includes(group),
  );
  await db.transact([{
    op: "delete",
    table: "Logical_Router",
    where: [["name", "==", "GR_node2"]],
  }]);
  await until(
    "GR_node2's load balancers deleted",
    async () =>
      !(await nb.lbs()).some((l) =>
        l.external_ids["TCP_lb_gateway_router"] === "GR_node2" ||
        l.external_ids["ovn-k8s-gateway-router"] === "GR_node2"
      ),
  );
  await w.settled();
});

Deno.test("watcher services: restart removes what was deleted while down, and writes nothing when nothing changed", async () => {
  await using t = await setup();
  const { emu, nb, db } = t;
  emu.store.create(PODS, "default", pod("p1", "10.244.1.5", true));
  for (const name of ["keep", "gone"]) {
    emu.store.create(SERVICES, "default", {
      metadata: { name },
      spec: {
        type: "NodePort",
        selector: { app: "web" },
        ports: [{ port: 80, targetPort: 8080, nodePort: name === "keep" ? 30001 : 30002 }],
      },
    });
  }
  {
    await using w = await Watcher.start(t.srv, emu);
    await until(
      "both services programmed",
      async () =>
        (await nb.gatewayLb("GR_node1"))?.vips["172.16.0.11:30002"] === "10.244.1.5:8080" &&
        (await nb.serviceLb("default/keep")) !== undefined,
    );
    await w.settled();
  }
  // While the watcher is down: a service is deleted, a stray nodePort VIP and a stale
  // VIP in the original's cluster LB appear.
  emu.store.delete(SERVICES, "default", "gone");
  const gw = (await nb.gatewayLb("GR_node1"))!;
  await db.transact([
    {
      op: "mutate",
      table: "Load_Balancer",
      where: [["_uuid", "==", gw._uuid]],
      mutations: [["vips", "insert", { "172.16.0.11:31999": "10.9.9.9:1" }]],
    },
    {
      op: "insert",
      table: "Load_Balancer",
      row: {
        external_ids: { "k8s-cluster-lb-tcp": "yes" },
        vips: { "10.96.9.9:80": "10.9.9.9:80" },
      },
    },
  ]);
  {
    await using w = await Watcher.start(t.srv, emu);
    const lbs = await nb.lbs();
    assert.equal(lbs.find((l) => l.name === "Service_default/gone_tcp"), undefined);
    assert.deepEqual(
      Object.keys((await nb.gatewayLb("GR_node1"))!.vips),
      ["172.16.0.11:30001"],
      "repair leaves exactly the nodePort VIPs of existing services",
    );
    assert.deepEqual(
      lbs.find((l) => l.external_ids["k8s-cluster-lb-tcp"] === "yes")?.vips,
      {},
      "the original's cluster LB is emptied",
    );
    await w.settled();
  }
  {
    await using w = await Watcher.start(t.srv, emu);
    await w.settled();
    assert.equal(w.writer.transactions, 0, "a restart with nothing changed writes nothing");
    assert.ok(w.part.controller!.queue.stats.added >= 1, "the service was reconciled");
  }
});

/** ovn-northd between a private NB and SB, stopped by its pidfile. */
async function startNorthd(nbRemote: string, sbRemote: string) {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-northd-" });
  const pidfile = `${dir}/northd.pid`;
  const out = await new Deno.Command("ovn-northd", {
    args: [
      "--detach",
      "--no-chdir",
      "-vconsole:off",
      `--pidfile=${pidfile}`,
      `--unixctl=${dir}/northd.ctl`,
      `--log-file=${dir}/northd.log`,
      `--ovnnb-db=${nbRemote}`,
      `--ovnsb-db=${sbRemote}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`Cannot start ovn-northd: ${new TextDecoder().decode(out.stderr)}`);
  }
  return {
    async [Symbol.asyncDispose]() {
      const pid = Number((await Deno.readTextFile(pidfile).catch(() => "")).trim());
      if (pid > 0) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* gone */ }
        for (let i = 0; i < 100; i++) {
          if (!(await Deno.stat(`/proc/${pid}`).then(() => true, () => false))) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("watcher services with northd: no endpoints rejects, ClientIP affinity and SCTP become logical flows", async () => {
  await using t = await setup();
  await using sbSrv = await startOvsdbServer({ schema: "/usr/share/ovn/ovn-sb.ovsschema" });
  await using _northd = await startNorthd(t.srv.remotes("unix"), sbSrv.remotes("unix"));
  const sb = await OvsdbClient.connect({
    remotes: sbSrv.remotes("unix"),
    database: "OVN_Southbound",
  });
  try {
    const { emu } = t;
    emu.store.create(PODS, "default", pod("p1", "10.244.1.5", true));
    const mk = (name: string, spec: Record<string, unknown>) =>
      (emu.store.create(SERVICES, "default", { metadata: { name }, spec })["spec"] as {
        clusterIP: string;
      }).clusterIP;
    const empty = mk("empty", { selector: { app: "none" }, ports: [{ port: 80 }] });
    const aff = mk("aff", {
      selector: { app: "web" },
      sessionAffinity: "ClientIP",
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      ports: [{ port: 80, targetPort: 8080 }],
    });
    const sctp = mk("sctp", {
      selector: { app: "web" },
      ports: [{ port: 5000, targetPort: 8080, protocol: "SCTP" }],
    });
    await using _w = await Watcher.start(t.srv, emu);
    const flows = async (needle: string) => {
      const [r] = await sb.transact([{
        op: "select",
        table: "Logical_Flow",
        where: [],
        columns: ["match", "actions"],
      }]);
      return ((r?.rows ?? []) as { match: string; actions: string }[]).filter((f) =>
        f.match.includes(needle) || f.actions.includes(needle)
      );
    };
    const rejects = await until("a reject flow for the VIP without endpoints", async () => {
      const f = (await flows(`ip4.dst == ${empty} && tcp.dst == 80`)).filter((x) =>
        x.actions.includes("reject")
      );
      return f.length ? f : undefined;
    });
    assert.ok(rejects.length >= 1);
    await until(
      "affinity flows for the ClientIP service",
      async () =>
        (await flows(`commit_lb_aff(vip = "${aff}:80"`)).some((f) =>
          f.actions.includes("timeout = 60")
        ),
    );
    await until(
      "SCTP load balancing flows",
      async () =>
        (await flows(`ip4.dst == ${sctp} && sctp.dst == 5000`)).some((f) =>
          f.actions.includes("10.244.1.5:8080")
        ),
    );
  } finally {
    sb.close();
  }
});

Deno.test("watcher services: NB killed and restarted mid-burst; every service ends with exactly one LB", async () => {
  await using t = await setup();
  const { emu, nb } = t;
  await using w = await Watcher.start(t.srv, emu);
  const slice = (name: string, i: number) => ({
    metadata: {
      name: `${name}-ipv4`,
      namespace: "default",
      labels: { "kubernetes.io/service-name": name },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [`10.244.${1 + (i % 3)}.${10 + (i % 200)}`] }],
    ports: [{ name: "", port: 8080, protocol: "TCP" }],
  });
  const names: string[] = [];
  for (let i = 0; i < 300; i++) {
    const name = `s${i}`;
    names.push(name);
    emu.store.create(SERVICES, "default", {
      metadata: { name },
      spec: { ports: [{ port: 80, targetPort: 8080 }] },
    });
    emu.store.create(SLICES, "default", slice(name, i));
    if (i === 100) {
      await until("some services programmed", async () => (await nb.lbs()).length > 20);
      await t.srv.kill(0);
      await new Promise((r) => setTimeout(r, 500)); // services keep coming while NB is down
    }
    if (i === 200) await t.srv.restart(0);
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
  }
  const lbs = await until("every service programmed", async () => {
    const all = (await nb.lbs()).filter((l) => l.name.startsWith("Service_default/s"));
    return names.every((n) =>
        all.some((l) => l.name === `Service_default/${n}_tcp` && Object.values(l.vips)[0] !== "")
      )
      ? all
      : undefined;
  }, 60_000);
  assert.equal(lbs.length, names.length, "exactly one LB per service");
  const members = (await nb.rows("Load_Balancer_Group", "ovn-k8s-services"))?.[
    "load_balancer"
  ] as string[];
  assert.deepEqual(new Set(members), new Set(lbs.map((l) => l._uuid)), "every LB in the group");
  for (const n of names.slice(0, 50)) emu.store.delete(SERVICES, "default", n);
  await until(
    "50 services' LBs gone",
    async () =>
      (await nb.lbs()).filter((l) => l.name.startsWith("Service_default/s")).length === 250,
  );
  await w.settled();
});

/**
 * Services with packets, on the lab (hosts in namespaces, userspace datapath, geneve,
 * central NB/SB/northd, ovn-controller per node): the watcher's services part programs a
 * ClusterIP service with one backend on each node; clients on both nodes reach both
 * backends through the VIP (the services group is on every node switch); a backend that
 * turns not ready stops receiving; a service without endpoints refuses at once (TCP
 * reset from `options:reject=true`) instead of timing out. Then `ovn-k8s gateway-init`
 * makes a gateway router on node1 with an external host: a NodePort service answers on
 * `<node IP>:<nodePort>` and on its external IP, through the per-router load balancer,
 * from the backend on the gateway's own node and from the one on the other node.
 *
 * Needs root, OVS and OVN.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeConnection } from "../../src/k8s/connection_info.ts";
import { startEmulator } from "../../src/k8s/emulator/server.ts";
import { KubeHttp } from "../../src/k8s/http.ts";
import { findResource } from "../../src/k8s/resources.ts";
import { silentLogger } from "../../src/log/mod.ts";
import type { NbTables } from "../../src/ovn/nb_models.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import { startLab } from "../../src/sandbox/mod.ts";
import {
  addExternalNetwork,
  addPod,
  gatewayInit,
  get,
  inNs,
  serveHttp,
  stopAndRemove,
  until,
  untilServedBy,
} from "./gateway_env.ts";
import { addNodes, runServicesWatcher } from "./watcher_env.ts";

const SERVICES = findResource("services")!;

/**
 * Waits until every hypervisor installed the NB contents as of now, as
 * `ovn-nbctl --wait=hv sync` does: bumps `NB_Global.nb_cfg`, then waits for `hv_cfg`
 * (northd writes it once every chassis reported the flows of that version installed).
 */
async function untilHypervisorsCaughtUp(nb: OvsdbClient<NbTables>): Promise<void> {
  const read = async () =>
    (await nb.transact([{ op: "select", table: "NB_Global", where: [] }]))[0]?.rows?.[0] as
      | { nb_cfg: number; hv_cfg: number }
      | undefined;
  await until("the NB_Global row (made by northd)", async () => (await read()) !== undefined);
  const [, sel] = await nb.transact([
    { op: "mutate", table: "NB_Global", where: [], mutations: [["nb_cfg", "+=", 1]] },
    { op: "select", table: "NB_Global", where: [], columns: ["nb_cfg"] },
  ]);
  const want = (sel?.rows?.[0] as { nb_cfg: number } | undefined)?.nb_cfg;
  assert.ok(want !== undefined, "NB_Global.nb_cfg after the bump");
  await until(`hv_cfg to reach nb_cfg ${want}`, async () => (await read())!.hv_cfg >= want, 30_000);
}
const SLICES = findResource("endpointslices", "discovery.k8s.io")!;

Deno.test("watcher services with packets: VIP from both nodes, readiness, reject without endpoints", async () => {
  const prefix = `svp${Math.random().toString(36).slice(2, 6)}`;
  await using lab = await startLab({ nodes: 2, prefix, log: silentLogger });
  const emu = await startEmulator({});
  const servers: Deno.ChildProcess[] = [];
  const cleanup: string[] = [];
  const nb = await OvsdbClient.connect<NbTables>({
    remotes: `unix:${lab.central.nbSock}`,
    database: "OVN_Northbound",
  });
  const ac = new AbortController();
  let watcher: Promise<void> | undefined;
  const http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  try {
    await addNodes(nb, [
      { name: "node1", subnet: "10.244.1.0/24" },
      { name: "node2", subnet: "10.244.2.0/24" },
    ]);
    const [n1, n2] = [lab.node("node1"), lab.node("node2")];
    const srv1 = await addPod(nb, prefix, n1, "srv1", "10.244.1.10", cleanup);
    const srv2 = await addPod(nb, prefix, n2, "srv2", "10.244.2.10", cleanup);
    const cli1 = await addPod(nb, prefix, n1, "cli1", "10.244.1.20", cleanup);
    const cli2 = await addPod(nb, prefix, n2, "cli2", "10.244.2.20", cleanup);
    serveHttp(srv1, 8080, "srv1", servers);
    serveHttp(srv2, 8080, "srv2", servers);
    await lab.prePing();

    const mkService = (name: string) =>
      (emu.store.create(SERVICES, "default", {
        metadata: { name },
        spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
      })["spec"] as { clusterIP: string }).clusterIP;
    const slice = (name: string, eps: [string, boolean][]) => ({
      metadata: {
        name: `${name}-ipv4`,
        namespace: "default",
        labels: { "kubernetes.io/service-name": name },
      },
      addressType: "IPv4",
      endpoints: eps.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    });
    const web = mkService("web");
    emu.store.create(SLICES, "default", slice("web", [[srv1.ip, true], [srv2.ip, true]]));
    const empty = mkService("empty");
    emu.store.create(SLICES, "default", slice("empty", []));

    const ready = Promise.withResolvers<void>();
    watcher = runServicesWatcher(nb, http, ac.signal, () => ready.resolve());
    watcher.catch((e) => ready.reject(e));
    await ready.promise;

    for (const cli of [cli1, cli2]) await untilServedBy(cli, web, ["srv1", "srv2"]);

    // srv2 not ready: only srv1 answers, from both nodes.
    const s = emu.store.get(SLICES, "default", "web-ipv4");
    emu.store.update(SLICES, "default", "web-ipv4", {
      ...slice("web", [[srv1.ip, true], [srv2.ip, false]]),
      metadata: s.metadata,
    });
    await until("srv2 leaves the VIP", async () => {
      const lb = (await nb.transact([{
        op: "select",
        table: "Load_Balancer",
        where: [["name", "==", "Service_default/web_tcp"]],
      }]))[0]?.rows?.[0] as { vips: Record<string, string> } | undefined;
      return lb?.vips[`${web}:80`] === `${srv1.ip}:8080`;
    }, 30_000);
    await until("the empty service's VIP, without backends", async () => {
      const lb = (await nb.transact([{
        op: "select",
        table: "Load_Balancer",
        where: [["name", "==", "Service_default/empty_tcp"]],
      }]))[0]?.rows?.[0] as { vips: Record<string, string> } | undefined;
      return lb?.vips[`${empty}:80`] === "";
    }, 30_000);
    // NB changed; the datapath follows through northd, SB and both ovn-controllers.
    // Until they installed it, a new connection may still be balanced to srv2.
    await untilHypervisorsCaughtUp(nb);
    for (let i = 0; i < 6; i++) {
      for (const cli of [cli1, cli2]) {
        const r = await until(`${cli.name} -> ${web}`, async () => {
          const x = await get(cli, web);
          return x.code === 0 ? x : undefined;
        }, 30_000);
        assert.equal(r.body, "srv1", `${cli.name} reached a not-ready backend`);
      }
    }

    // No endpoints: refused at once (curl 7 = could not connect), not a timeout (28).
    // (Its VIP was in NB and on both hypervisors as of the sync above.)
    // curl's own bound is 10 s here (get() allows 3): the reset comes from ovn-controller
    // (packet-in, pinctrl), which a loaded machine may delay, and 28 must mean "no answer".
    for (const cli of [cli1, cli2]) {
      const r = await inNs(
        cli.netns,
        ["curl", "-s", "--max-time", "10", `http://${empty}/`],
        false,
      );
      assert.equal(r.code, 7, `${cli.name} -> ${empty} without endpoints: curl exit ${r.code}`);
    }

    // A gateway router on node1, made by gateway-init (its own process) with a dedicated
    // NIC on an external network; a NodePort service with an external IP.
    const ext = await addExternalNetwork(prefix, [n1], cleanup);
    const gw = await gatewayInit(n1, [
      "--node-name",
      "node1",
      "--cluster-ip-subnet",
      "10.244.0.0/16",
      "--physical-interface",
      "eth2",
      "--physical-ip",
      "198.51.100.11/24",
      "--default-gw",
      "198.51.100.1",
    ]);
    assert.equal(gw.code, 0, gw.stderr);
    emu.store.create(SERVICES, "default", {
      metadata: { name: "np" },
      spec: {
        type: "NodePort",
        externalIPs: ["198.51.100.100"],
        ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: 30080 }],
      },
    });
    emu.store.create(SLICES, "default", slice("np", [[srv1.ip, true], [srv2.ip, true]]));
    // The external host is served through the node IP's nodePort and through the external
    // IP, by the backend on the gateway's own node and by the one on the other node.
    for (const target of ["198.51.100.11:30080", "198.51.100.100"]) {
      await untilServedBy(ext, target, ["srv1", "srv2"]);
    }
  } finally {
    ac.abort();
    await watcher?.catch(() => {});
    await stopAndRemove(servers, cleanup);
    nb.close();
    http[Symbol.dispose]?.();
    await emu.close();
  }
});

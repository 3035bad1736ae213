/**
 * Shared-bridge gateways on the lab (one node, userspace datapath) with an external
 * network:
 *
 * 1. `nics-to-bridge eth2` (its own process inside the node) makes `breth2`, moves the
 *    static address and route, leaves and REPORTS the dynamic one; the host still
 *    reaches the external host through the bridge; a second run changes nothing.
 * 2. `gateway-init --bridge-interface breth2`: localnet attachment (bridge mapping, MAC
 *    pinned), ovn-controller patches br-int to breth2; a re-run writes nothing.
 * 3. `gateway-helper` (in-process, API emulator): the static demux flows are on breth2;
 *    a NodePort service adds its flow; with packets through the shared NIC the external
 *    host reaches a pod on the node IP's nodePort, the pod reaches the external host as the
 *    node IP, the host itself still reaches it; a changed nodePort replaces the flow, a
 *    deleted service removes it; after an API server restart, a service re-created with
 *    another nodePort while the helper was disconnected gets its new flow (the old one goes).
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
import { dumpFlows } from "../../src/ovs/flows.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import { runGatewayHelper } from "../../src/roles/gateway_helper.ts";
import { startLab } from "../../src/sandbox/mod.ts";
import { freePort } from "../helpers/ovsdb_server.ts";
import { addNodes, runServicesWatcher } from "./watcher_env.ts";
import {
  addExternalNetwork,
  addPod,
  gatewayInit,
  get,
  nbSnapshot,
  ovnK8sIn,
  runner,
  serveHttp,
  stopAndRemove,
  until,
} from "./gateway_env.ts";

const SERVICES = findResource("services")!;
const SLICES = findResource("endpointslices", "discovery.k8s.io")!;

Deno.test("nics-to-bridge, gateway-init on a shared bridge, gateway-helper flows follow NodePort services", async () => {
  const prefix = `gwb${Math.random().toString(36).slice(2, 6)}`;
  await using lab = await startLab({ nodes: 1, prefix, log: silentLogger });
  const cleanup: string[] = [];
  const children: Deno.ChildProcess[] = [];
  const nb = await OvsdbClient.connect<NbTables>({
    remotes: `unix:${lab.central.nbSock}`,
    database: "OVN_Northbound",
  });
  try {
    await addNodes(nb, [{ name: "node1", subnet: "10.244.1.0/24" }]);
    const n1 = lab.node("node1");
    const ext = await addExternalNetwork(prefix, [n1], cleanup);
    await n1.exec(["ip", "addr", "add", "198.51.100.11/24", "dev", "eth2"]);
    await n1.exec([
      "ip",
      "addr",
      "add",
      "198.51.100.50/24",
      "dev",
      "eth2",
      "valid_lft",
      "3600",
      "preferred_lft",
      "3600",
    ]);
    await n1.exec(["ip", "route", "add", "203.0.113.0/24", "via", ext.ip, "dev", "eth2"]);
    const mac = JSON.parse((await n1.exec(["ip", "-j", "link", "show", "eth2"])).stdout)[0].address;

    // 1. nics-to-bridge.
    const ntb = await ovnK8sIn(n1, ["nics-to-bridge", "--ovs-db", `unix:${n1.ovsDbSock}`, "eth2"]);
    assert.equal(ntb.code, 0, ntb.stderr);
    assert.match(
      ntb.stdout,
      /eth2 -> breth2: moved addresses=198\.51\.100\.11\/24 routes=203\.0\.113\.0\/24/,
    );
    assert.match(
      ntb.stdout,
      /dynamic address 198\.51\.100\.50\/24 NOT moved; run your DHCP client on breth2/,
    );
    const addrs = (dev: string) =>
      n1.exec(["ip", "-4", "-o", "addr", "show", "dev", dev]).then((r) => r.stdout);
    assert.match(await addrs("breth2"), /198\.51\.100\.11\/24/);
    assert.doesNotMatch(await addrs("eth2"), /198\.51\.100\.11\//);
    assert.match(await addrs("eth2"), /198\.51\.100\.50\/24/);
    assert.match((await n1.exec(["ip", "route", "show", "203.0.113.0/24"])).stdout, /dev breth2/);
    // The bridge carries the NIC's MAC.
    const brMac =
      JSON.parse((await n1.exec(["ip", "-j", "link", "show", "breth2"])).stdout)[0].address;
    assert.equal(brMac, mac);
    await n1.exec(["ip", "addr", "del", "198.51.100.50/24", "dev", "eth2"]); // one source address
    await n1.exec(["ethtool", "-K", "breth2", "tx", "off"]);
    const hostPing = () =>
      until(
        "the node reaches the external host through breth2",
        async () => (await n1.exec(["ping", "-c1", "-W1", ext.ip], { check: false })).code === 0,
      );
    await hostPing();
    const ovsShow = async () => (await n1.exec(["ovs-vsctl", "--timeout=10", "show"])).stdout;
    const shown = await ovsShow();
    const again = await ovnK8sIn(n1, [
      "nics-to-bridge",
      "--ovs-db",
      `unix:${n1.ovsDbSock}`,
      "eth2",
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /eth2 -> breth2: already done, nothing changed/);
    assert.equal(await ovsShow(), shown);
    const missing = await ovnK8sIn(n1, [
      "nics-to-bridge",
      "--ovs-db",
      `unix:${n1.ovsDbSock}`,
      "eth9",
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot move eth9: no such network interface/);

    // 2. gateway-init on the shared bridge.
    const g = [
      "--node-name",
      "node1",
      "--bridge-interface",
      "breth2",
      "--physical-ip",
      "198.51.100.11/24",
      "--default-gw",
      ext.ip,
    ];
    const r = await gatewayInit(n1, g);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /router=GR_node1 join-ip=100\.64\.1\.2 nb-writes=1 ovs-writes=1/);
    const ids = (await n1.exec([
      "ovs-vsctl",
      "--timeout=10",
      "get",
      "open",
      ".",
      "external_ids:ovn-bridge-mappings",
    ])).stdout;
    assert.match(ids, /physnet_breth2:breth2/);
    const hw = (await n1.exec([
      "ovs-vsctl",
      "--timeout=10",
      "get",
      "bridge",
      "breth2",
      "other_config:hwaddr",
    ])).stdout;
    assert.equal(hw.trim().replaceAll('"', ""), mac);
    const r2 = await gatewayInit(n1, g);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /nb-writes=0 ovs-writes=0 host-writes=0/);
    const ls = (await nb.transact([{
      op: "select",
      table: "Logical_Switch_Port",
      where: [["name", "==", "breth2_node1"]],
      columns: ["type", "options"],
    }]))[0]!.rows![0]!;
    assert.equal(ls["type"], "localnet");
    assert.deepEqual(ls["options"], { network_name: "physnet_breth2" });
    // `run --once` with the gateway role read from external_ids reaches the same state.
    await n1.exec([
      "ovs-vsctl",
      "--timeout=10",
      "set",
      "open",
      ".",
      "external_ids:ovn-k8s-roles=gateway",
      "external_ids:ovn-k8s-node-name=node1",
      "external_ids:ovn-k8s-gateway-interface=breth2",
      "external_ids:ovn-k8s-gateway-ip=198.51.100.11/24",
      `external_ids:ovn-k8s-gateway-nexthop=${ext.ip}`,
    ]);
    const before = await nbSnapshot(nb);
    const tmp = await Deno.makeTempDir({ prefix: "ovnk8s-gwb-" });
    const run = await ovnK8sIn(n1, [
      "run",
      "--once",
      "--ovs-db",
      `unix:${n1.ovsDbSock}`,
      "--cni-bin-dir",
      `${tmp}/bin`,
      "--cni-conf-dir",
      `${tmp}/net.d`,
    ]).finally(() => Deno.remove(tmp, { recursive: true }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /run: roles gateway initialised/);
    assert.equal(await nbSnapshot(nb), before, "run --once rewrote the gateway");
    await until(
      "ovn-controller's patch port on breth2",
      async () =>
        (await n1.exec(["ovs-vsctl", "--timeout=10", "list-ports", "breth2"])).stdout.includes(
          "-to-br-int",
        ),
    );

    // 3. gateway-helper.
    // Restarted below on the same port: one outside the ephemeral range.
    let emu = await startEmulator({ port: freePort() });
    const ac = new AbortController();
    const pod = await addPod(nb, prefix, n1, "p1", "10.244.1.10", cleanup);
    serveHttp(pod, 8080, "p1", children);
    serveHttp(ext, 80, undefined, children);
    const http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
    const watcher = runServicesWatcher(nb, http, ac.signal);
    const target = `unix:${n1.ovsRunDir}/breth2.mgmt`;
    const flows = async () => (await dumpFlows(runner, target)).join("\n");
    const helper = runGatewayHelper([
      "--physical-bridge",
      "breth2",
      "--physical-interface",
      "eth2",
      "--ovs-db",
      `unix:${n1.ovsDbSock}`,
      "--ovs-rundir",
      n1.ovsRunDir,
      "--k8s-api-server",
      emu.url,
    ], {
      signal: ac.signal,
      env: () => undefined,
      log: silentLogger,
      stdout: () => {},
    });
    try {
      await until("the static demux flows", async () => {
        const f = await flows();
        return f.includes("ct(commit,zone=64000)") && f.includes("ct_state=+est+trk") &&
          !f.includes("tp_dst");
      });
      await hostPing();
      emu.store.create(SERVICES, "default", {
        metadata: { name: "np" },
        spec: { type: "NodePort", ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] },
      });
      await until("the nodePort 30080 flow", async () => /tcp.*tp_dst=30080/.test(await flows()));
      // Packets through the shared NIC: the external host reaches a pod through the nodePort
      // on the node IP, a pod reaches the external host as the node IP (SNAT), and the host
      // itself still reaches the external host afterwards.
      emu.store.create(SLICES, "default", {
        metadata: {
          name: "np-ipv4",
          namespace: "default",
          labels: { "kubernetes.io/service-name": "np" },
        },
        addressType: "IPv4",
        endpoints: [{ addresses: [pod.ip], conditions: { ready: true } }],
        ports: [{ port: 8080, protocol: "TCP" }],
      });
      await until("the external host -> 198.51.100.11:30080 -> the pod", async () => {
        const r = await get(ext, "198.51.100.11:30080");
        return r.code === 0 && r.body === "p1";
      });
      await until("the pod -> the external host as the node IP", async () => {
        const r = await get(pod, ext.ip);
        return r.code === 0 && r.body === "198.51.100.11";
      });
      await hostPing();
      const svc = emu.store.get(SERVICES, "default", "np");
      emu.store.update(SERVICES, "default", "np", {
        ...svc,
        spec: {
          ...(svc["spec"] as object),
          ports: [{ port: 80, targetPort: 8080, nodePort: 30081, protocol: "TCP" }, {
            name: "dns",
            port: 53,
            protocol: "UDP",
            nodePort: 30053,
          }],
        },
      });
      await until("the changed nodePorts", async () => {
        const f = await flows();
        return /tcp.*tp_dst=30081/.test(f) && /udp.*tp_dst=30053/.test(f) &&
          !f.includes("tp_dst=30080");
      });
      emu.store.delete(SERVICES, "default", "np");
      await until(
        "no nodePort flow after the delete",
        async () => !(await flows()).includes("tp_dst"),
      );
      // An API server restart: a service created before it and re-created with another
      // nodePort while the helper was disconnected is applied after the re-list.
      emu.store.create(SERVICES, "default", {
        metadata: { name: "np2" },
        spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30090 }] },
      });
      await until("the nodePort 30090 flow", async () => (await flows()).includes("tp_dst=30090"));
      const port = emu.port;
      await emu.close();
      // The closed listener may hold the port a moment longer on a busy machine.
      emu = await until(
        "the API emulator listening again on its port",
        () => startEmulator({ port }),
      );
      emu.store.create(SERVICES, "default", {
        metadata: { name: "np2" },
        spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30091 }] },
      });
      await until("the re-created service's flow after the reconnect", async () => {
        const f = await flows();
        return f.includes("tp_dst=30091") && !f.includes("tp_dst=30090");
      }, 60_000);
      await hostPing();
    } finally {
      ac.abort();
      await helper.catch(() => 0);
      await watcher.catch(() => {});
      http[Symbol.dispose]?.();
      await emu.close();
    }
  } finally {
    await stopAndRemove(children, cleanup);
    nb.close();
  }
});

/**
 * Gateways with packets, on the lab (hosts in namespaces, userspace datapath, geneve):
 * three nodes and an external network (a Linux bridge in its own namespace, with an
 * external host at 198.51.100.1 that answers every HTTP request with the client's address).
 * `ovn-k8s gateway-init` runs as its own process inside node1 and node2 with a dedicated
 * NIC each:
 *
 * 1. bad input exits 2, names the input and writes nothing to NB;
 * 2. pods on every node reach the external host through GR_node1's SNAT (the server sees
 *    198.51.100.11); node1's NIC lost the address it had; a re-run writes nothing;
 * 3. a second gateway on node2 with `--rampout-ip-subnets` = node3's subnet: node1's pods
 *    leave as .11, node2's and node3's as .12; a re-run without rampout sends node3's pods
 *    back through the cluster default route (.11);
 * 4. pods still reach each other directly (east-west is not captured by the gateways'
 *    routes); a NodePort service (watcher services part, in-process) answers the external
 *    host on both gateways' addresses from backends on node1 AND node2.
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
  nbSnapshot,
  type NsHost,
  serveHttp,
  stopAndRemove,
  until,
  untilServedBy,
} from "./gateway_env.ts";
import { addNodes, runServicesWatcher } from "./watcher_env.ts";

Deno.test("gateway-init with packets: SNAT egress, two gateways with rampout, re-runs, bad input", async () => {
  const prefix = `gwp${Math.random().toString(36).slice(2, 6)}`;
  await using lab = await startLab({ nodes: 3, prefix, log: silentLogger });
  const cleanup: string[] = [];
  const children: Deno.ChildProcess[] = [];
  const nb = await OvsdbClient.connect<NbTables>({
    remotes: `unix:${lab.central.nbSock}`,
    database: "OVN_Northbound",
  });
  try {
    await addNodes(nb, [
      { name: "node1", subnet: "10.244.1.0/24" },
      { name: "node2", subnet: "10.244.2.0/24" },
      { name: "node3", subnet: "10.244.3.0/24" },
    ]);
    const [n1, n2, n3] = [lab.node("node1"), lab.node("node2"), lab.node("node3")];
    const ext = await addExternalNetwork(prefix, [n1, n2], cleanup);
    serveHttp(ext, 80, undefined, children);
    await n1.exec(["ip", "addr", "add", "198.51.100.11/24", "dev", "eth2"]);
    const p1 = await addPod(nb, prefix, n1, "p1", "10.244.1.10", cleanup);
    const p2 = await addPod(nb, prefix, n2, "p2", "10.244.2.10", cleanup);
    const p3 = await addPod(nb, prefix, n3, "p3", "10.244.3.10", cleanup);
    await lab.prePing();

    // 1. Bad input: exit 2, a message naming the input, nothing written.
    const before = await nbSnapshot(nb);
    const base = ["--node-name", "node1", "--cluster-ip-subnet", "10.244.0.0/16"];
    const bad: Array<[string[], RegExp]> = [
      [[...base, "--physical-ip", "198.51.100.11/24"], /neither --physical-interface/],
      [
        [
          ...base,
          "--physical-interface",
          "eth2",
          "--bridge-interface",
          "breth2",
          "--physical-ip",
          "198.51.100.11/24",
        ],
        /both --physical-interface/,
      ],
      [
        [...base, "--physical-interface", "eth2", "--physical-ip", "198.51.100.11"],
        /--physical-ip "198\.51\.100\.11"/,
      ],
      [
        [
          ...base,
          "--physical-interface",
          "eth2",
          "--physical-ip",
          "198.51.100.11/24",
          "--default-gw",
          "10.9.9.9",
        ],
        /--default-gw 10\.9\.9\.9/,
      ],
      [
        [
          ...base,
          "--physical-interface",
          "eth2",
          "--physical-ip",
          "198.51.100.11/24",
          "--rampout-ip-subnets",
          "10.244.3.0/33",
        ],
        /--rampout-ip-subnets "10\.244\.3\.0\/33"/,
      ],
      [
        [...base, "--physical-interface", "nosuchnic", "--physical-ip", "198.51.100.11/24"],
        /nosuchnic: no such interface/,
      ],
      [
        [
          "--node-name",
          "node1",
          "--cluster-ip-subnet",
          "10.245.0.0/16",
          "--physical-interface",
          "eth2",
          "--physical-ip",
          "198.51.100.11/24",
        ],
        /--cluster-ip-subnet 10\.245\.0\.0\/16: the cluster was initialised with 10\.244\.0\.0\/16/,
      ],
    ];
    for (const [args, message] of bad) {
      const r = await gatewayInit(n1, args);
      assert.equal(r.code, 2, `gateway-init ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(await nbSnapshot(nb), before, "bad input wrote to NB");
    assert.match(
      (await n1.exec(["ip", "-4", "addr", "show", "dev", "eth2"])).stdout,
      /198\.51\.100\.11/,
    );

    // 2. The first gateway: every node's pods leave through GR_node1's SNAT.
    const g1 = [
      ...base,
      "--physical-interface",
      "eth2",
      "--physical-ip",
      "198.51.100.11/24",
      "--default-gw",
      "198.51.100.1",
    ];
    const r1 = await gatewayInit(n1, g1);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /router=GR_node1 join-ip=100\.64\.1\.2 nb-writes=1 ovs-writes=1/);
    assert.doesNotMatch(
      (await n1.exec(["ip", "-4", "addr", "show", "dev", "eth2"])).stdout,
      /198\.51\.100\.11/,
    );
    const egress = async (p: NsHost, want: string) => {
      await until(`${p.name} -> external host as ${want}`, async () => {
        const r = await get(p, ext.ip);
        return r.code === 0 && r.body === want;
      });
    };
    await egress(p1, "198.51.100.11");
    await egress(p2, "198.51.100.11");
    await egress(p3, "198.51.100.11");
    const settled = await nbSnapshot(nb);
    const again = await gatewayInit(n1, g1);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nb-writes=0 ovs-writes=0 host-writes=0/);
    assert.equal(await nbSnapshot(nb), settled, "an unchanged re-run wrote to NB");

    // 3. A second gateway with rampout for node3's subnet.
    const g2 = [
      "--node-name",
      "node2",
      "--physical-interface",
      "eth2",
      "--physical-ip",
      "198.51.100.12/24",
      "--default-gw",
      "198.51.100.1",
    ];
    const r2 = await gatewayInit(n2, [...g2, "--rampout-ip-subnets", "10.244.3.0/24"]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /router=GR_node2 join-ip=100\.64\.1\.3 nb-writes=1/);
    await egress(p2, "198.51.100.12");
    await egress(p3, "198.51.100.12");
    await egress(p1, "198.51.100.11");
    const snats = await nb.transact([{
      op: "select",
      table: "NAT",
      where: [],
      columns: ["external_ip"],
    }]);
    assert.deepEqual(
      snats[0]!.rows!.map((r) => r["external_ip"]).sort(),
      ["198.51.100.11", "198.51.100.12"],
      "one SNAT row per gateway",
    );
    // Rampout dropped on a re-run: node3's pods go back to the cluster default (GR_node1).
    const r3 = await gatewayInit(n2, g2);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stdout, /nb-writes=1/);
    await egress(p3, "198.51.100.11");
    await egress(p2, "198.51.100.12");

    // 4. NodePort from the external host, through each gateway, to backends on node1 and
    // node2 (the watcher fills the per-router load balancers gateway-init made).
    serveHttp(p1, 8080, "p1", children);
    serveHttp(p2, 8080, "p2", children);
    const emu = await startEmulator({});
    const http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
    const ac = new AbortController();
    const watcher = runServicesWatcher(nb, http, ac.signal);
    try {
      emu.store.create(findResource("services")!, "default", {
        metadata: { name: "np" },
        spec: {
          type: "NodePort",
          ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: 30080 }],
        },
      });
      emu.store.create(findResource("endpointslices", "discovery.k8s.io")!, "default", {
        metadata: {
          name: "np-ipv4",
          namespace: "default",
          labels: { "kubernetes.io/service-name": "np" },
        },
        addressType: "IPv4",
        endpoints: [p1, p2].map((p) => ({ addresses: [p.ip], conditions: { ready: true } })),
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      });
      // East-west traffic is not captured by the gateways' src-ip routes (same prefix
      // length as the node subnets: the connected routes win).
      for (const [from, to] of [[p1, p2], [p2, p1], [p3, p1]] as const) {
        await until(`${from.name} -> ${to.name} directly`, async () => {
          const r = await get(from, `${to.ip}:8080`);
          return r.code === 0 && r.body === to.name;
        });
      }
      for (const target of ["198.51.100.11:30080", "198.51.100.12:30080"]) {
        await untilServedBy(ext, target, ["p1", "p2"]);
      }
    } finally {
      ac.abort();
      await watcher.catch(() => {});
      http[Symbol.dispose]?.();
      await emu.close();
    }
  } finally {
    await stopAndRemove(children, cleanup);
    nb.close();
  }
});

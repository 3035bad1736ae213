import assert from "node:assert/strict";
import { ValidationError } from "../cli/mod.ts";
import type { Runner } from "../exec/mod.ts";
import { silentLogger } from "../log/mod.ts";
import type { Operation, OperationResult } from "../ovsdb/mod.ts";
import type { DbConnector } from "./_local_ovs.ts";
import { buildGatewayOptions, gatewayFromExternalIds, initGateway } from "./gateway_init.ts";

const env = (k: string) => (k === "OVS_RUNDIR" ? "/tmp/x" : undefined);
const BASE = { nodeName: "Node1", physicalIp: "198.51.100.11/24" };

Deno.test("buildGatewayOptions() validates every input with a message naming it", () => {
  const o = buildGatewayOptions({
    ...BASE,
    physicalInterface: "eth2",
    defaultGw: "198.51.100.1",
    rampout: "10.244.3.0/24, 10.244.4.0/24",
  }, env);
  assert.equal(o.node, "node1");
  assert.equal(o.mode, "nic");
  assert.equal(o.physicalIp, "198.51.100.11");
  assert.equal(o.physicalPrefix, 24);
  assert.equal(o.ovsDb, "unix:/tmp/x/db.sock");
  assert.deepEqual(o.rampout.map(String), ["10.244.3.0/24", "10.244.4.0/24"]);
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ ...BASE }, /neither --physical-interface and --bridge-interface/],
    [{ ...BASE, physicalInterface: "a", bridgeInterface: "b" }, /both --physical-interface/],
    [{ ...BASE, physicalInterface: "eth2", physicalIp: "198.51.100.11" }, /--physical-ip/],
    [{ ...BASE, physicalInterface: "eth2", physicalIp: "198.51.100.0/24" }, /not a host address/],
    [{ ...BASE, physicalInterface: "eth2", defaultGw: "10.0.0.1" }, /--default-gw 10\.0\.0\.1/],
    [{ ...BASE, physicalInterface: "eth2", defaultGw: "x" }, /--default-gw "x"/],
    [
      { ...BASE, physicalInterface: "eth2", rampout: "10.0.0.0/8,bad" },
      /--rampout-ip-subnets "bad"/,
    ],
    [{ ...BASE, physicalInterface: "a-very-long-nic-name" }, /--physical-interface/],
    [{ ...BASE, physicalInterface: "eth2", nodeName: "" }, /--node-name/],
    [{ ...BASE, physicalInterface: "eth2", clusterSubnet: "10.0.0.0/33" }, /--cluster-ip-subnet/],
  ];
  for (const [i, re] of bad) {
    assert.throws(() => buildGatewayOptions(i, env), (e: unknown) => {
      assert.ok(e instanceof ValidationError, String(e));
      assert.match((e as Error).message, re);
      return true;
    });
  }
});

Deno.test("gatewayFromExternalIds() reads the gateway keys, mode auto by default, helper NIC from br<nic>", () => {
  const g = gatewayFromExternalIds(
    {
      "ovn-k8s-gateway-interface": "breth0",
      "ovn-k8s-gateway-ip": "198.51.100.11/24",
      "ovn-k8s-gateway-nexthop": "198.51.100.1",
      "ovn-k8s-gateway-rampout": "10.244.3.0/24",
    },
    "node1",
    "unix:/x/db.sock",
    10,
    env,
  );
  assert.equal(g.options.mode, "auto");
  assert.equal(g.options.iface, "breth0");
  assert.equal(g.options.defaultGw, "198.51.100.1");
  assert.equal(g.helperNic, "eth0");
  assert.equal(g.options.ovsDb, "unix:/x/db.sock");
  assert.throws(
    () => gatewayFromExternalIds({ "ovn-k8s-gateway-ip": "1.2.3.4/24" }, "n", "unix:/x", 10, env),
    /external_ids:ovn-k8s-gateway-interface is not set/,
  );
  assert.throws(
    () => gatewayFromExternalIds({ "ovn-k8s-gateway-interface": "eth2" }, "n", "unix:/x", 10, env),
    /external_ids:ovn-k8s-gateway-ip is not set/,
  );
  const nic = gatewayFromExternalIds(
    {
      "ovn-k8s-gateway-interface": "eth2",
      "ovn-k8s-gateway-mode": "nic",
      "ovn-k8s-gateway-ip": "198.51.100.11/24",
    },
    "node1",
    "unix:/x",
    10,
    env,
  );
  assert.equal(nic.helperNic, undefined);
  assert.equal(nic.options.mode, "nic");
});

/** A fake connector: answers selects from canned rows per database, records writes. */
function fakeDbs(ovsRoot: Record<string, string>, clusterRouter: boolean) {
  const writes: Array<{ db: string; ops: readonly Operation[] }> = [];
  const connect: DbConnector = (o) =>
    Promise.resolve({
      transact(ops: readonly Operation[]): Promise<OperationResult[]> {
        if (ops.some((x) => x.op !== "select")) writes.push({ db: o.database, ops });
        return Promise.resolve(ops.map((x): OperationResult => {
          if (x.op !== "select") return {};
          if (x.table === "Open_vSwitch") {
            return { rows: [{ _uuid: "root", external_ids: ovsRoot }] };
          }
          if (x.table === "Bridge" && o.database === "Open_vSwitch") {
            return { rows: [{ _uuid: "bi", name: "br-int", ports: [], other_config: {} }] };
          }
          if (x.table === "Interface") {
            return {
              rows: [{
                _uuid: "i",
                name: "eth2",
                type: "",
                mac_in_use: ["02:00:00:00:00:11"],
                ofport: [1],
                external_ids: {},
              }],
            };
          }
          if (x.table === "Logical_Router" && clusterRouter) {
            return {
              rows: [{
                _uuid: "cr",
                name: "ovn_cluster_router",
                external_ids: { "k8s-cluster-router": "yes" },
                ports: [],
                options: {},
                static_routes: [],
                nat: [],
                load_balancer: [],
              }],
            };
          }
          return { rows: [] };
        }));
      },
      close() {},
    });
  return { connect, writes };
}

const runner: Runner = {
  run: () => Promise.resolve({ code: 0, stdout: "[]", stderr: "" }),
} as unknown as Runner;

Deno.test("initGateway() refuses a missing system-id, ovn-nb or cluster router and writes nothing", async () => {
  const o = buildGatewayOptions({ ...BASE, physicalInterface: "eth2" }, env);
  const cases: Array<[Record<string, string>, boolean, RegExp]> = [
    [{ "ovn-nb": "unix:/x" }, true, /external_ids:system-id is not set/],
    [{ "system-id": "c1" }, true, /external_ids:ovn-nb is not set/],
    [{ "system-id": "c1", "ovn-nb": "unix:/x" }, false, /no cluster router.*master-init/],
  ];
  for (const [ids, cr, re] of cases) {
    const f = fakeDbs(ids, cr);
    await assert.rejects(
      () =>
        initGateway(o, {
          runner,
          connect: f.connect,
          readTextFile: () => Promise.resolve(""),
          log: silentLogger,
        }),
      (e: unknown) => e instanceof ValidationError && re.test((e as Error).message),
    );
    assert.deepEqual(f.writes, [], `writes for ${JSON.stringify(ids)}`);
  }
});

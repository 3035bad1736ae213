import assert from "node:assert/strict";
import type { OvsState } from "./local_state.ts";
import { managementPortOps } from "./management_port.ts";
import { setHostIdsOps } from "./external_ids.ts";

const spec = {
  bridge: "br-int",
  name: "k8s-n1",
  ifaceId: "k8s-n1",
  mtu: 1400,
  mac: "0a:58:0a:f4:01:02",
};

const root = { _uuid: "root", external_ids: {}, bridges: ["b1"] };
const bridge = {
  _uuid: "b1",
  name: "br-int",
  ports: ["p1"],
  datapath_type: "netdev",
  fail_mode: ["secure"],
};

Deno.test("managementPortOps() creates br-int and the internal port on a fresh database", () => {
  const ops = managementPortOps({ root, bridge: undefined, port: undefined, iface: undefined }, {
    ...spec,
    datapathType: "netdev",
  });
  assert.deepEqual(ops.map((o) => `${o.op} ${"table" in o ? o.table : ""}`), [
    "insert Interface",
    "insert Port",
    "insert Bridge",
    "mutate Open_vSwitch",
    "insert Interface",
    "insert Port",
    "mutate Bridge",
  ]);
  const iface = ops[4]!;
  assert.ok(iface.op === "insert");
  assert.deepEqual(iface.row, {
    name: "k8s-n1",
    type: "internal",
    mtu_request: [1400],
    mac: ["0a:58:0a:f4:01:02"],
    external_ids: { "iface-id": "k8s-n1" },
  });
  const br = ops[2]!;
  assert.ok(br.op === "insert");
  assert.equal((br.row as Record<string, unknown>)["datapath_type"], "netdev");
});

Deno.test("managementPortOps() writes nothing when the port matches and fixes drift", () => {
  const iface = {
    _uuid: "i1",
    name: "k8s-n1",
    type: "internal",
    mtu_request: [1400],
    mac: ["0a:58:0a:f4:01:02"],
    mac_in_use: ["0a:58:0a:f4:01:02"],
    ofport: [2],
    error: [],
    external_ids: { "iface-id": "k8s-n1", "ovn-installed": "true" },
  };
  const state: OvsState = {
    root,
    bridge,
    port: { _uuid: "p1", name: "k8s-n1", interfaces: ["i1"] },
    iface,
  };
  assert.deepEqual(managementPortOps(state, spec), []);
  const drift = { ...state, iface: { ...iface, mtu_request: [1500], mac: [] } };
  assert.deepEqual(managementPortOps(drift, spec), [{
    op: "update",
    table: "Interface",
    where: [["_uuid", "==", "i1"]],
    row: { mtu_request: [1400], mac: ["0a:58:0a:f4:01:02"] },
  }]);
});

Deno.test("managementPortOps() refuses a database without the Open_vSwitch row", () => {
  assert.throws(
    () =>
      managementPortOps(
        { root: undefined, bridge: undefined, port: undefined, iface: undefined },
        spec,
      ),
    /run setup-host first/,
  );
});

Deno.test("setHostIdsOps() sets only changed keys and inserts the row when missing", () => {
  const r = {
    _uuid: "root",
    external_ids: { "ovn-nb": "tcp:1.1.1.1:6641", "system-id": "x" },
    bridges: [],
  };
  assert.deepEqual(setHostIdsOps(r, { "ovn-nb": "tcp:1.1.1.1:6641" }), []);
  assert.deepEqual(setHostIdsOps(r, { "ovn-nb": "tcp:2.2.2.2:6641" }, ["gone", "system-id"]), [{
    op: "mutate",
    table: "Open_vSwitch",
    where: [["_uuid", "==", "root"]],
    mutations: [
      ["external_ids", "delete", ["ovn-nb", "system-id"]],
      ["external_ids", "insert", { "ovn-nb": "tcp:2.2.2.2:6641" }],
    ],
  }]);
  assert.deepEqual(setHostIdsOps(undefined, { a: "1" }), [{
    op: "insert",
    table: "Open_vSwitch",
    row: { external_ids: { a: "1" } },
  }]);
});

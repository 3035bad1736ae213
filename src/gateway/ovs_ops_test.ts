import assert from "node:assert/strict";
import {
  type GatewayOvsState,
  mergeBridgeMapping,
  nicPortOps,
  sharedBridgeOps,
} from "./ovs_ops.ts";

const BR_INT = { _uuid: "bi", name: "br-int", ports: ["p1"], other_config: {} };

Deno.test("mergeBridgeMapping() keeps other networks and replaces the same one", () => {
  assert.equal(mergeBridgeMapping(undefined, "physnet_breth0", "breth0"), "physnet_breth0:breth0");
  assert.equal(
    mergeBridgeMapping("physnet:br-ex,physnet_breth0:old", "physnet_breth0", "breth0"),
    "physnet:br-ex,physnet_breth0:breth0",
  );
});

Deno.test("nicPortOps() adds the NIC to br-int with its iface-id, then nothing", () => {
  const fresh: GatewayOvsState = {
    root: { _uuid: "r", external_ids: {} },
    integration: BR_INT,
    bridge: undefined,
    port: undefined,
    iface: undefined,
    bridges: [BR_INT],
  };
  const ops = nicPortOps(fresh, "eth2", "eth2_node1");
  assert.deepEqual(ops.map((o) => `${o.op} ${"table" in o ? o.table : ""}`), [
    "insert Interface",
    "insert Port",
    "mutate Bridge",
  ]);
  const done: GatewayOvsState = {
    ...fresh,
    integration: { ...BR_INT, ports: ["p1", "p-eth2"] },
    bridges: [{ ...BR_INT, ports: ["p1", "p-eth2"] }],
    port: { _uuid: "p-eth2", name: "eth2", interfaces: ["i"] },
    iface: {
      _uuid: "i",
      name: "eth2",
      type: "",
      mac_in_use: [],
      ofport: [3],
      external_ids: { "iface-id": "eth2_node1" },
    },
  };
  assert.deepEqual(nicPortOps(done, "eth2", "eth2_node1"), []);
});

Deno.test("sharedBridgeOps() pins the MAC and maps the bridge; refuses a missing bridge", () => {
  const br = { _uuid: "b", name: "breth0", ports: [], other_config: {} };
  const s: GatewayOvsState = {
    root: { _uuid: "r", external_ids: {} },
    integration: BR_INT,
    bridge: br,
    port: undefined,
    iface: undefined,
    bridges: [BR_INT, br],
  };
  const ops = sharedBridgeOps(s, "breth0", "02:00:00:00:00:01");
  assert.equal(ops.length, 2);
  assert.match(JSON.stringify(ops), /"hwaddr":"02:00:00:00:00:01"/);
  assert.match(JSON.stringify(ops), /"ovn-bridge-mappings":"physnet_breth0:breth0"/);
  const same: GatewayOvsState = {
    ...s,
    root: { _uuid: "r", external_ids: { "ovn-bridge-mappings": "physnet_breth0:breth0" } },
    bridge: { ...br, other_config: { hwaddr: "02:00:00:00:00:01" } },
  };
  assert.deepEqual(sharedBridgeOps(same, "breth0", "02:00:00:00:00:01"), []);
  assert.throws(
    () => sharedBridgeOps({ ...s, bridge: undefined }, "breth0", "02:00:00:00:00:01"),
    /--bridge-interface breth0: no such OVS bridge/,
  );
});

import assert from "node:assert/strict";
import {
  addressArgs,
  nicBridgeOps,
  type NicBridgeState,
  parseNicAddresses,
  parseNicRoutes,
  planMove,
  routeArgs,
} from "./nics_to_bridge.ts";

const ADDRS = JSON.stringify([{
  ifname: "eth0",
  addr_info: [
    { family: "inet", local: "10.0.0.5", prefixlen: 24, broadcast: "10.0.0.255", scope: "global" },
    { family: "inet", local: "10.0.0.9", prefixlen: 24, scope: "global", dynamic: true },
    { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
    { family: "inet6", local: "2001:db8::5", prefixlen: 64, scope: "global" },
  ],
}]);
const ROUTES = JSON.stringify([
  { dst: "default", gateway: "10.0.0.1", protocol: "static", flags: [] },
  { dst: "10.0.0.0/24", protocol: "kernel", scope: "link", prefsrc: "10.0.0.5", flags: [] },
  { dst: "192.168.9.0/24", gateway: "10.0.0.254", metric: 100, protocol: "boot", flags: [] },
]);

Deno.test("planMove() moves static addresses and non-kernel routes, keeps and lists dynamic ones", () => {
  const plan = planMove(parseNicAddresses(ADDRS), parseNicRoutes(ROUTES));
  assert.deepEqual(plan.move.map((a) => `${a.local}/${a.prefixlen}`), [
    "10.0.0.5/24",
    "2001:db8::5/64",
  ]);
  assert.deepEqual(plan.dynamic.map((a) => a.local), ["10.0.0.9"]);
  assert.deepEqual(plan.routes.map((r) => r.dst), ["default", "192.168.9.0/24"]);
  assert.deepEqual(addressArgs(plan.move[0]!, "breth0"), [
    "addr",
    "add",
    "10.0.0.5/24",
    "brd",
    "10.0.0.255",
    "scope",
    "global",
    "dev",
    "breth0",
  ]);
  assert.deepEqual(addressArgs(plan.move[1]!, "breth0").slice(0, 4), [
    "-6",
    "addr",
    "add",
    "2001:db8::5/64",
  ]);
  assert.deepEqual(routeArgs(plan.routes[1]!, "breth0"), [
    "route",
    "replace",
    "192.168.9.0/24",
    "via",
    "10.0.0.254",
    "dev",
    "breth0",
    "metric",
    "100",
  ]);
});

const ROOT = { _uuid: "root", external_ids: {} };

Deno.test("nicBridgeOps() makes br<nic> with the NIC's MAC once, then nothing", () => {
  const fresh: NicBridgeState = { root: ROOT, bridges: [], ports: [] };
  const ops = nicBridgeOps(fresh, "eth0", "02:00:00:00:00:05", "netdev");
  const bridge = ops.find((o) => o.op === "insert" && o.table === "Bridge");
  assert.deepEqual((bridge as { row: Record<string, unknown> }).row, {
    name: "breth0",
    ports: ["br_port", "nic_port"],
    fail_mode: ["standalone"],
    other_config: { hwaddr: "02:00:00:00:00:05" },
    external_ids: { "bridge-id": "breth0" },
    datapath_type: "netdev",
  });
  const done: NicBridgeState = {
    root: ROOT,
    bridges: [{ _uuid: "b", name: "breth0", ports: ["p-br", "p-nic"] }],
    ports: [{ _uuid: "p-nic", name: "eth0" }],
  };
  assert.deepEqual(nicBridgeOps(done, "eth0", "02:00:00:00:00:05", "netdev"), []);
  const elsewhere: NicBridgeState = {
    root: ROOT,
    bridges: [{ _uuid: "b", name: "br-ex", ports: ["p-nic"] }],
    ports: [{ _uuid: "p-nic", name: "eth0" }],
  };
  assert.throws(
    () => nicBridgeOps(elsewhere, "eth0", "02:00:00:00:00:05", ""),
    /port of OVS bridge br-ex/,
  );
});

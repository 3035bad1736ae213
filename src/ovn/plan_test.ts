import assert from "node:assert/strict";
import { Ipv4Cidr } from "../net/mod.ts";
import type { Operation } from "../ovsdb/mod.ts";
import { planCluster, recordedClusterSubnet } from "./cluster_ops.ts";
import { EMPTY_NB_STATE, type NbState, nodeSubnets } from "./nb_state.ts";
import { chooseManagementMac, planNode, subnetGuardOp } from "./node_ops.ts";

const cluster = Ipv4Cidr.parse("192.168.0.0/16");
const subnet = Ipv4Cidr.parse("192.168.1.0/24");

/** The NB state after master-init of node "k8smaster" (as built by the planners). */
function initialisedState(router = "ovn_cluster_router"): NbState {
  const owner = (kind: string, key?: string) => ({
    "ovn-k8s-owner": "node-init",
    "ovn-k8s-kind": kind,
    ...(key ? { "ovn-k8s-key": key } : {}),
  });
  return {
    clusterRouters: [{
      _uuid: "r1",
      name: router,
      external_ids: {
        "k8s-cluster-router": "yes",
        "k8s-cluster-subnet": "192.168.0.0/16",
        ...owner("cluster-router"),
      },
    }],
    routerPorts: [
      {
        _uuid: "p1",
        name: `rtoj-${router}`,
        mac: "00:00:00:a1:34:d6",
        networks: ["100.64.1.1/24"],
        external_ids: { connect_to_join: "yes", ...owner("router-join-port") },
      },
      {
        _uuid: "p2",
        name: "rtos-k8smaster",
        mac: "0a:58:c0:a8:01:01",
        networks: ["192.168.1.1/24"],
        external_ids: owner("router-switch-port", "k8smaster"),
      },
    ],
    switches: [
      {
        _uuid: "s1",
        name: "join",
        other_config: {},
        external_ids: owner("join-switch"),
        load_balancer: [],
      },
      {
        _uuid: "s2",
        name: "k8smaster",
        other_config: { subnet: "192.168.1.0/24" },
        external_ids: { gateway_ip: "192.168.1.1/24", ...owner("node-switch", "k8smaster") },
        load_balancer: ["lb1", "lb2"],
      },
    ],
    switchPorts: [
      {
        _uuid: "q1",
        name: `jtor-${router}`,
        type: "router",
        addresses: ["00:00:00:a1:34:d6"],
        options: { "router-port": `rtoj-${router}` },
        external_ids: owner("join-router-port"),
      },
      {
        _uuid: "q2",
        name: "stor-k8smaster",
        type: "router",
        addresses: ["0a:58:c0:a8:01:01"],
        options: { "router-port": "rtos-k8smaster" },
        external_ids: owner("switch-router-port", "k8smaster"),
      },
      {
        _uuid: "q3",
        name: "k8s-k8smaster",
        type: "",
        addresses: ["0a:58:c0:a8:01:02 192.168.1.2"],
        options: {},
        external_ids: owner("management-port", "k8smaster"),
      },
    ],
    tcpLoadBalancers: [{
      _uuid: "lb1",
      name: "",
      protocol: ["tcp"],
      external_ids: { "k8s-cluster-lb-tcp": "yes", ...owner("cluster-lb-tcp") },
    }],
    udpLoadBalancers: [{
      _uuid: "lb2",
      name: "",
      protocol: ["udp"],
      external_ids: { "k8s-cluster-lb-udp": "yes", ...owner("cluster-lb-udp") },
    }],
  };
}

function planAll(state: NbState, sub = subnet): Operation[] {
  const c = planCluster(state, cluster);
  const mac = chooseManagementMac(state, "k8smaster", sub);
  return [
    ...c.ops,
    ...planNode(state, {
      node: "k8smaster",
      subnet: sub,
      managementMac: mac,
      router: c.router,
      loadBalancers: c.loadBalancers,
    }),
  ];
}

Deno.test("planCluster() on an empty NB creates router, LBs, join switch and join ports", () => {
  const p = planCluster(EMPTY_NB_STATE, cluster);
  assert.deepEqual(p.router, { ref: "cluster_router", name: "ovn_cluster_router" });
  const inserts = p.ops.filter((o) => o.op === "insert");
  assert.deepEqual(inserts.map((o) => o.op === "insert" && o.table), [
    "Logical_Router",
    "Load_Balancer",
    "Load_Balancer",
    "Logical_Switch",
    "Logical_Router_Port",
    "Logical_Switch_Port",
  ]);
  const router = inserts[0]!;
  assert.ok(router.op === "insert");
  assert.deepEqual((router.row as Record<string, unknown>)["external_ids"], {
    "k8s-cluster-router": "yes",
    "k8s-cluster-subnet": "192.168.0.0/16",
    "ovn-k8s-owner": "node-init",
    "ovn-k8s-kind": "cluster-router",
  });
  const rtoj = inserts[4]!;
  assert.ok(rtoj.op === "insert");
  assert.deepEqual(rtoj.row, {
    name: "rtoj-ovn_cluster_router",
    mac: "0a:58:64:40:01:01",
    networks: ["100.64.1.1/24"],
    external_ids: {
      connect_to_join: "yes",
      "ovn-k8s-owner": "node-init",
      "ovn-k8s-kind": "router-join-port",
    },
  });
  assert.deepEqual(
    p.ops.filter((o) => o.op === "mutate").map((o) => o.op === "mutate" && o.table),
    [
      "Logical_Router",
      "Logical_Switch",
    ],
  );
  assert.deepEqual(p.loadBalancers, ["cluster_lb_tcp", "cluster_lb_udp"]);
});

Deno.test("planCluster() and planNode() write nothing when NB already matches", () => {
  assert.deepEqual(planAll(initialisedState()), []);
});

Deno.test("planCluster() keeps an original cluster's router name and port MACs", () => {
  const state = initialisedState("k8smaster");
  const p = planCluster(state, cluster);
  assert.deepEqual(p.router, { ref: "r1", name: "k8smaster" });
  assert.deepEqual(p.ops, []);
  // The original wrote no owner ids: adopting its router adds them once, nothing else.
  state.clusterRouters[0]!.external_ids = { "k8s-cluster-router": "yes" };
  const adopt = planCluster(state, cluster).ops;
  assert.equal(adopt.length, 1);
  assert.equal(adopt[0]!.op, "mutate");
  assert.equal(recordedClusterSubnet(initialisedState())?.toString(), "192.168.0.0/16");
});

Deno.test("planNode() moves a changed subnet to router port, switch and management port", () => {
  const state = initialisedState();
  const ops = planAll(state, Ipv4Cidr.parse("192.168.7.0/24"));
  assert.deepEqual(ops, [
    {
      op: "update",
      table: "Logical_Router_Port",
      where: [["_uuid", "==", "p2"]],
      row: { networks: ["192.168.7.1/24"] },
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", "s2"]],
      mutations: [
        ["other_config", "delete", ["subnet"]],
        ["other_config", "insert", { subnet: "192.168.7.0/24" }],
        ["external_ids", "delete", ["gateway_ip"]],
        ["external_ids", "insert", { gateway_ip: "192.168.7.1/24" }],
      ],
    },
    {
      op: "update",
      table: "Logical_Switch_Port",
      where: [["_uuid", "==", "q3"]],
      // The MAC is reused from NB; only the address moves.
      row: { addresses: ["0a:58:c0:a8:01:02 192.168.7.2"] },
    },
  ]);
});

Deno.test("planNode() attaches new ports and missing load balancers", () => {
  const state = initialisedState();
  state.switches[1]!.load_balancer = ["lb1"];
  const c = planCluster(state, cluster);
  const ops = planNode(state, {
    node: "n2",
    subnet: Ipv4Cidr.parse("192.168.2.0/24"),
    managementMac: "0a:58:c0:a8:02:02",
    router: c.router,
    loadBalancers: c.loadBalancers,
  });
  assert.deepEqual(ops.slice(-3), [
    {
      op: "mutate",
      table: "Logical_Router",
      where: [["_uuid", "==", "r1"]],
      mutations: [["ports", "insert", ["rtos_port"]]],
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", "node_switch"]],
      mutations: [["ports", "insert", ["stor_port", "mgmt_port"]]],
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", "node_switch"]],
      mutations: [["load_balancer", "insert", ["lb1", "lb2"]]],
    },
  ]);
});

Deno.test("chooseManagementMac() prefers NB, then OVS, then the address-derived MAC", () => {
  const state = initialisedState();
  assert.equal(
    chooseManagementMac(state, "k8smaster", subnet, "0a:00:00:00:00:09"),
    "0a:58:c0:a8:01:02",
  );
  assert.equal(chooseManagementMac(state, "n9", subnet, "0A:00:00:00:00:09"), "0a:00:00:00:00:09");
  assert.equal(
    chooseManagementMac(state, "n9", Ipv4Cidr.parse("10.1.2.0/24")),
    "0a:58:0a:01:02:02",
  );
});

Deno.test("nodeSubnets() and subnetGuardOp() read the other switches' subnets", () => {
  const state = initialisedState();
  assert.deepEqual([...nodeSubnets(state, "n2").keys()], ["k8smaster"]);
  assert.deepEqual([...nodeSubnets(state, "k8smaster").keys()], []);
  assert.deepEqual(subnetGuardOp(state), {
    op: "wait",
    table: "Logical_Switch",
    where: [],
    columns: ["name", "other_config"],
    until: "==",
    rows: [
      { name: "join", other_config: {} },
      { name: "k8smaster", other_config: { subnet: "192.168.1.0/24" } },
    ],
    timeout: 0,
  });
});

import assert from "node:assert/strict";
import type { MutateOp, Operation } from "../ovsdb/mod.ts";
import {
  classifyLb,
  gatewayPhysicalIp,
  LbIndex,
  type LbRouterRow,
  type LbRow,
  makeServiceLbName,
  type ServiceLbSpec,
} from "./lb_layout.ts";
import {
  gatewayVips,
  makeUuidNamer,
  mapKeyMutations,
  planGatewayRouter,
  planServiceLbs,
  planServicesGroup,
  planStaleServiceLbs,
  routerClaims,
} from "./lb_ops.ts";

const owner = (service: string) => ({
  "ovn-k8s-owner": "watcher",
  "ovn-k8s-kind": "service-lb",
  "ovn-k8s-key": service,
});

function serviceLb(uuid: string, service: string, vips: Record<string, string>): LbRow {
  return {
    _uuid: uuid,
    name: makeServiceLbName(service, "tcp"),
    protocol: ["tcp"],
    vips,
    options: { reject: "true" },
    external_ids: owner(service),
  };
}

function gr(name: string, ip: string | undefined, lbs: string[] = [], group = ["g1"]): LbRouterRow {
  return {
    _uuid: `r-${name}`,
    name,
    options: { chassis: `ch-${name}` },
    external_ids: ip ? { physical_ip: ip } : {},
    load_balancer: lbs,
    load_balancer_group: group,
  };
}

function gwLb(uuid: string, router: string, vips: Record<string, string> = {}): LbRow {
  return {
    _uuid: uuid,
    name: "",
    protocol: [],
    vips,
    options: { reject: "true" },
    external_ids: { TCP_lb_gateway_router: router },
  };
}

const spec = (
  vips: Record<string, string>,
  nodePorts: Record<string, string> = {},
  affinityTimeout = 0,
): ServiceLbSpec => ({
  service: "default/web",
  protocols: { tcp: { vips, nodePorts, externalVips: {}, affinityTimeout } },
});

const group = { _uuid: "g1", name: "ovn-k8s-services", load_balancer: ["lb1"] };

function target(o: Operation): unknown {
  const w = (o as MutateOp).where[0];
  return Array.isArray(w) ? w[2] : undefined;
}

function mutationsOf(ops: Operation[], uuid: string): unknown[] {
  return ops.filter((o): o is MutateOp => o.op === "mutate" && target(o) === uuid)
    .flatMap((o) => o.mutations);
}

Deno.test("planServiceLbs() inserts a service LB and adds it to the group", () => {
  const ix = LbIndex.fromRows({ groups: [group] });
  const { ops } = planServiceLbs(ix, {
    service: "default/web",
    spec: spec({ "10.96.0.10:80": "10.244.1.4:8080" }),
    namer: makeUuidNamer(),
  });
  assert.equal(ops.length, 2);
  assert.deepEqual(ops[0], {
    op: "insert",
    table: "Load_Balancer",
    uuidName: "svc_lb_0",
    row: {
      name: "Service_default/web_tcp",
      protocol: ["tcp"],
      vips: { "10.96.0.10:80": "10.244.1.4:8080" },
      options: { reject: "true" },
      external_ids: owner("default/web"),
    },
  });
  assert.deepEqual(mutationsOf(ops, "g1"), [["load_balancer", "insert", ["svc_lb_0"]]]);
});

Deno.test("planServiceLbs() writes nothing when the LB matches, one small update when not", () => {
  const ix = LbIndex.fromRows({
    groups: [group],
    loadBalancers: [serviceLb("lb1", "default/web", { "10.96.0.10:80": "10.244.1.4:8080" })],
  });
  const same = planServiceLbs(ix, {
    service: "default/web",
    spec: spec({ "10.96.0.10:80": "10.244.1.4:8080" }),
    namer: makeUuidNamer(),
  });
  assert.deepEqual(same.ops, []);
  const changed = planServiceLbs(ix, {
    service: "default/web",
    spec: spec({ "10.96.0.10:80": "10.244.1.4:8080,10.244.2.5:8080" }, {}, 10800),
    namer: makeUuidNamer(),
  });
  assert.deepEqual(changed.ops, [{
    op: "update",
    table: "Load_Balancer",
    where: [["_uuid", "==", "lb1"]],
    row: {
      vips: { "10.96.0.10:80": "10.244.1.4:8080,10.244.2.5:8080" },
      options: { reject: "true", affinity_timeout: "10800" },
    },
  }]);
});

Deno.test("planServiceLbs() deletes the LBs of a deleted service and of duplicates", () => {
  const ix = LbIndex.fromRows({
    groups: [group],
    loadBalancers: [serviceLb("lb1", "default/web", {}), serviceLb("lb2", "default/web", {})],
  });
  const gone = planServiceLbs(ix, {
    service: "default/web",
    spec: undefined,
    namer: makeUuidNamer(),
  });
  assert.deepEqual(gone.ops.map((o) => [o.op, target(o)]), [
    ["delete", "lb1"],
    ["delete", "lb2"],
  ]);
  const dup = planServiceLbs(ix, {
    service: "default/web",
    spec: spec({}),
    namer: makeUuidNamer(),
  });
  assert.equal(dup.ops.length, 2, "a spec with no VIP keeps no LB");
});

Deno.test("planServiceLbs() throws before the group exists", () => {
  assert.throws(
    () =>
      planServiceLbs(new LbIndex(), {
        service: "default/web",
        spec: spec({ "10.96.0.10:80": "" }),
        namer: makeUuidNamer(),
      }),
    /group ovn-k8s-services is missing/,
  );
});

Deno.test("planServiceLbs() mutates single nodePort keys on every gateway router", () => {
  const ix = LbIndex.fromRows({
    groups: [group],
    routers: [gr("GR_a", "172.16.0.11", ["ga"]), gr("GR_b", "172.16.0.12/24", ["gb"])],
    loadBalancers: [
      serviceLb("lb1", "default/web", { "10.96.0.10:80": "10.244.1.4:8080" }),
      gwLb("ga", "GR_a", { "172.16.0.11:30080": "old:1", "172.16.0.11:30999": "x:1" }),
      gwLb("gb", "GR_b", { "172.16.0.12:30081": "10.244.1.4:8080" }),
    ],
  });
  const plan = planServiceLbs(ix, {
    service: "default/web",
    spec: spec({ "10.96.0.10:80": "10.244.1.4:8080" }, { "30080": "10.244.1.4:8080" }),
    previous: new Set(["tcp|30081"]),
    namer: makeUuidNamer(),
  });
  assert.deepEqual(mutationsOf(plan.ops, "ga"), [
    ["vips", "delete", ["172.16.0.11:30080"]],
    ["vips", "insert", { "172.16.0.11:30080": "10.244.1.4:8080" }],
  ]);
  assert.deepEqual(mutationsOf(plan.ops, "gb"), [
    ["vips", "delete", ["172.16.0.12:30081"]],
    ["vips", "insert", { "172.16.0.12:30080": "10.244.1.4:8080" }],
  ]);
  assert.deepEqual([...plan.claims], ["tcp|30080"]);
  assert.deepEqual(plan.pendingRouters, []);
});

Deno.test("planServiceLbs() leaves a nodePort claimed by another service and reports missing router LBs", () => {
  const ix = LbIndex.fromRows({
    groups: [group],
    routers: [gr("GR_a", "172.16.0.11", ["ga"]), gr("GR_c", "172.16.0.13")],
    loadBalancers: [gwLb("ga", "GR_a", { "172.16.0.11:30081": "y:1" })],
  });
  const plan = planServiceLbs(ix, {
    service: "default/web",
    spec: spec({}, { "30080": "10.244.1.4:80" }),
    previous: new Set(["tcp|30081"]),
    claimedByOther: (c) => c === "tcp|30081",
    namer: makeUuidNamer(),
  });
  assert.deepEqual(mutationsOf(plan.ops, "ga"), [
    ["vips", "insert", { "172.16.0.11:30080": "10.244.1.4:80" }],
  ]);
  assert.deepEqual(plan.pendingRouters, ["GR_c"]);
});

Deno.test("planGatewayRouter() makes the router's LBs with every nodePort and external VIP", () => {
  const router = gr("GR_c", "172.16.0.13", [], ["g1"]);
  const ix = LbIndex.fromRows({ groups: [group], routers: [router] });
  const vips = gatewayVips([
    spec({}, { "30080": "10.244.1.4:80" }),
    {
      service: "ns/aff",
      protocols: {
        tcp: {
          vips: { "192.0.2.1:80": "" },
          nodePorts: { "30090": "" },
          externalVips: { "192.0.2.1:80": "" },
          affinityTimeout: 60,
        },
      },
    },
  ], "172.16.0.13");
  const ops = planGatewayRouter(ix, {
    router: ix.gatewayRouter("GR_c")!,
    vips,
    detachGroup: "g1",
    namer: makeUuidNamer(),
  });
  const inserts = ops.filter((o) => o.op === "insert") as { row: Record<string, unknown> }[];
  assert.deepEqual(inserts.map((i) => [i.row["name"], i.row["vips"], i.row["options"]]), [
    ["GR_c_tcp", { "172.16.0.13:30080": "10.244.1.4:80" }, { reject: "true" }],
    ["GR_c_tcp_affinity60", { "172.16.0.13:30090": "", "192.0.2.1:80": "" }, {
      reject: "true",
      affinity_timeout: "60",
    }],
    ["GR_c_udp", {}, { reject: "true" }],
  ]);
  assert.deepEqual(
    (inserts[0]!.row["external_ids"] as Record<string, string>)["TCP_lb_gateway_router"],
    "GR_c",
  );
  assert.deepEqual(mutationsOf(ops, "r-GR_c"), [
    ["load_balancer", "insert", ["gw_lb_0", "gw_lb_1", "gw_lb_2"]],
    ["load_balancer_group", "delete", ["g1"]],
  ]);
  assert.deepEqual(
    gatewayVips([spec({}, { "30080": "x:1" })], undefined),
    new Map(),
    "no nodePort VIPs without a node IP",
  );
});

Deno.test("planGatewayRouter() removes stale keys, keeps wanted ones and writes nothing when equal", () => {
  const udp = {
    ...gwLb("gu", "GR_a"),
    protocol: ["udp" as const],
    external_ids: { UDP_lb_gateway_router: "GR_a" },
  };
  const rows = {
    groups: [group],
    routers: [gr("GR_a", "172.16.0.11", ["ga", "gu"])],
    loadBalancers: [
      gwLb("ga", "GR_a", { "172.16.0.11:30080": "a:1", "172.16.0.11:30999": "b:1" }),
      udp,
    ],
  };
  const ix = LbIndex.fromRows(rows);
  const want = new Map([["tcp", { "172.16.0.11:30080": "a:1" }]]);
  const ops = planGatewayRouter(ix, {
    router: ix.gatewayRouter("GR_a")!,
    vips: want,
    namer: makeUuidNamer(),
  });
  assert.deepEqual(ops, [{
    op: "mutate",
    table: "Load_Balancer",
    where: [["_uuid", "==", "ga"]],
    mutations: [["vips", "delete", ["172.16.0.11:30999"]]],
  }]);
  const ix2 = LbIndex.fromRows({
    ...rows,
    loadBalancers: [gwLb("ga", "GR_a", { "172.16.0.11:30080": "a:1" }), udp],
  });
  assert.deepEqual(
    planGatewayRouter(ix2, {
      router: ix2.gatewayRouter("GR_a")!,
      vips: want,
      namer: makeUuidNamer(),
    }),
    [],
  );
});

Deno.test("planServicesGroup() creates the group and attaches it to node switches only", () => {
  const ix = LbIndex.fromRows({
    switches: [
      {
        _uuid: "s1",
        name: "node1",
        other_config: { subnet: "10.244.1.0/24" },
        load_balancer_group: [],
      },
      { _uuid: "s2", name: "join", other_config: {}, load_balancer_group: [] },
    ],
  });
  const { ops, groupRef } = planServicesGroup(ix, makeUuidNamer());
  assert.equal(groupRef, "svc_group_0");
  assert.deepEqual(ops.map((o) => o.op), ["insert", "mutate"]);
  assert.deepEqual(mutationsOf(ops, "s1"), [["load_balancer_group", "insert", ["svc_group_0"]]]);
  const done = LbIndex.fromRows({
    groups: [group],
    switches: [{
      _uuid: "s1",
      name: "node1",
      other_config: { subnet: "x" },
      load_balancer_group: ["g1"],
    }],
  });
  assert.deepEqual(planServicesGroup(done, makeUuidNamer()).ops, []);
});

Deno.test("planStaleServiceLbs() deletes LBs of gone services and empties the original cluster LBs", () => {
  const ix = LbIndex.fromRows({
    loadBalancers: [
      serviceLb("lb1", "default/web", {}),
      serviceLb("lb2", "default/gone", {}),
      {
        ...gwLb("c1", ""),
        external_ids: { "k8s-cluster-lb-tcp": "yes" },
        vips: { "10.96.0.1:80": "x:1" },
      },
      { ...gwLb("o1", ""), external_ids: { someone: "else" }, vips: { "1.1.1.1:1": "x:1" } },
    ],
  });
  assert.deepEqual(planStaleServiceLbs(ix, new Set(["default/web"])), [
    { op: "delete", table: "Load_Balancer", where: [["_uuid", "==", "lb2"]] },
    { op: "update", table: "Load_Balancer", where: [["_uuid", "==", "c1"]], row: { vips: {} } },
  ]);
});

Deno.test("LbIndex.apply() follows inserts, updates and deletes", () => {
  const ix = new LbIndex();
  const row = serviceLb("lb1", "default/web", {});
  assert.equal(
    ix.apply({ table: "Load_Balancer", uuid: "lb1", kind: "insert", old: undefined, new: row }),
    "lb",
  );
  assert.equal(ix.serviceLbs("default/web").get("tcp")?.[0]?._uuid, "lb1");
  ix.apply({ table: "Load_Balancer", uuid: "lb1", kind: "delete", old: row, new: undefined });
  assert.equal(ix.serviceLbs("default/web").size, 0);
  ix.apply({
    table: "Load_Balancer_Group",
    uuid: "g1",
    kind: "insert",
    old: undefined,
    new: group,
  });
  assert.equal(ix.inGroup("lb1"), true);
  assert.equal(
    ix.apply({ table: "ACL", uuid: "a", kind: "insert", old: undefined, new: {} }),
    undefined,
  );
});

Deno.test("classifyLb() and gatewayPhysicalIp() read the original's keys", () => {
  assert.deepEqual(
    classifyLb({ external_ids: { UDP_lb_gateway_router: "GR_x" }, protocol: ["udp"] }),
    {
      kind: "gateway",
      router: "GR_x",
      protocol: "udp",
      affinityTimeout: 0,
    },
  );
  assert.deepEqual(classifyLb({ external_ids: {}, protocol: [] }), { kind: "other" });
  assert.equal(gatewayPhysicalIp({ external_ids: { physical_ip: "10.10.0.12" } }), "10.10.0.12");
  assert.equal(gatewayPhysicalIp({ external_ids: { physical_ip: "bogus" } }), undefined);
});

Deno.test("mapKeyMutations() deletes then inserts changed keys, in key order", () => {
  assert.deepEqual(
    mapKeyMutations(
      "vips",
      { a: "1", b: "2", c: "3" },
      new Map([["c", "9"], ["b", undefined], ["d", "4"], ["a", "1"]]),
    ),
    [["vips", "delete", ["b", "c"]], ["vips", "insert", { c: "9", d: "4" }]],
  );
  assert.deepEqual(mapKeyMutations("vips", {}, new Map([["x", undefined]])), []);
});

Deno.test("routerClaims() names slot and nodePort", () => {
  assert.deepEqual([...routerClaims(spec({}, { "30080": "a" }, 5))], [["tcp/5|30080", "a"]]);
  assert.equal(routerClaims(undefined).size, 0);
});

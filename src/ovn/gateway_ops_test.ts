import assert from "node:assert/strict";
import { Ipv4Cidr } from "../net/mod.ts";
import type { InsertOp, MutateOp, Operation } from "../ovsdb/mod.ts";
import { chooseJoinIp, type GatewayInitInput, planGateway } from "./gateway_ops.ts";
import type { GatewayNbState, GwRouter } from "./gateway_state.ts";
import { EMPTY_NB_STATE } from "./nb_state.ts";

function router(name: string, extra: Partial<GwRouter> = {}): GwRouter {
  return {
    _uuid: `u-${name}`,
    name,
    ports: [],
    options: {},
    external_ids: {},
    static_routes: [],
    nat: [],
    load_balancer: [],
    ...extra,
  };
}

function state(extra: Partial<GatewayNbState> = {}, joinIps: string[] = []): GatewayNbState {
  const cr = router("ovn_cluster_router", { external_ids: { "k8s-cluster-router": "yes" } });
  return {
    base: {
      ...EMPTY_NB_STATE,
      clusterRouters: [{ _uuid: cr._uuid, name: cr.name, external_ids: cr.external_ids }],
      switches: [
        { _uuid: "u-join", name: "join", other_config: {}, external_ids: {}, load_balancer: [] },
        {
          _uuid: "u-node1",
          name: "node1",
          other_config: { subnet: "10.244.1.0/24" },
          external_ids: {},
          load_balancer: [],
        },
      ],
      routerPorts: [
        {
          _uuid: "u-rtoj",
          name: "rtoj-ovn_cluster_router",
          mac: "0a:58:64:40:01:01",
          networks: ["100.64.1.1/24"],
          external_ids: { connect_to_join: "yes" },
        },
        ...joinIps.map((ip, i) => ({
          _uuid: `u-j${i}`,
          name: `rtoj-GR_x${i}`,
          mac: "0a:58:00:00:00:01",
          networks: [`${ip}/24`],
          external_ids: { connect_to_join: "yes" },
        })),
      ],
    },
    routers: [cr],
    routes: [],
    nats: [],
    gatewayLbs: { tcp: [], udp: [], sctp: [] },
    externalPort: undefined,
    ownedExternalPorts: [],
    ...extra,
  };
}

const INPUT: GatewayInitInput = {
  node: "node1",
  chassis: "chassis-1",
  clusterSubnet: Ipv4Cidr.parse("10.244.0.0/16"),
  physicalIp: "192.0.2.11",
  physicalPrefix: 24,
  mac: "02:00:00:00:00:11",
  defaultGw: "192.0.2.1",
  externalPortName: "eth2_node1",
  attachment: { kind: "vif" },
  rampout: [Ipv4Cidr.parse("10.244.3.0/24")],
};

const inserts = (ops: Operation[], table: string) =>
  ops.filter((o): o is InsertOp => o.op === "insert" && o.table === table);

Deno.test("planGateway() creates the router pinned to the chassis, one SNAT, three LBs, a guard first", () => {
  const plan = planGateway(state(), INPUT);
  assert.equal(plan.joinIp, "100.64.1.2");
  assert.equal(plan.allocated, true);
  assert.equal(plan.ops[0]!.op, "wait");
  const [gr] = inserts(plan.ops, "Logical_Router");
  const row = gr!.row as Record<string, Record<string, string>>;
  assert.deepEqual(row["options"], { chassis: "chassis-1", lb_force_snat_ip: "router_ip" });
  assert.equal(row["external_ids"]!["first_gateway"], "yes");
  assert.equal(row["external_ids"]!["physical_ip"], "192.0.2.11");
  assert.equal(inserts(plan.ops, "NAT").length, 1);
  assert.deepEqual(
    inserts(plan.ops, "Load_Balancer").map((l) => (l.row as { protocol: string[] }).protocol[0]),
    ["tcp", "udp", "sctp"],
  );
  const routes = inserts(plan.ops, "Logical_Router_Static_Route").map((r) => {
    const x = r.row as { ip_prefix: string; nexthop: string; policy: string[] };
    return `${x.policy[0] ?? "dst"} ${x.ip_prefix} ${x.nexthop}`;
  });
  assert.deepEqual(routes.sort(), [
    "dst 0.0.0.0/0 100.64.1.2",
    "dst 0.0.0.0/0 192.0.2.1",
    "dst 10.244.0.0/16 100.64.1.1",
    "dst 100.64.1.2/32 100.64.1.2",
    "src-ip 10.244.1.0/24 100.64.1.2",
    "src-ip 10.244.3.0/24 100.64.1.2",
  ]);
});

Deno.test("chooseJoinIp() takes the lowest free address, never the network, .1 or .255", () => {
  assert.deepEqual(chooseJoinIp(state({}, ["100.64.1.2", "100.64.1.4"]), "GR_node1"), {
    ip: "100.64.1.3",
    allocated: true,
  });
  const all = Array.from({ length: 253 }, (_, i) => `100.64.1.${i + 2}`);
  assert.throws(() => chooseJoinIp(state({}, all), "GR_node1"), /100\.64\.1\.0\/24 is full/);
  assert.equal(chooseJoinIp(state({}, all.slice(0, -1)), "GR_node1").ip, "100.64.1.254");
});

Deno.test("planGateway() keeps first_gateway, removes duplicate SNAT rows, keeps another gateway's default route", () => {
  const gr = router("GR_node1", {
    options: { chassis: "chassis-1", lb_force_snat_ip: "router_ip" },
    external_ids: { first_gateway: "yes", physical_ip: "192.0.2.11" },
    nat: ["n1", "n2"],
  });
  const cr = router("ovn_cluster_router", {
    external_ids: { "k8s-cluster-router": "yes" },
    static_routes: ["r-def"],
  });
  const other = router("GR_node9", { options: { chassis: "c9" } });
  const s = state({
    routers: [gr, cr, other],
    nats: [
      {
        _uuid: "n1",
        type: "snat",
        logical_ip: "10.244.0.0/16",
        external_ip: "192.0.2.11",
        external_ids: {},
      },
      {
        _uuid: "n2",
        type: "snat",
        logical_ip: "10.244.0.0/16",
        external_ip: "192.0.2.11",
        external_ids: {},
      },
    ],
    routes: [{
      _uuid: "r-def",
      ip_prefix: "0.0.0.0/0",
      nexthop: "100.64.1.9",
      policy: [],
      output_port: [],
      external_ids: {},
    }],
  });
  const live: GatewayNbState = {
    ...s,
    base: {
      ...s.base,
      routerPorts: [...s.base.routerPorts, {
        _uuid: "u-j9",
        name: "rtoj-GR_node9",
        mac: "0a:58:64:40:01:09",
        networks: ["100.64.1.9/24"],
        external_ids: { connect_to_join: "yes" },
      }],
    },
  };
  const plan = planGateway(live, INPUT);
  const muts = plan.ops.filter((o): o is MutateOp => o.op === "mutate");
  assert.ok(
    !JSON.stringify(muts).includes("first_gateway"),
    "first_gateway rewritten on a re-run",
  );
  assert.ok(
    muts.some((m) =>
      m.table === "Logical_Router" && JSON.stringify(m.mutations) === '[["nat","delete",["n2"]]]'
    ),
    "the duplicate SNAT row is not removed",
  );
  assert.equal(inserts(plan.ops, "NAT").length, 0);
  const defaults = inserts(plan.ops, "Logical_Router_Static_Route").map((r) =>
    r.row as { ip_prefix: string; nexthop: string }
  ).filter((r) => r.ip_prefix === "0.0.0.0/0").map((r) => r.nexthop);
  assert.deepEqual(defaults, ["192.0.2.1"], "only the GR's own default route is added");
  assert.ok(
    !plan.ops.some((o) => o.op === "update" && o.table === "Logical_Router_Static_Route"),
    "the live gateway's default route was taken over",
  );
  // The default route's gateway is gone (no join port has 100.64.1.9): it is taken over.
  const orphan = planGateway(s, INPUT);
  assert.ok(
    orphan.ops.some((o) =>
      o.op === "update" && o.table === "Logical_Router_Static_Route" &&
      JSON.stringify(o.row).includes("100.64.1.2")
    ),
    "a dead gateway's default route is kept",
  );
});

Deno.test("planGateway() refuses without a cluster router", () => {
  const s = state();
  assert.throws(
    () => planGateway({ ...s, base: { ...s.base, clusterRouters: [] } }, INPUT),
    /no cluster router.*run master-init/,
  );
});

Deno.test("planGateway() detaches a port toward the outside made for another interface", () => {
  const s = state({
    ownedExternalPorts: [{
      _uuid: "u-old",
      name: "breth2_node1",
      type: "localnet",
      addresses: ["unknown"],
      options: {},
      external_ids: {},
    }],
  });
  const plan = planGateway(s, INPUT);
  assert.ok(
    plan.ops.some((o) =>
      o.op === "mutate" && o.table === "Logical_Switch" &&
      JSON.stringify(o.mutations) === '[["ports","delete",["u-old"]]]'
    ),
  );
});

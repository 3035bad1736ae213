/**
 * The join IP allocation is race-free against a real ovsdb-server: two gateways planned
 * from the same NB state both pick 100.64.1.2; the first commits, the second's `wait`
 * guard fails the whole transaction (nothing of it is written), and its re-plan from a
 * fresh read takes 100.64.1.3. Re-planning an applied gateway yields no operation.
 *
 * Needs ovsdb-server.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ipv4Cidr } from "../../src/net/mod.ts";
import {
  type GatewayInitInput,
  gatewayStateReadOps,
  makeExternalPortName,
  makeGatewayRouterName,
  parseGatewayState,
  planGateway,
} from "../../src/ovn/mod.ts";
import { NB_DATABASE, type NbTables } from "../../src/ovn/nb_models.ts";
import { OvsdbClient, OvsdbError } from "../../src/ovsdb/mod.ts";
import { NB_SCHEMA, startOvsdbServer } from "../helpers/ovsdb_server.ts";
import { addNodes } from "./watcher_env.ts";

const input = (node: string, ip: string): GatewayInitInput => ({
  node,
  chassis: node,
  clusterSubnet: Ipv4Cidr.parse("10.244.0.0/16"),
  physicalIp: ip,
  physicalPrefix: 24,
  mac: "02:00:00:00:00:01",
  defaultGw: "198.51.100.1",
  externalPortName: makeExternalPortName("eth2", node),
  attachment: { kind: "vif" },
  rampout: [],
});

Deno.test("gateway join IP: a concurrent allocation of the same address fails its guard and re-plans", async () => {
  await using server = await startOvsdbServer({ schema: NB_SCHEMA });
  const nb = await OvsdbClient.connect<NbTables>({
    remotes: server.remotes("unix"),
    database: NB_DATABASE,
    timeoutMs: 10_000,
  });
  try {
    await addNodes(nb, [
      { name: "node1", subnet: "10.244.1.0/24" },
      { name: "node2", subnet: "10.244.2.0/24" },
    ]);
    const read = async (node: string) =>
      parseGatewayState(
        await nb.transact(
          gatewayStateReadOps(
            node,
            makeGatewayRouterName(node),
            makeExternalPortName("eth2", node),
          ),
        ),
      );
    const a = planGateway(await read("node1"), input("node1", "198.51.100.11"));
    const b = planGateway(await read("node2"), input("node2", "198.51.100.12"));
    assert.equal(a.joinIp, "100.64.1.2");
    assert.equal(b.joinIp, "100.64.1.2");
    await nb.transact(a.ops);
    const routers = async () =>
      ((await nb.transact([{
        op: "select",
        table: "Logical_Router",
        where: [],
        columns: ["name"],
      }]))[0]!
        .rows ?? []).map((r) => r["name"]).sort();
    await assert.rejects(
      () => nb.transact(b.ops),
      (e: unknown) => e instanceof OvsdbError && e.kind === "operation" && e.index === 0,
    );
    assert.deepEqual(await routers(), ["GR_node1", "ovn_cluster_router"], "the loser wrote");
    const b2 = planGateway(await read("node2"), input("node2", "198.51.100.12"));
    assert.equal(b2.joinIp, "100.64.1.3");
    await nb.transact(b2.ops);
    assert.deepEqual(await routers(), ["GR_node1", "GR_node2", "ovn_cluster_router"]);
    for (const [node, ip] of [["node1", "198.51.100.11"], ["node2", "198.51.100.12"]] as const) {
      assert.deepEqual(planGateway(await read(node), input(node, ip)).ops, [], `${node} re-plan`);
    }
  } finally {
    nb.close();
  }
});

import assert from "node:assert/strict";
import {
  coalesceSetMutations,
  deletePodPortOps,
  isPodPort,
  makePodPortName,
  planPodPort,
  podKeyOfPort,
  podPortIds,
  type PodPortRow,
  portMacIp,
} from "./pod_ops.ts";

const SPEC = {
  namespace: "default",
  pod: "web",
  uid: "u1",
  mac: "0a:58:0a:f4:01:03",
  ip: "10.244.1.3",
};
const SW = "11111111-1111-1111-1111-111111111111";
const SW2 = "22222222-2222-2222-2222-222222222222";
const PORT_UUID = "33333333-3333-3333-3333-333333333333";

function row(over: Partial<PodPortRow> = {}): PodPortRow {
  const a = `${SPEC.mac} ${SPEC.ip}`;
  return {
    _uuid: PORT_UUID,
    name: "default_web",
    addresses: [a],
    port_security: [a],
    external_ids: podPortIds(SPEC),
    ...over,
  };
}

Deno.test("makePodPortName() joins namespace and pod with an underscore", () => {
  assert.equal(makePodPortName("kube-system", "dns-1"), "kube-system_dns-1");
});

Deno.test("planPodPort() inserts a new port with static addresses and port security", () => {
  const ops = planPodPort(undefined, SW, SPEC, "pod0");
  assert.deepEqual(ops, [
    {
      op: "insert",
      table: "Logical_Switch_Port",
      row: {
        name: "default_web",
        addresses: ["0a:58:0a:f4:01:03 10.244.1.3"],
        port_security: ["0a:58:0a:f4:01:03 10.244.1.3"],
        external_ids: {
          namespace: "default",
          pod: "true",
          "ovn-k8s-owner": "watcher",
          "ovn-k8s-kind": "pod",
          "ovn-k8s-key": "default/web",
          "ovn-k8s-pod-uid": "u1",
        },
      },
      uuidName: "pod0",
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", SW]],
      mutations: [["ports", "insert", ["pod0"]]],
    },
  ]);
});

Deno.test("planPodPort() yields nothing when the port already matches", () => {
  assert.deepEqual(planPodPort({ port: row(), switchUuid: SW }, SW, SPEC, "pod0"), []);
});

Deno.test("planPodPort() updates only the uid of a pod recreated under its name", () => {
  const ops = planPodPort({ port: row(), switchUuid: SW }, SW, { ...SPEC, uid: "u2" }, "pod0");
  assert.equal(ops.length, 1);
  assert.equal(ops[0]!.op, "mutate");
  assert.deepEqual((ops[0] as { mutations: unknown }).mutations, [
    ["external_ids", "delete", ["ovn-k8s-pod-uid"]],
    ["external_ids", "insert", { "ovn-k8s-pod-uid": "u2" }],
  ]);
});

Deno.test("planPodPort() moves a port to another switch: delete there, insert here", () => {
  const ops = planPodPort({ port: row(), switchUuid: SW }, SW2, SPEC, "pod7");
  assert.deepEqual(ops.map((o) => o.op), ["mutate", "delete", "insert", "mutate"]);
  assert.deepEqual((ops[0] as { where: unknown }).where, [["_uuid", "==", SW]]);
  assert.deepEqual((ops[3] as { where: unknown }).where, [["_uuid", "==", SW2]]);
});

Deno.test("deletePodPortOps() detaches and deletes", () => {
  assert.deepEqual(deletePodPortOps({ port: row(), switchUuid: SW }), [
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", SW]],
      mutations: [["ports", "delete", [PORT_UUID]]],
    },
    { op: "delete", table: "Logical_Switch_Port", where: [["_uuid", "==", PORT_UUID]] },
  ]);
});

Deno.test("isPodPort() and podKeyOfPort() know ours and the original's ports", () => {
  assert.equal(podKeyOfPort(row()), "default/web");
  const original = {
    name: "kube-system_dns-1",
    external_ids: { namespace: "kube-system", pod: "true" },
  };
  assert.equal(podKeyOfPort(original), "kube-system/dns-1");
  assert.equal(
    isPodPort({ "ovn-k8s-owner": "node-init", "ovn-k8s-kind": "management-port" }),
    false,
  );
  assert.equal(podKeyOfPort({ name: "k8s-node1", external_ids: {} }), undefined);
});

Deno.test("portMacIp() reads static, then dynamic addresses", () => {
  assert.deepEqual(portMacIp({ addresses: ["0A:58:0A:F4:01:03 10.244.1.3"] }), {
    mac: "0a:58:0a:f4:01:03",
    ip: "10.244.1.3",
  });
  assert.deepEqual(
    portMacIp({ addresses: ["dynamic"], dynamic_addresses: ["0a:00:00:00:00:05 192.168.2.3"] }),
    { mac: "0a:00:00:00:00:05", ip: "192.168.2.3" },
  );
  assert.equal(portMacIp({ addresses: ["router"] }), undefined);
});

Deno.test("coalesceSetMutations() merges set mutations of one row and keeps the rest", () => {
  const m = (sw: string, v: string, mut: "insert" | "delete" = "insert") => ({
    op: "mutate" as const,
    table: "Logical_Switch",
    where: [["_uuid", "==", sw] as const],
    mutations: [["ports", mut, [v]] as const],
  });
  const ins = { op: "insert" as const, table: "Logical_Switch_Port", row: {}, uuidName: "a" };
  const out = coalesceSetMutations([
    ins,
    m(SW, "a"),
    m(SW2, "b"),
    m(SW, "c"),
    m(SW, "x", "delete"),
  ]);
  assert.deepEqual(out, [
    ins,
    { ...m(SW, "a"), mutations: [["ports", "insert", ["a", "c"]]] },
    m(SW2, "b"),
    m(SW, "x", "delete"),
  ]);
});

import assert from "node:assert/strict";
import type { RpcSession } from "../ovsdb/rpc.ts";
import { OvsdbPorts } from "./ovsdb_ports.ts";

/** A session that answers transactions from a function and records them. */
function fakeSession(answer: (ops: Record<string, unknown>[]) => unknown[]) {
  const sent: Record<string, unknown>[][] = [];
  const session = {
    request(method: string, params: unknown[]) {
      assert.equal(method, "transact");
      assert.equal(params[0], "Open_vSwitch");
      const ops = params.slice(1) as Record<string, unknown>[];
      sent.push(ops);
      return Promise.resolve(answer(ops));
    },
    close() {},
  } as unknown as RpcSession;
  return { sent, open: () => Promise.resolve(session) };
}

Deno.test("OvsdbPorts.hostInfo() reads external_ids and the datapath type", async () => {
  const f = fakeSession(() => [
    { rows: [{ external_ids: ["map", [["k8s-api-server", "h:1"]]] }] },
    { rows: [{ datapath_type: "netdev" }] },
  ]);
  const p = new OvsdbPorts({ remote: "unix:/x", timeoutMs: 1000, open: f.open });
  assert.deepEqual(await p.hostInfo("br-int"), {
    externalIds: { "k8s-api-server": "h:1" },
    datapathType: "netdev",
  });
  const none = new OvsdbPorts({
    remote: "unix:/x",
    timeoutMs: 1000,
    open: fakeSession(() => [{ rows: [] }, { rows: [] }]).open,
  });
  assert.equal((await none.hostInfo("br-x")).datapathType, undefined);
});

Deno.test("OvsdbPorts.plug() replaces the old port and links the new one in one transaction", async () => {
  const f = fakeSession((ops) =>
    ops[0]!.op === "select" ? [{ rows: [{ _uuid: ["uuid", "old-1"] }] }] : ops.map(() => ({}))
  );
  const p = new OvsdbPorts({ remote: "unix:/x", timeoutMs: 1000, open: f.open });
  await p.plug({ bridge: "br-int", name: "v1", externalIds: { "iface-id": "ns_p" } });
  const tx = f.sent[1]!;
  assert.deepEqual(tx.map((o) => o.op), ["wait", "mutate", "insert", "insert", "mutate"]);
  assert.deepEqual(tx[1]!.mutations, [["ports", "delete", ["uuid", "old-1"]]]);
  assert.deepEqual(tx[2]!.row, { name: "v1", external_ids: ["map", [["iface-id", "ns_p"]]] });
  assert.deepEqual(tx[3]!.row, { name: "v1", interfaces: ["named-uuid", "iface"] });
  assert.deepEqual(tx[4]!.where, [["name", "==", "br-int"]]);
});

Deno.test("OvsdbPorts.plug() names a missing bridge", async () => {
  const f = fakeSession((ops) =>
    ops[0]!.op === "select" ? [{ rows: [] }] : [{ error: "timed out", details: "wait" }]
  );
  const p = new OvsdbPorts({ remote: "unix:/x", timeoutMs: 1000, open: f.open });
  await assert.rejects(
    p.plug({ bridge: "br-nope", name: "v1", externalIds: {} }),
    /no bridge named br-nope/,
  );
});

Deno.test("OvsdbPorts.waitInstalled() polls until ovn-installed, or times out", async () => {
  let polls = 0;
  const f = fakeSession(() => [{
    rows: [{ external_ids: ["map", ++polls >= 3 ? [["ovn-installed", "true"]] : []] }],
  }]);
  const p = new OvsdbPorts({ remote: "unix:/x", timeoutMs: 1000, open: f.open });
  await p.waitInstalled("v1", 5000);
  assert.equal(polls, 3);
  const never = new OvsdbPorts({
    remote: "unix:/x",
    timeoutMs: 1000,
    open: fakeSession(() => [{ rows: [{ external_ids: ["map", []] }] }]).open,
  });
  await assert.rejects(never.waitInstalled("v1", 50), /no external_ids:ovn-installed=true/);
});

Deno.test("OvsdbPorts.unplug() does nothing when the port is gone", async () => {
  const f = fakeSession(() => [{ rows: [] }]);
  await new OvsdbPorts({ remote: "unix:/x", timeoutMs: 1000, open: f.open }).unplug("v1");
  assert.equal(f.sent.length, 1, "only the select");
});

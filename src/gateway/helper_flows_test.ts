import assert from "node:assert/strict";
import { renderFlows } from "../ovs/flows.ts";
import { helperFlows, nodePortsOf } from "./helper_flows.ts";

Deno.test("nodePortsOf() takes NodePort and LoadBalancer ports, TCP by default, deduplicated", () => {
  assert.deepEqual(
    nodePortsOf([
      {
        spec: {
          type: "NodePort",
          ports: [{ nodePort: 30080 }, { protocol: "UDP", nodePort: 30053 }],
        },
      },
      { spec: { type: "LoadBalancer", ports: [{ protocol: "TCP", nodePort: 30080 }] } },
      { spec: { type: "ClusterIP", ports: [{ nodePort: 30999 }] } },
      {
        spec: { type: "NodePort", ports: [{ protocol: "SCTP", nodePort: 31000 }, { nodePort: 0 }] },
      },
      {},
    ]),
    [
      { protocol: "udp", port: 30053 },
      { protocol: "tcp", port: 30080 },
      { protocol: "sctp", port: 31000 },
    ],
  );
});

Deno.test("helperFlows() renders the static demux and one flow per nodePort", () => {
  const text = renderFlows(
    helperFlows({ patch: 3, nic: 1, zone: 64000, nodePorts: [{ protocol: "udp", port: 30053 }] }),
  );
  assert.equal(
    text,
    [
      "table=0,priority=100,in_port=1,udp,tp_dst=30053,actions=output:3",
      "table=0,priority=100,in_port=3,ip,actions=ct(commit,zone=64000),output:1",
      "table=0,priority=50,in_port=1,ip,actions=ct(zone=64000,table=1)",
      "table=0,priority=0,actions=NORMAL",
      "table=1,priority=100,ct_state=+trk+est,actions=output:3",
      "table=1,priority=100,ct_state=+trk+rel,actions=output:3",
      "table=1,priority=0,actions=NORMAL",
      "",
    ].join("\n"),
  );
});

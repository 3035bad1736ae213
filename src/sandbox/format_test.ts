import assert from "node:assert/strict";
import { formatLabStatus, labHealthy } from "./format.ts";
import type { LabStatus } from "./lab.ts";

function status(): LabStatus {
  return {
    prefix: "ovnk8s",
    dir: "/run/ovn-k8s-sandbox",
    underlay: "172.31.9.0/24",
    rootIp: "172.31.9.1",
    central: {
      nb: { healthy: true, pid: 10 },
      sb: { healthy: true, pid: 11 },
      northd: { status: "active", pid: 12 },
      nbRemote: "tcp:172.31.9.2:6641",
      sbRemote: "tcp:172.31.9.2:6642",
    },
    databases: {
      nb: { remote: "tcp:172.31.9.2:6641", ok: true, version: "7.0.0" },
      sb: { remote: "tcp:172.31.9.2:6642", ok: true, version: "20.27.0" },
    },
    chassis: [{ name: "node1", hostname: "node1", encapIps: ["172.31.9.11"] }],
    nodes: [
      {
        name: "node1",
        netns: "ovnk8s-node1",
        underlayIp: "172.31.9.11",
        pids: { ovsdb: 20, vswitchd: 21, controller: 22 },
        brInt: "netdev",
      },
      {
        name: "node2",
        netns: "ovnk8s-node2",
        underlayIp: "172.31.9.12",
        pids: { ovsdb: 30, vswitchd: 31, controller: undefined },
        brInt: undefined,
      },
    ],
  };
}

Deno.test("formatLabStatus() shows databases, northd, chassis and each node's gaps", () => {
  const text = formatLabStatus(status());
  assert.match(text, /^ {2}NB {2}tcp:172\.31\.9\.2:6641 {2}up, schema 7\.0\.0 \(pid 10\)$/m);
  assert.match(text, /^ {2}northd {2}active \(pid 12\)$/m);
  assert.match(text, /^chassis registered: 1 \(node1 172\.31\.9\.11\)$/m);
  assert.match(text, /node1 .*controller 22; br-int netdev; chassis registered/);
  assert.match(text, /node2 .*controller DOWN; br-int missing; chassis NOT registered/);
});

Deno.test("labHealthy() needs answering databases, northd and complete nodes", () => {
  const s = status();
  assert.equal(labHealthy(s), false);
  s.nodes.pop();
  assert.equal(labHealthy(s), true);
  s.databases.sb = { remote: "x", ok: false, error: "refused" };
  assert.equal(labHealthy(s), false);
  assert.match(formatLabStatus(s), /SB {2}x {2}DOWN: refused/);
});

import assert from "node:assert/strict";
import { formatRemote, parseClusterStatus, splitRemote } from "./cluster_status.ts";

const SAMPLE = `4f6c
Name: OVN_Northbound
Cluster ID: 1d1b (1d1b5f0e-4c0b-4d7f-9c3a-8a1c9a6b1c11)
Server ID: 4f6c (4f6c0d1e-8a9b-4c5d-9e0f-112233445566)
Address: tcp:172.31.7.11:6643
Status: cluster member
Role: leader
Term: 2
Leader: self
Vote: self

Last Election started 52 ms ago, reason: timeout
Election timer: 1000
Log: [2, 7]
Entries not yet committed: 0
Entries not yet applied: 0
Connections: ->8d5c ->e1f1 <-8d5c <-e1f1
Disconnections: 0
Servers:
    4f6c (4f6c at tcp:172.31.7.11:6643) (self) next_index=4 match_index=6
    8d5c (8d5c at tcp:172.31.7.12:6643) next_index=7 match_index=6 last msg 22 ms ago
    e1f1 (e1f1 at tcp:[fd00::3]:6643) next_index=7 match_index=6 last msg 21 ms ago
`;

Deno.test("parseClusterStatus() reads status, role, leader and every member", () => {
  const st = parseClusterStatus(SAMPLE);
  assert.equal(st.status, "cluster member");
  assert.equal(st.role, "leader");
  assert.equal(st.leader, "self");
  assert.deepEqual(st.servers, [
    { id: "4f6c", address: "tcp:172.31.7.11:6643", self: true },
    { id: "8d5c", address: "tcp:172.31.7.12:6643", self: false },
    { id: "e1f1", address: "tcp:[fd00::3]:6643", self: false },
  ]);
});

Deno.test("parseClusterStatus() of a joining server has no members and empty fields", () => {
  const st = parseClusterStatus("Name: OVN_Southbound\nStatus: joining cluster\n");
  assert.equal(st.status, "joining cluster");
  assert.equal(st.role, "");
  assert.deepEqual(st.servers, []);
});

Deno.test("splitRemote() and formatRemote() handle IPv4, IPv6 and passive forms", () => {
  assert.deepEqual(splitRemote("tcp:10.0.0.1:6641"), {
    proto: "tcp",
    host: "10.0.0.1",
    port: 6641,
  });
  assert.deepEqual(splitRemote("ssl:[fd00::1]:6642"), {
    proto: "ssl",
    host: "fd00::1",
    port: 6642,
  });
  assert.equal(splitRemote("unix:/run/x.sock"), undefined);
  assert.equal(formatRemote("tcp", "fd00::1", 6641), "tcp:[fd00::1]:6641");
  assert.equal(formatRemote("ptcp", "0.0.0.0", 6641), "ptcp:6641:0.0.0.0");
  assert.equal(formatRemote("pssl", "::", 6642), "pssl:6642:[::]");
});

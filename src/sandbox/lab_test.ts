import assert from "node:assert/strict";
import { silentLogger } from "../log/mod.ts";
import { FakeProcesses, FakeRunner } from "../daemons/_testing.ts";
import { checkPrefix, Lab, type LabState } from "./lab.ts";

Deno.test("checkPrefix() accepts short lowercase names and explains the rule otherwise", () => {
  checkPrefix("ovnk8s");
  checkPrefix("a1-b2");
  for (const bad of ["", "1abc", "UPPER", "with_underscore", "thirteen-char"]) {
    assert.throws(() => checkPrefix(bad), /use 1-12 characters of a-z, 0-9 and '-'/);
  }
});

const state: LabState = {
  version: 1,
  prefix: "t1",
  underlay: "172.31.40.0/24",
  nodes: ["node1", "node2"],
  configureOvn: true,
};

Deno.test("Lab names every namespace and link from its prefix and plans addresses", () => {
  const lab = new Lab("/tmp/lab", state, {
    runner: new FakeRunner(),
    procs: new FakeProcesses(),
    log: silentLogger,
  });
  assert.deepEqual(lab.namespaces, ["t1-node1", "t1-node2", "t1-central", "t1-ul"]);
  assert.equal(lab.rootLink, "t1-ul");
  assert.equal(lab.central.nbRemote, "tcp:172.31.40.2:6641");
  const n2 = lab.node("node2");
  assert.equal(n2.underlayIp, "172.31.40.12");
  assert.equal(n2.ovsDbSock, "/tmp/lab/nodes/node2/db.sock");
  assert.equal(n2.env.OVS_RUNDIR, "/tmp/lab/nodes/node2");
  assert.throws(() => lab.node("node9"), /the nodes are node1, node2/);
});

Deno.test("LabNode.exec() runs inside the node namespace with the node's environment", async () => {
  const runner = new FakeRunner();
  const lab = new Lab("/tmp/lab", state, { runner, procs: new FakeProcesses(), log: silentLogger });
  await lab.node("node1").exec(["ovs-vsctl", "show"], { env: { EXTRA: "1" } });
  assert.deepEqual(runner.calls[0], ["ip", "netns", "exec", "t1-node1", "ovs-vsctl", "show"]);
  assert.equal(runner.options[0]!.env?.OVS_RUNDIR, "/tmp/lab/nodes/node1");
  assert.equal(runner.options[0]!.env?.EXTRA, "1");
});

Deno.test("Lab.down() kills leftover processes in its namespaces before deleting them", async () => {
  const procs = new FakeProcesses();
  procs.procs.set(555, ["sleep", "1000"]);
  const runner = new FakeRunner([
    { match: "ip netns list", result: { stdout: "t1-node1\nt1-ul\nother-ns" } },
    { match: "ip netns pids t1-node1", fn: () => ({ stdout: procs.procs.has(555) ? "555" : "" }) },
  ]);
  const dir = await Deno.makeTempDir();
  const lab = new Lab(dir, state, { runner, procs, log: silentLogger });
  await lab.down();
  assert.deepEqual(procs.signals, [[555, "SIGTERM"]]);
  const deleted = runner.callsWith("ip netns delete").map((c) => c[3]);
  assert.deepEqual(deleted, ["t1-node1", "t1-ul"]);
  assert.equal(await Deno.stat(dir).then(() => true, () => false), false);
});

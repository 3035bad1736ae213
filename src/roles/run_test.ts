import assert from "node:assert/strict";
import { exitCodeOf } from "../cli/mod.ts";
import { planRun } from "./run.ts";

Deno.test("planRun() uses the configured roles in execution order", () => {
  const p = planRun({
    "ovn-k8s-roles": "minion, central,master",
    "ovn-k8s-node-name": "n1",
    "ovn-k8s-cluster-subnet": "10.0.0.0/16",
    "ovn-k8s-node-subnet": "10.0.1.0/24",
    "ovn-k8s-central-options": "--data-dir=/d  --run-dir=/r",
  }, "host");
  assert.deepEqual(p.roles, ["central", "master", "minion"]);
  assert.deepEqual(p.inferred, []);
  assert.equal(p.init.nodeSubnet, "10.0.1.0/24");
  assert.deepEqual(p.centralArgs, ["--data-dir=/d", "--run-dir=/r"]);
});

Deno.test("planRun() infers roles, node name and subnet when keys are absent", () => {
  const remote = planRun({ "ovn-nb": "tcp:10.0.0.1:6641" }, "Worker-7");
  assert.deepEqual(remote.roles, ["minion"]);
  assert.equal(remote.init.nodeName, "worker-7");
  assert.equal(remote.init.nodeSubnet, "auto");
  assert.equal(remote.inferred.length, 4);
  const local = planRun({ "ovn-nb": "tcp:127.0.0.1:6641", hostname: "M1" }, "ignored");
  assert.deepEqual(local.roles, ["master", "minion"]);
  assert.equal(local.init.nodeName, "m1");
});

Deno.test("planRun() without any role names the keys to set and exits 2", () => {
  assert.throws(() => planRun({ "system-id": "x" }, "h"), (e: unknown) => {
    assert.equal(exitCodeOf(e), 2);
    assert.match((e as Error).message, /external_ids:ovn-k8s-roles.*external_ids:ovn-nb/);
    return true;
  });
  assert.throws(() => planRun({ "ovn-k8s-roles": "worker" }, "h"), /unknown role worker/);
});

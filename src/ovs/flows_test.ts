import assert from "node:assert/strict";
import type { Runner, RunOptions } from "../exec/mod.ts";
import { renderFlow, renderFlows, replaceFlows } from "./flows.ts";

Deno.test("renderFlows() orders by table, then priority descending", () => {
  const text = renderFlows([
    { table: 1, priority: 0, match: "", actions: "NORMAL" },
    { table: 0, priority: 50, match: "in_port=1,ip", actions: "ct(zone=7,table=1)" },
    { table: 0, priority: 100, match: "in_port=2,ip", actions: "output:1" },
  ]);
  assert.equal(
    text,
    "table=0,priority=100,in_port=2,ip,actions=output:1\n" +
      "table=0,priority=50,in_port=1,ip,actions=ct(zone=7,table=1)\n" +
      "table=1,priority=0,actions=NORMAL\n",
  );
  assert.equal(
    renderFlow({ table: 0, priority: 0, match: "", actions: "drop" }),
    "table=0,priority=0,actions=drop",
  );
});

Deno.test("replaceFlows() hands the whole table to ovs-ofctl --bundle replace-flows on stdin", async () => {
  const calls: Array<{ argv: readonly string[]; opts: RunOptions | undefined }> = [];
  const runner: Runner = {
    run: (argv, opts) => {
      calls.push({ argv, opts });
      return Promise.resolve({ code: 0, stdout: "", stderr: "" });
    },
  } as Runner;
  await replaceFlows(runner, "unix:/x/br0.mgmt", [{
    table: 0,
    priority: 0,
    match: "",
    actions: "NORMAL",
  }]);
  assert.deepEqual(calls[0]!.argv, [
    "ovs-ofctl",
    "--bundle",
    "replace-flows",
    "unix:/x/br0.mgmt",
    "-",
  ]);
  assert.equal(calls[0]!.opts?.stdin, "table=0,priority=0,actions=NORMAL\n");
});

import assert from "node:assert/strict";
import { type Operation, type OperationResult, OvsdbError } from "../ovsdb/mod.ts";
import { MetricsRegistry } from "./metrics.ts";
import { NbWriter } from "./nb_writer.ts";

function op(tag: string): Operation {
  return { op: "comment", comment: tag };
}

/** A fake server that rejects any transaction containing a "bad" comment. */
function fakeDb(sent: string[][]) {
  return {
    transact(ops: readonly Operation[]): Promise<OperationResult[]> {
      const tags = ops.map((o) => (o as { comment: string }).comment);
      sent.push(tags);
      const i = tags.findIndex((t) => t.startsWith("bad"));
      if (i >= 0) {
        return Promise.reject(
          new OvsdbError("operation", "Cannot commit: constraint violation", { index: i }),
        );
      }
      return Promise.resolve(tags.map(() => ({})));
    },
  };
}

Deno.test("NbWriter.commitGroups() commits all groups in one transaction", async () => {
  const sent: string[][] = [];
  const w = new NbWriter(fakeDb(sent), new MetricsRegistry());
  const r = await w.commitGroups("pods", [
    { key: "a", ops: [op("a1"), op("a2")] },
    { key: "b", ops: [op("b1")] },
    { key: "c", ops: [] },
  ]);
  assert.deepEqual(sent, [["a1", "a2", "b1"]]);
  assert.deepEqual([...r.committed.keys()].sort(), ["a", "b", "c"]);
  assert.equal(r.committed.get("a")!.length, 2);
  assert.equal(w.transactions, 1);
});

Deno.test("NbWriter.commitGroups() bisects around a rejected key; groups stay whole", async () => {
  const sent: string[][] = [];
  const w = new NbWriter(fakeDb(sent), new MetricsRegistry());
  const groups = ["a", "b", "bad", "d"].map((k) => ({ key: k, ops: [op(`${k}1`), op(`${k}2`)] }));
  const r = await w.commitGroups("pods", groups);
  assert.deepEqual([...r.committed.keys()].sort(), ["a", "b", "d"]);
  assert.deepEqual([...r.failed.keys()], ["bad"]);
  for (const tags of sent) {
    // every transaction carries whole groups
    for (const g of ["a", "b", "bad", "d"]) {
      assert.equal(tags.filter((t) => t.startsWith(g) && t.length === g.length + 1).length % 2, 0);
    }
  }
});

Deno.test("NbWriter.commitGroups() fails every group on a lost connection (no bisect)", async () => {
  let calls = 0;
  const w = new NbWriter({
    transact() {
      calls++;
      return Promise.reject(new OvsdbError("disconnected", "Cannot transact: connection lost"));
    },
  }, new MetricsRegistry());
  const r = await w.commitGroups("pods", [{ key: "a", ops: [op("a")] }, {
    key: "b",
    ops: [op("b")],
  }]);
  assert.equal(calls, 1);
  assert.deepEqual([...r.failed.keys()], ["a", "b"]);
});

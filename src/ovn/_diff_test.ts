import assert from "node:assert/strict";
import { hasWrites, planRow } from "./_diff.ts";

Deno.test("planRow() inserts absent rows and leaves equal rows alone", () => {
  const d = {
    table: "Logical_Switch",
    uuidName: "sw",
    columns: {},
    maps: { external_ids: { k: "v" } },
    onInsert: { name: "n1" },
  };
  const fresh = planRow(undefined, d);
  assert.equal(fresh.created, true);
  assert.equal(fresh.ref, "sw");
  assert.deepEqual(fresh.insert?.op === "insert" && fresh.insert.row, {
    name: "n1",
    external_ids: { k: "v" },
  });
  const same = planRow(
    { _uuid: "u1", external_ids: { k: "v", other: "x" } } as { _uuid: string },
    d,
  );
  assert.deepEqual(same, { changes: [], ref: "u1", created: false });
  assert.equal(hasWrites(same.changes), false);
  assert.equal(
    hasWrites([{ op: "wait", table: "T", where: [], columns: [], until: "==", rows: [] }]),
    false,
  );
  assert.equal(hasWrites(fresh.insert ? [fresh.insert] : []), true);
});

import assert from "node:assert/strict";
import { changedColumns, mapMutateOps, mapMutations } from "./row_diff.ts";

Deno.test("mapMutations() deletes changed keys then inserts the wanted pairs", () => {
  assert.deepEqual(
    mapMutations("other_config", { subnet: "10.0.1.0/24", x: "1" }, {
      subnet: "10.0.2.0/24",
      y: "2",
    }),
    [
      ["other_config", "delete", ["subnet"]],
      ["other_config", "insert", { subnet: "10.0.2.0/24", y: "2" }],
    ],
  );
  assert.deepEqual(mapMutations("external_ids", { a: "1", b: "2" }, { a: "1" }), []);
  assert.deepEqual(mapMutations("external_ids", undefined, { a: "1" }), [
    ["external_ids", "insert", { a: "1" }],
  ]);
});

Deno.test("mapMutations() removes the listed keys that are present, once", () => {
  assert.deepEqual(
    mapMutations("external_ids", { a: "1", b: "2", c: "3" }, { a: "9" }, ["c", "a", "gone"]),
    [
      ["external_ids", "delete", ["a", "c"]],
      ["external_ids", "insert", { a: "9" }],
    ],
  );
  assert.deepEqual(mapMutations("external_ids", { a: "1" }, {}, ["b"]), []);
  assert.deepEqual(mapMutations("external_ids", { a: "1", b: "2" }, { a: "1" }, ["b"]), [
    ["external_ids", "delete", ["b"]],
  ]);
});

Deno.test("changedColumns() compares sets as sets", () => {
  assert.equal(changedColumns({ networks: ["b", "a"] }, { networks: ["a", "b"] }), undefined);
  assert.deepEqual(changedColumns({ networks: ["a"] }, { networks: ["c"] }), { networks: ["c"] });
});

Deno.test("mapMutateOps() mutates the one row, or writes nothing when the map matches", () => {
  assert.deepEqual(mapMutateOps("Bridge", "u1", "other_config", { hwaddr: "x" }, { hwaddr: "y" }), [
    {
      op: "mutate",
      table: "Bridge",
      where: [["_uuid", "==", "u1"]],
      mutations: [["other_config", "delete", ["hwaddr"]], ["other_config", "insert", {
        hwaddr: "y",
      }]],
    },
  ]);
  assert.deepEqual(
    mapMutateOps("Bridge", "u1", "other_config", { hwaddr: "y" }, { hwaddr: "y" }),
    [],
  );
});

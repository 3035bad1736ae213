import assert from "node:assert/strict";
import { mapMutations } from "./map_mutations.ts";

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

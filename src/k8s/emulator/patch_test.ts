import assert from "node:assert/strict";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";

Deno.test("mergePatch() merges objects, replaces lists and deletes nulls", () => {
  const doc = { a: 1, b: { c: 2, d: 3 }, l: [1, 2] };
  assert.deepEqual(mergePatch(doc, { b: { c: null, e: 4 }, l: [3] }), {
    a: 1,
    b: { d: 3, e: 4 },
    l: [3],
  });
  assert.deepEqual(doc, { a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, "the input is not modified");
});

Deno.test("strategicMergePatch() merges named lists by name and honours $patch/$setElementOrder", () => {
  const doc = { spec: { containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] } };
  const out = strategicMergePatch(doc, {
    spec: {
      "$setElementOrder/containers": [{ name: "b" }, { name: "c" }],
      containers: [{ name: "b", image: "y2" }, { name: "c", image: "z" }, {
        name: "a",
        $patch: "delete",
      }],
    },
  });
  assert.deepEqual(out, {
    spec: { containers: [{ name: "b", image: "y2" }, { name: "c", image: "z" }] },
  });
});

Deno.test("jsonPatch() applies add, replace, remove, move, copy and test with ~1 escapes", () => {
  const doc = { metadata: { annotations: { "k8s.ovn.org/x": "1" } }, l: [1, 2] };
  const out = jsonPatch(doc, [
    { op: "replace", path: "/metadata/annotations/k8s.ovn.org~1x", value: "2" },
    { op: "add", path: "/l/-", value: 3 },
    { op: "remove", path: "/l/0" },
    { op: "copy", from: "/l", path: "/m" },
    { op: "move", from: "/m", path: "/n" },
    { op: "test", path: "/n/1", value: 3 },
  ]);
  assert.deepEqual(out, {
    metadata: { annotations: { "k8s.ovn.org/x": "2" } },
    l: [2, 3],
    n: [2, 3],
  });
});

Deno.test("jsonPatch() fails on a missing path and a failed test", () => {
  assert.throws(() => jsonPatch({}, [{ op: "remove", path: "/a" }]), RangeError);
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]), RangeError);
  assert.throws(() => jsonPatch({}, { op: "add" }), SyntaxError);
});

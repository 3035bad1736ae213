import assert from "node:assert/strict";
import { interfaceNameProblem } from "./ifname.ts";

Deno.test("interfaceNameProblem() accepts names up to 15 bytes", () => {
  assert.equal(interfaceNameProblem("k8s-node1"), undefined);
  assert.equal(interfaceNameProblem("k8s-abcdefghijk"), undefined);
});

Deno.test("interfaceNameProblem() explains what is wrong", () => {
  assert.match(interfaceNameProblem("k8s-abcdefghijkl")!, /16 bytes long.*at most 15/);
  assert.match(interfaceNameProblem("")!, /empty/);
  assert.match(interfaceNameProblem("a/b")!, /'\/'/);
  assert.match(interfaceNameProblem("a b")!, /whitespace/);
  assert.match(interfaceNameProblem("..")!, /path/);
});

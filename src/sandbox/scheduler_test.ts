import assert from "node:assert/strict";
import { pickNode } from "./scheduler.ts";

Deno.test("pickNode() takes the least-loaded node, ties by name", () => {
  const nodes = ["node3", "node1", "node2"];
  assert.equal(pickNode(nodes, new Map()), "node1");
  assert.equal(pickNode(nodes, new Map([["node1", 2], ["node2", 1], ["node3", 1]])), "node2");
  assert.equal(pickNode(nodes, new Map([["node1", 0], ["node2", 5], ["node3", 0]])), "node1");
  assert.equal(pickNode([], new Map()), undefined);
});

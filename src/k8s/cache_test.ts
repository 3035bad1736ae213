import assert from "node:assert/strict";
import { byNamespace, byNodeName, IndexedCache, objectKey } from "./cache.ts";
import type { KubeObject } from "./resources.ts";

const pod = (name: string, node?: string, ns = "default"): KubeObject => ({
  metadata: { name, namespace: ns },
  spec: node ? { nodeName: node } : {},
});

Deno.test("IndexedCache re-indexes an object whose node changes and forgets removed ones", () => {
  const c = new IndexedCache<KubeObject>({ node: byNodeName, namespace: byNamespace });
  c.upsert(pod("a"));
  c.upsert(pod("b", "n1"));
  assert.deepEqual(c.byIndex("node", "n1").map(objectKey), ["default/b"]);
  assert.deepEqual(c.byIndex("node", "n2"), []);
  c.upsert(pod("a", "n2"));
  c.upsert(pod("b", "n2"));
  assert.deepEqual(c.byIndex("node", "n1"), []);
  assert.deepEqual(c.byIndex("node", "n2").map(objectKey).sort(), ["default/a", "default/b"]);
  assert.equal(c.remove("default/a")?.metadata.name, "a");
  assert.equal(c.remove("default/a"), undefined);
  assert.deepEqual(c.byIndex("node", "n2").map(objectKey), ["default/b"]);
  assert.deepEqual(c.byIndex("namespace", "default").map(objectKey), ["default/b"]);
  assert.equal(c.size, 1);
  assert.throws(() => c.byIndex("zone", "x"), /Cannot query index "zone"/);
});

Deno.test("objectKey() is namespace/name, or name for cluster-scoped objects", () => {
  assert.equal(objectKey(pod("a", undefined, "ns1")), "ns1/a");
  assert.equal(objectKey({ metadata: { name: "node1" } }), "node1");
});

import assert from "node:assert/strict";
import type { KubeObject } from "../resources.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";

const pod = (name: string, labels: Record<string, string>, node = ""): KubeObject => ({
  metadata: { name, namespace: "default", labels },
  spec: { nodeName: node },
});

Deno.test("parseLabelSelector() supports =, !=, in, notin, exists and !exists", () => {
  const a = pod("a", { app: "web", tier: "fe" });
  const b = pod("b", { app: "db" });
  const names = (sel: string) => [a, b].filter(parseLabelSelector(sel)).map((p) => p.metadata.name);
  assert.deepEqual(names(""), ["a", "b"]);
  assert.deepEqual(names("app=web"), ["a"]);
  assert.deepEqual(names("app!=web"), ["b"]);
  assert.deepEqual(names("app in (db, cache)"), ["b"]);
  assert.deepEqual(names("app notin (db),tier"), ["a"]);
  assert.deepEqual(names("!tier"), ["b"]);
  assert.throws(() => parseLabelSelector("a=(b"), SyntaxError);
});

Deno.test("parseFieldSelector() selects on spec.nodeName and metadata.name", () => {
  const a = pod("a", {}, "n1");
  const b = pod("b", {}, "n2");
  const names = (sel: string) => [a, b].filter(parseFieldSelector(sel)).map((p) => p.metadata.name);
  assert.deepEqual(names("spec.nodeName=n2"), ["b"]);
  assert.deepEqual(names("metadata.name=a,spec.nodeName!=n2"), ["a"]);
  assert.throws(
    () => parseFieldSelector("spec.hostname=x"),
    /Cannot select on field "spec.hostname"/,
  );
});

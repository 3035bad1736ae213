import assert from "node:assert/strict";
import { moduleGraph } from "../../tests/helpers/module_graph.ts";

/**
 * The CNI path must start fast: the module graph of the cni role may not contain the
 * Kubernetes client library (nor any npm package or node: built-in, whose loading
 * costs milliseconds each). Read from `deno info --json`, as the compile gate does.
 */
Deno.test("src/roles/cni.ts module graph loads no Kubernetes client, npm or node: module", async () => {
  const entry = new URL("../roles/cni.ts", import.meta.url).pathname;
  const modules = await moduleGraph(entry);
  const specifiers = modules.map((m) => m.specifier);
  assert.ok(specifiers.some((s) => s.endsWith("/src/cni/plugin.ts")), "graph was resolved");
  const imported = modules.flatMap((m) => (m.dependencies ?? []).map((d) => d.specifier));
  const offenders = [...specifiers, ...imported].filter((s) =>
    /@kubernetes\/client-node|^npm:|^node:/.test(s) || !/^(file:|\.{1,2}\/)/.test(s)
  );
  assert.deepEqual(offenders, []);
});

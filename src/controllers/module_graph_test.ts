import assert from "node:assert/strict";
import { staticGraph } from "../../tests/helpers/module_graph.ts";

/**
 * The watcher talks to the API over `KubeHttp` only (informers, patches, Events, the
 * Lease): loading `@kubernetes/client-node` would cost ~70 MiB of resident memory and
 * ~250 ms of start (BENCHMARKS.md, watcher_pods). A kubeconfig still loads it lazily.
 */
Deno.test("src/roles/watcher.ts static module graph loads no Kubernetes client library", async () => {
  const entry = new URL("../roles/watcher.ts", import.meta.url).pathname;
  const graph = await staticGraph(entry);
  assert.ok(graph.some((s) => s.endsWith("/src/controllers/pod_controller.ts")), "graph resolved");
  assert.ok(graph.some((s) => s.endsWith("/src/controllers/service_controller.ts")));
  const offenders = graph.filter((s) => /^npm:|@kubernetes\/client-node|undici/.test(s));
  assert.deepEqual(offenders, []);
});

import assert from "node:assert/strict";

interface GraphModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier?: string }; isDynamic?: boolean }[];
}

/** The modules a start of `entry` loads: its static imports, transitively (no `import()`). */
async function staticGraph(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: GraphModule[] };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const root = info.modules.find((m) => m.specifier.endsWith(entry))!;
  const seen = new Set<string>([root.specifier]);
  const todo = [root];
  while (todo.length) {
    const m = todo.pop()!;
    for (const d of m.dependencies ?? []) {
      if (d.isDynamic) continue;
      const resolved = d.code?.specifier ?? d.specifier;
      const abs = resolved.startsWith(".") ? new URL(resolved, m.specifier).href : resolved;
      if (seen.has(abs)) continue;
      seen.add(abs);
      const next = bySpecifier.get(abs);
      if (next) todo.push(next);
    }
  }
  return [...seen];
}

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

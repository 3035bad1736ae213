import assert from "node:assert/strict";

/**
 * The CNI path must start fast: the module graph of the cni role may not contain the
 * Kubernetes client library (nor any npm package or node: built-in, whose loading
 * costs milliseconds each). Read from `deno info --json`, as the compile gate does.
 */
Deno.test("src/roles/cni.ts module graph loads no Kubernetes client, npm or node: module", async () => {
  const entry = new URL("../roles/cni.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string }[] }[];
  };
  const specifiers = info.modules.map((m) => m.specifier);
  assert.ok(specifiers.some((s) => s.endsWith("/src/cni/plugin.ts")), "graph was resolved");
  const imported = info.modules.flatMap((m) => (m.dependencies ?? []).map((d) => d.specifier));
  const offenders = [...specifiers, ...imported].filter((s) =>
    /@kubernetes\/client-node|^npm:|^node:/.test(s) || !/^(file:|\.{1,2}\/)/.test(s)
  );
  assert.deepEqual(offenders, []);
});

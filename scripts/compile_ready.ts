// deno-lint-ignore-file no-console
/**
 * `deno task compile-ready`: proves main.ts would compile and run as one binary,
 * without the runtime download that `deno compile` needs:
 *
 * 1. `deno check main.ts`;
 * 2. a graph gate: every module is local (`file:`), `npm:` or `node:`;
 * 3. `deno bundle` to dist/ovn-k8s.js;
 * 4. `ovn-k8s version` run from the bundle with exactly the compile permission flags,
 *    in a fresh DENO_DIR with the network cut off (`unshare -n` when available).
 *
 * Writes the launcher dist/ovn-k8s (a shell script running the bundle with those
 * flags, keeping the name it was called by) used by the sandbox and the tests.
 *
 * @module
 */
import { PERMISSION_FLAGS, RUNTIME_FLAGS } from "./permissions.ts";

const deno = Deno.execPath();
const dec = new TextDecoder();

async function step(name: string, args: string[], opts: { env?: Record<string, string> } = {}) {
  const t0 = performance.now();
  const out = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
  }).output();
  const ms = Math.round(performance.now() - t0);
  if (out.code !== 0) {
    console.error(`compile-ready: ${name}: FAILED (exit ${out.code})`);
    console.error(dec.decode(out.stdout) + dec.decode(out.stderr));
    Deno.exit(1);
  }
  console.error(`compile-ready: ${name}: ok (${ms} ms)`);
  return dec.decode(out.stdout);
}

await step("deno check main.ts", [deno, "check", "main.ts"]);

const info = JSON.parse(
  await step("deno info --json main.ts", [deno, "info", "--json", "main.ts"]),
);
const bad: string[] = [];
for (const m of info.modules as Array<{ specifier: string; error?: string }>) {
  const ok = /^(file|npm|node):/.test(m.specifier);
  if (!ok || m.error) bad.push(`${m.specifier}${m.error ? ` (${m.error})` : ""}`);
}
if (bad.length) {
  console.error(
    `compile-ready: graph gate: modules that are not local, npm: or node::\n  ${bad.join("\n  ")}`,
  );
  Deno.exit(1);
}
console.error(`compile-ready: graph gate: ok (${info.modules.length} modules, all local/npm/node)`);

await Deno.mkdir("dist", { recursive: true });
await step("deno bundle", [
  deno,
  "bundle",
  "--quiet",
  "--platform=deno",
  "-o",
  "dist/ovn-k8s.js",
  "main.ts",
]);

const flags = [...PERMISSION_FLAGS, ...RUNTIME_FLAGS];
const launcher = `#!/bin/sh
# ovn-k8s launcher: runs the bundled entrypoint with the compile task's permission flags.
# Symlink it under an original name (ovn_cni, ovn-k8s-watcher, ...) and it acts as that.
here=$(dirname "$(readlink -f "$0")")
OVN_K8S_ARGV0=$(basename "$0") DENO_NO_UPDATE_CHECK=1 exec "\${OVN_K8S_DENO:-${deno}}" run ${
  flags.join(" ")
} --cached-only "$here/ovn-k8s.js" "$@"
`;
await Deno.writeTextFile("dist/ovn-k8s.tmp", launcher, { mode: 0o755 });
await Deno.rename("dist/ovn-k8s.tmp", "dist/ovn-k8s");

// Run the bundle the way the binary runs: fixed flags, empty DENO_DIR, no network.
const tmpDir = await Deno.makeTempDir({ prefix: "ovn-k8s-denodir-" });
const unshare = await new Deno.Command("unshare", { args: ["-n", "true"], stderr: "null" }).output()
  .then((o) => o.code === 0, () => false);
const runArgs = [deno, "run", ...flags, "dist/ovn-k8s.js", "version"];
const out = await step(
  `ovn-k8s version from the bundle (${flags.join(" ")}${unshare ? ", no network" : ""})`,
  unshare ? ["unshare", "-n", ...runArgs] : runArgs,
  { env: { DENO_DIR: tmpDir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
);
await Deno.remove(tmpDir, { recursive: true });
if (!out.startsWith("ovn-k8s ")) {
  console.error(`compile-ready: unexpected version output: ${out}`);
  Deno.exit(1);
}
console.error(`compile-ready: all checks passed: ${out.trim()}`);

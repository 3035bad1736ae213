// deno-lint-ignore-file no-console
/**
 * `deno task compile-ready`: proves main.ts would compile and run as one binary,
 * without the runtime download that `deno compile` needs:
 *
 * 1. `deno check main.ts`;
 * 2. a graph gate: every module is local (`file:`), `npm:` or `node:`;
 * 3. `deno bundle` to dist/ovn-k8s.js, code-split to dist/split/ (what the launcher runs),
 *    and the CNI plugin alone to dist/ovn-k8s-cni.js (what the launcher runs for CNI);
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
// The launcher runs a code-split bundle (dist/split/main.js): a role's chunk, with the npm
// and node: modules only it imports, loads when that role runs. In one file every node:
// import is evaluated at start, so `ovn-k8s cni` paid ~150 ms for the Kubernetes client.
await Deno.remove("dist/split.tmp", { recursive: true }).catch(() => {});
await step("deno bundle --code-splitting", [
  deno,
  "bundle",
  "--quiet",
  "--platform=deno",
  "--code-splitting",
  "--outdir",
  "dist/split.tmp",
  "main.ts",
]);
await Deno.remove("dist/split", { recursive: true }).catch(() => {});
await Deno.rename("dist/split.tmp", "dist/split");
// The CNI plugin gets a bundle of its own (src/roles/cni.ts runStandalone): even the split
// entry loads node:module (the bundler's require shim), node:util and node:process, about
// 20 ms of Node-compatibility start that the plugin's module graph does not need.
const cniEntryDir = await Deno.makeTempDir({ prefix: "ovn-k8s-cni-entry-" });
const cniEntry = `${cniEntryDir}/cni_main.ts`;
await Deno.writeTextFile(
  cniEntry,
  `import { runStandalone } from "${new URL("../src/roles/cni.ts", import.meta.url).href}";\n` +
    "await runStandalone();\n",
);
await step("deno bundle (CNI plugin)", [
  deno,
  "bundle",
  "--quiet",
  "--platform=deno",
  "-o",
  "dist/ovn-k8s-cni.js",
  cniEntry,
]);
await Deno.remove(cniEntryDir, { recursive: true });

const flags = [...PERMISSION_FLAGS, ...RUNTIME_FLAGS];
const distDir = `${Deno.cwd()}/dist`;
// No subprocess on the launcher's path (each costs ~1 ms before the runtime starts): the
// directory is the one the launcher was built in unless $0 resolves elsewhere (a copy),
// and the name is taken with parameter expansion rather than basename.
const launcher = `#!/bin/sh
# ovn-k8s launcher: runs the bundled entrypoint with the compile task's permission flags.
# Symlink it under an original name (ovn_cni, ovn-k8s-watcher, ...) and it acts as that.
here='${distDir}'
[ "$0" -ef "$here/ovn-k8s" ] || here=$(dirname "$(readlink -f "$0")")
name=\${0##*/}
entry="$here/split/main.js"
config=
# The CNI plugin (its names, "cni", or CNI_COMMAND without arguments) has its own bundle,
# which needs no deno.json (--no-config: no config file lookup from the runtime's cwd).
case "$name" in
  ovn_cni|ovn-k8s-cni-overlay) entry="$here/ovn-k8s-cni.js" config=--no-config ;;
  *) if [ "\${1:-}" = cni ]; then shift; entry="$here/ovn-k8s-cni.js" config=--no-config
     elif [ $# -eq 0 ] && [ -n "\${CNI_COMMAND:-}" ]; then
       entry="$here/ovn-k8s-cni.js" config=--no-config
     fi ;;
esac
OVN_K8S_ARGV0=$name DENO_NO_UPDATE_CHECK=1 exec "\${OVN_K8S_DENO:-${deno}}" run $config ${
  flags.join(" ")
} --cached-only "$entry" "$@"
`;
await Deno.writeTextFile("dist/ovn-k8s.tmp", launcher, { mode: 0o755 });
await Deno.rename("dist/ovn-k8s.tmp", "dist/ovn-k8s");

// Run the bundle the way the binary runs: fixed flags, empty DENO_DIR, no network.
const tmpDir = await Deno.makeTempDir({ prefix: "ovn-k8s-denodir-" });
const unshare = await new Deno.Command("unshare", { args: ["-n", "true"], stderr: "null" }).output()
  .then((o) => o.code === 0, () => false);
const runArgs = [deno, "run", ...flags, "dist/split/main.js", "version"];
const out = await step(
  `ovn-k8s version from the bundle (${flags.join(" ")}${unshare ? ", no network" : ""})`,
  unshare ? ["unshare", "-n", ...runArgs] : runArgs,
  { env: { DENO_DIR: tmpDir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
);
const cniArgs = [deno, "run", ...flags, "dist/ovn-k8s-cni.js"];
const cniOut = await step(
  "CNI VERSION from the CNI bundle",
  unshare ? ["unshare", "-n", ...cniArgs] : cniArgs,
  { env: { DENO_DIR: tmpDir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", CNI_COMMAND: "VERSION" } },
);
await Deno.remove(tmpDir, { recursive: true });
if (!cniOut.includes('"supportedVersions"')) {
  console.error(`compile-ready: unexpected CNI VERSION output: ${cniOut}`);
  Deno.exit(1);
}
if (!out.startsWith("ovn-k8s ")) {
  console.error(`compile-ready: unexpected version output: ${out}`);
  Deno.exit(1);
}
console.error(`compile-ready: all checks passed: ${out.trim()}`);

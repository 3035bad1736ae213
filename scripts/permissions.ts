// deno-lint-ignore-file no-console
/**
 * The one set of Deno permission flags that the compiled binary carries. `deno task
 * compile` bakes these in; `deno task compile-ready` runs the bundle with exactly
 * these flags; `dist/ovn-k8s` (the launcher) uses them too.
 *
 * ovn-k8s configures hosts: it spawns `ip`/`ovs-ofctl`, talks to OVSDB over unix, tcp
 * and ssl, reads and writes CNI and OVS files, and reads its environment (client-node
 * enumerates it). Each flag is needed by a shipped role.
 *
 * @module
 */

/** Permission flags, in the order passed to deno. */
export const PERMISSION_FLAGS: readonly string[] = [
  "--allow-env",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys",
];

/**
 * Other runtime flags shared by compile and the bundle launcher.
 *
 * `--max-semi-space-size=8` (MiB) caps V8's young generation: left alone it grows to
 * ~55 MiB under the watcher's allocation rate and keeps that as RSS, which put a
 * 10,000-pod watcher at ~200 MiB against a live heap of ~23 MiB; capped, 146-150 MiB with
 * no loss of throughput (BENCHMARKS.md, watcher_pods). Compiled binaries do not read
 * DENO_V8_FLAGS, so the flag is baked in here.
 */
export const RUNTIME_FLAGS: readonly string[] = [
  "--no-prompt",
  "--v8-flags=--max-semi-space-size=8",
];

if (import.meta.main) {
  console.log([...PERMISSION_FLAGS, ...RUNTIME_FLAGS].join(" "));
}

// deno-lint-ignore-file no-console
/**
 * `deno task bench [NAME...]`: runs the benchmarks under bench/ (all, or the named
 * ones). Each prints its figures and ratios against a baseline measured in the same
 * run; the results are recorded in BENCHMARKS.md with this command.
 *
 * @module
 */

/** Benchmark name -> module path (each module runs when imported as main). */
export const BENCHMARKS: Record<string, string> = {
  ovsdb_ports: "./ovsdb_ports.ts",
  ovsdb_monitor_load: "./ovsdb_monitor_load.ts",
  cni_startup: "./cni_startup.ts",
  node_init: "./node_init.ts",
  watcher_services: "./watcher_services.ts",
  watcher_pods: "./watcher_pods.ts",
  informer: "./informer.ts",
  sandbox_up: "./sandbox_up.ts",
};

if (import.meta.main) {
  const names = Deno.args.length ? Deno.args : Object.keys(BENCHMARKS);
  if (names.length === 0) console.error("bench: no benchmarks yet");
  for (const name of names) {
    const path = BENCHMARKS[name];
    if (!path) {
      console.error(
        `bench: unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(", ")}`,
      );
      Deno.exit(2);
    }
    console.error(`bench: ${name}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL(path, import.meta.url).pathname],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) Deno.exit(code);
  }
}

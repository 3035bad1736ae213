// deno-lint-ignore-file no-console
/**
 * `deno task compile`: builds the single `ovn-k8s` executable with the fixed
 * permission flags of scripts/permissions.ts.
 *
 * `deno compile` downloads its runtime (denort) on first use; on a machine without
 * that download it fails, and `deno task compile-ready` proves the same entrypoint
 * instead. Usage: `deno task compile [--output PATH] [--target TRIPLE]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PERMISSION_FLAGS, RUNTIME_FLAGS } from "./permissions.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { output: { type: "string", default: "dist/ovn-k8s-bin" }, target: { type: "string" } },
});
const args = [
  "compile",
  ...PERMISSION_FLAGS,
  ...RUNTIME_FLAGS,
  ...(values.target ? ["--target", values.target] : []),
  "--output",
  values.output!,
  "main.ts",
];
console.error(`deno ${args.join(" ")}`);
const { code } = await new Deno.Command(Deno.execPath(), {
  args,
  stdout: "inherit",
  stderr: "inherit",
})
  .output();
if (code === 0) {
  console.error(
    `Built ${values.output}. Install: copy it to /usr/local/bin/ovn-k8s on each host; ` +
      `symlink the original command names (ovn-k8s-overlay, ovn-k8s-watcher, ovn_cni, ...) to it.`,
  );
}
Deno.exit(code);

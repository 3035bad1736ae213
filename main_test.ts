import assert from "node:assert/strict";
import { main, type MainDeps } from "./main.ts";
import { resolveInvocation } from "./src/cli/mod.ts";

function deps(argv0 = "ovn-k8s", env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const d: MainDeps = {
    argv0,
    env: (k) => env[k],
    signal: new AbortController().signal,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  };
  return { d, out, err };
}

Deno.test("main() prints the version", async () => {
  const { d, out } = deps();
  assert.equal(await main(["version"], d), 0);
  assert.match(out.join(), /^ovn-k8s \d+\.\d+\.\d+ \(deno /);
});

Deno.test("main() lists every mission subcommand in its help", async () => {
  const { d, out } = deps();
  assert.equal(await main(["--help"], d), 0);
  for (
    const c of [
      "central",
      "setup-host",
      "master-init",
      "minion-init",
      "gateway-init",
      "nics-to-bridge",
      "gateway-helper",
      "watcher",
      "cni",
      "run",
      "sandbox",
      "status",
      "version",
    ]
  ) assert.match(out.join("\n"), new RegExp(`^  ${c} `, "m"), c);
});

Deno.test("main() exits 2 with usage for unknown commands, flags and missing values", async () => {
  for (const args of [[], ["frobnicate"], ["version", "--bogus"], ["version", "extra"]]) {
    const { d, err } = deps();
    assert.equal(await main(args, d), 2, args.join(" "));
    assert.match(err.join("\n"), /Usage: /, args.join(" "));
  }
});

Deno.test("resolveInvocation() maps the original program names", () => {
  assert.deepEqual(
    resolveInvocation("/usr/bin/ovn-k8s-overlay", ["master-init", "--x"], undefined),
    {
      kind: "command",
      args: ["master-init", "--x"],
      alias: "ovn-k8s-overlay",
    },
  );
  assert.deepEqual(
    resolveInvocation("ovn-k8s-util", ["nics-to-bridge", "eth0"], undefined).kind,
    "command",
  );
  assert.deepEqual(resolveInvocation("/opt/cni/bin/ovn_cni", [], "ADD"), {
    kind: "command",
    args: ["cni"],
    alias: "ovn_cni",
  });
  assert.deepEqual(resolveInvocation("ovn-k8s-watcher", ["--overlay"], undefined), {
    kind: "command",
    args: ["watcher", "--overlay"],
    alias: "ovn-k8s-watcher",
  });
  assert.deepEqual(resolveInvocation("whatever-name", [], "DEL"), {
    kind: "command",
    args: ["cni"],
  });
  assert.equal(resolveInvocation("ovn-k8s-overlay", ["bogus"], undefined).kind, "alias-usage");
});

Deno.test("main() under an original name with a bad verb exits 2 naming the choices", async () => {
  const { d, err } = deps("ovn-k8s-overlay");
  assert.equal(await main(["nope"], d), 2);
  assert.match(err.join(), /master-init,minion-init,gateway-init/);
});

import assert from "node:assert/strict";
import { UsageError, ValidationError } from "../cli/mod.ts";
import { silentLogger } from "../log/mod.ts";
import type { RoleContext } from "./context.ts";
import { main } from "./sandbox.ts";
import { desiredHostIds } from "./setup_host.ts";
import { setupHostArgs } from "../sandbox/mod.ts";

function ctx(out: string[]): RoleContext {
  return {
    signal: new AbortController().signal,
    env: () => undefined,
    log: silentLogger,
    stdout: (t) => out.push(t),
  };
}

Deno.test("sandbox main() needs a known verb", async () => {
  await assert.rejects(main([], ctx([])), UsageError);
  await assert.rejects(main(["sideways"], ctx([])), /unknown command "sideways"/);
  await assert.rejects(main(["up", "extra"], ctx([])), /unexpected argument "extra"/);
});

Deno.test("sandbox main() rejects a bad node count or prefix before touching anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(main(["up", "--nodes=-1", `--dir=${dir}/s`], ctx([])), ValidationError);
    await assert.rejects(main(["up", "--prefix=X", `--dir=${dir}/s`], ctx([])), ValidationError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sandbox status and down without a sandbox say so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out: string[] = [];
    assert.equal(await main(["status", `--dir=${dir}`], ctx(out)), 3);
    assert.equal(await main(["down", `--dir=${dir}`], ctx(out)), 0);
    assert.match(
      out.join("\n"),
      /no sandbox in .*sandbox up` starts one\nno sandbox in .*nothing to remove/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setupHostArgs() gives flags that setup-host accepts, with the master's watcher options", () => {
  const state = {
    version: 1 as const,
    prefix: "sb",
    apiServer: "https://172.31.9.1:6443",
    apiHost: "172.31.9.1",
    apiPort: 6443,
    master: "node1",
    clusterSubnet: "10.244.0.0/16",
    serviceCidr: "10.96.0.0/16",
    serviceIpBase: "10.96.0.1",
    self: ["/usr/bin/ovn-k8s"],
  };
  const args = (master: boolean) =>
    setupHostArgs({
      node: master ? "node1" : "node2",
      ip: master ? "172.31.9.11" : "172.31.9.12",
      master,
      state,
      nbRemote: "tcp:172.31.9.2:6641",
      sbRemote: "tcp:172.31.9.2:6642",
      systemIdFile: "/s/nodes/node1/system-id.conf",
      kubeconfig: "/s/kubeconfig",
    });
  const parse = (argv: string[]) => {
    assert.equal(argv[0], "setup-host");
    const flags = new Map(
      argv.slice(1).map((a) => {
        const m = /^--([^=]+)=(.*)$/.exec(a)!;
        return [m[1]!, m[2]!] as const;
      }),
    );
    return desiredHostIds({ string: (name) => flags.get(name) });
  };
  const m = parse(args(true));
  assert.equal(m["ovn-k8s-roles"], "master,minion");
  assert.equal(m["ovn-k8s-watcher-options"], "--kubeconfig=/s/kubeconfig --no-leader-election");
  assert.equal(m["k8s-api-server"], "https://172.31.9.1:6443");
  assert.equal(m["ovn-bridge-datapath-type"], "netdev");
  const n = parse(args(false));
  assert.equal(n["ovn-k8s-roles"], "minion");
  assert.equal(n["ovn-encap-ip"], "172.31.9.12");
  assert.equal(n["ovn-k8s-watcher-options"], undefined);
  assert.equal(n["ovn-k8s-cluster-subnet"], "10.244.0.0/16");
});

/**
 * `ovn-k8s sandbox up|status|down` as a process with the binary's permissions (run from
 * source; the nodes run dist/ovn-k8s, built by compile-ready): up prints progress and the
 * cluster summary, status reports it, kubectl reaches the API server with the kubeconfig,
 * a second up adopts it, down removes everything; bad input exits 2 and starts nothing.
 * Needs root, OVS, OVN and kubectl.
 */
import assert from "node:assert/strict";
import { runOvnK8s } from "../helpers/ovn_k8s_process.ts";

async function netnsWithPrefix(prefix: string): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`${prefix}-`));
}

Deno.test("sandbox up, status, up again, down: the cluster summary, kubectl-ready, and nothing left", async () => {
  const root = await Deno.makeTempDir({ prefix: "ovn-k8s-sandbox-cli-" });
  const prefix = `cli${crypto.randomUUID().slice(0, 6)}`;
  const dir = `${root}/state`;
  try {
    const up = await runOvnK8s([
      "sandbox",
      "up",
      "--nodes=2",
      `--dir=${dir}`,
      `--prefix=${prefix}`,
      "--no-demo",
    ], { timeoutMs: 120_000 });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /^\.\. \[\d+\.\d s\] underlay 172\.31\.\d+\.0\/24/m);
    assert.match(up.stdout, /^\.\. \[\d+\.\d s\] setup-host on node1, node2$/m);
    assert.match(
      up.stdout,
      /^cluster ".*": API server https:\/\/172\.31\.\d+\.1:6443 \(supervisor pid \d+\)/m,
    );
    assert.match(up.stdout, /^ {2}node1 +172\.31\.\d+\.11 +master,minion +run pid \d+ +cni ready/m);
    assert.match(up.stdout, /^ {2}node2 +172\.31\.\d+\.12 +minion +run pid \d+ +cni ready/m);
    assert.match(up.stdout, new RegExp(`export KUBECONFIG=${dir}/kubeconfig`));

    const st = await runOvnK8s(["sandbox", "status", `--dir=${dir}`, "--json"]);
    assert.equal(st.code, 0, st.stdout + st.stderr);
    const status = JSON.parse(st.stdout);
    assert.equal(status.prefix, prefix);
    assert.deepEqual(status.chassis.map((c: { name: string }) => c.name), ["node1", "node2"]);
    assert.equal(status.databases.nb.ok, true);
    assert.equal(status.cluster.master, "node1");

    const nodes = await new Deno.Command("kubectl", {
      args: ["get", "nodes", "-o", "name"],
      env: { KUBECONFIG: `${dir}/kubeconfig`, HOME: root },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(nodes.code, 0, `kubectl get nodes: ${dec.decode(nodes.stderr)}`);
    assert.equal(dec.decode(nodes.stdout), "node/node1\nnode/node2\n");

    const again = await runOvnK8s(["sandbox", "up", `--dir=${dir}`, `--prefix=${prefix}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /sandbox is already up/);
    assert.equal((await netnsWithPrefix(prefix)).length, 4);

    const down = await runOvnK8s(["sandbox", "down", `--dir=${dir}`]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await netnsWithPrefix(prefix), []);
    assert.equal(await Deno.stat(dir).then(() => true, () => false), false);
    const gone = await runOvnK8s(["sandbox", "status", `--dir=${dir}`]);
    assert.equal(gone.code, 3);
    assert.match(gone.stdout, /no sandbox in/);
  } finally {
    await runOvnK8s(["sandbox", "down", `--dir=${dir}`]);
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("sandbox up rejects bad input with exit 2 and starts nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "ovn-k8s-sandbox-bad-" });
  const prefix = `bad${crypto.randomUUID().slice(0, 6)}`;
  try {
    const cases: Array<[string[], RegExp]> = [
      [["--nodes=many"], /--nodes "many": give a number 1-50/],
      [["--prefix=Has_Upper"], /sandbox prefix "Has_Upper": use 1-12 characters/],
      [["--underlay=127.0.0.0/24"], /--underlay 127\.0\.0\.0\/24: it collides with this machine's/],
      [["--underlay=10.1.2.3/24"], /host bits are set; did you mean 10\.1\.2\.0\/24/],
      [["sideways"], /unexpected argument "sideways"/],
    ];
    for (const [flags, message] of cases) {
      const r = await runOvnK8s([
        "sandbox",
        "up",
        `--dir=${root}/state`,
        ...(flags[0]!.startsWith("--prefix") ? [] : [`--prefix=${prefix}`]),
        ...flags,
      ]);
      assert.equal(r.code, 2, `${flags}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.deepEqual(await netnsWithPrefix(prefix), []);
      assert.deepEqual([...Deno.readDirSync(root)], [], `${flags} created files`);
    }
  } finally {
    await runOvnK8s(["sandbox", "down", `--dir=${root}/state`]);
    await Deno.remove(root, { recursive: true });
  }
});

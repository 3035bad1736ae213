// deno-lint-ignore-file no-console
/**
 * `deno task bench node_init`: the NB and OVS side of minion-init for N nodes on fresh
 * private ovsdb-servers (NB and one host's Open_vSwitch; host `ip` commands go to a fake
 * runner), against a baseline measured in the same run: the same node objects written
 * the way the original did, one `ovn-nbctl` process per command (reference §6.3: lrp-add,
 * ls-add, two sets, lsp-add + set for stor-, lsp-add + lsp-set-addresses for k8s-, a get
 * of the router MAC, the two LB attaches). Also the re-run of every init (no NB write).
 *
 * Usage: deno run -A bench/node_init.ts [--nodes N]
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Runner } from "../src/exec/mod.ts";
import { silentLogger } from "../src/log/mod.ts";
import { connectOvsdb } from "../src/roles/_local_ovs.ts";
import { initNode, type NodeInitOptions } from "../src/roles/_node_init.ts";
import { DEFAULT_NB_SSL } from "../src/roles/_local_ovs.ts";
import { Ipv4Cidr } from "../src/net/mod.ts";
import { confinedCniFs } from "../tests/helpers/confined_fs.ts";
import { killPidfile, NB_SCHEMA, run, startOvsdbServer } from "./_common.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { nodes: { type: "string", default: "30" } },
});
const N = Number(values.nodes);

/** A private ovsdb-server on a unix socket; returns the remote and a stop function. */
async function server(dir: string, schema: string, name: string) {
  const sock = await startOvsdbServer(dir, name, schema);
  return { remote: `unix:${sock}`, stop: () => killPidfile(`${dir}/${name}.pid`) };
}

const fakeIp: Runner = {
  run: (argv) => Promise.resolve({ code: 0, stdout: argv.includes("-j") ? "[]" : "", stderr: "" }),
};

const dir = await Deno.makeTempDir({ prefix: "ovnk8s-bench-init-" });
const stops: (() => Promise<void>)[] = [];
try {
  // Baseline: the original's per-command ovn-nbctl calls for N node switches.
  const base = await server(dir, NB_SCHEMA, "nb0");
  stops.push(base.stop);
  const nbctl = async (...a: string[]) =>
    (await run(["ovn-nbctl", `--db=${base.remote}`, "--timeout=5", ...a])).trim();
  await nbctl(
    "lr-add",
    "r",
    "--",
    "set",
    "logical_router",
    "r",
    "external_ids:k8s-cluster-router=yes",
  );
  const tcp = await nbctl("create", "load_balancer", "external_ids:k8s-cluster-lb-tcp=yes");
  const udp = await nbctl(
    "create",
    "load_balancer",
    "external_ids:k8s-cluster-lb-udp=yes",
    "protocol=udp",
  );
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const n = `n${i}`, net = `10.${i >> 8}.${i & 255}`;
    const mac = `00:00:00:00:${(i >> 8).toString(16).padStart(2, "0")}:${
      (i & 255).toString(16).padStart(2, "0")
    }`;
    await nbctl("--", "--may-exist", "lrp-add", "r", `rtos-${n}`, mac, `${net}.1/24`);
    await nbctl("--may-exist", "ls-add", n);
    await nbctl("set", "logical_switch", n, `other-config:subnet=${net}.0/24`);
    await nbctl("set", "logical_switch", n, `external-ids:gateway_ip=${net}.1/24`);
    await nbctl("--may-exist", "lsp-add", n, `stor-${n}`);
    await nbctl(
      "set",
      "logical_switch_port",
      `stor-${n}`,
      "type=router",
      `options:router-port=rtos-${n}`,
      `addresses="${mac}"`,
    );
    await nbctl("get", "logical_router_port", `rtos-${n}`, "mac");
    await nbctl("--may-exist", "lsp-add", n, `k8s-${n}`);
    await nbctl(
      "lsp-set-addresses",
      `k8s-${n}`,
      `0a:58:00:00:00:${(i & 255).toString(16).padStart(2, "0")} ${net}.2`,
    );
    await nbctl("set", "logical_switch", n, `load_balancer=${tcp}`);
    await nbctl("add", "logical_switch", n, "load_balancer", udp);
  }
  const origMs = (performance.now() - t0) / N;

  // Ours: initNode (NB read + one transaction, OVS read + one transaction, fake ip).
  const nb = await server(dir, NB_SCHEMA, "nb1");
  stops.push(nb.stop);
  const ovs = await server(dir, "/usr/share/openvswitch/vswitch.ovsschema", "ovs");
  stops.push(ovs.stop);
  await run([
    "ovs-vsctl",
    `--db=${ovs.remote}`,
    "--no-wait",
    "init",
    "--",
    "set",
    "Open_vSwitch",
    ".",
    `external_ids:ovn-nb=${nb.remote}`,
    "external_ids:system-id=bench",
  ]);
  const deps = {
    runner: fakeIp,
    connect: connectOvsdb,
    readTextFile: (p: string) => Deno.readTextFile(p),
    // No CNI install here (no `cni` option); any file write outside the temp dir throws.
    fs: confinedCniFs(dir),
    log: silentLogger,
  };
  const opts = (i: number, role: "master" | "minion"): NodeInitOptions => ({
    role,
    node: `n${i}`,
    clusterSubnet: Ipv4Cidr.parse("10.0.0.0/8"),
    nodeSubnet: Ipv4Cidr.parse(`10.${i >> 8}.${i & 255}.0/24`),
    nodeSubnetSize: 24,
    mtu: 1400,
    managementInterface: `k8s-n${i}`,
    ovsDb: ovs.remote,
    nbSsl: DEFAULT_NB_SSL,
    timeoutMs: 10_000,
    subnetFlag: "--node-subnet",
  });
  await initNode(opts(0, "master"), deps);
  t0 = performance.now();
  for (let i = 1; i <= N; i++) await initNode(opts(i, "minion"), deps);
  const oursMs = (performance.now() - t0) / N;
  t0 = performance.now();
  for (let i = 1; i <= N; i++) {
    const r = await initNode(opts(i, "minion"), deps);
    if (r.nbWrites !== 0 || r.ovsWrites !== 0) throw new Error(`re-run of n${i} wrote`);
  }
  const rerunMs = (performance.now() - t0) / N;

  console.log(
    `node_init: ${N} nodes, ovsdb-server ${
      (await run(["ovsdb-server", "--version"])).split("\n")[0]
    }`,
  );
  console.log(`  original, one ovn-nbctl per command (11 per node): ${origMs.toFixed(1)} ms/node`);
  console.log(
    `  ours, initNode (NB read + 1 txn, OVS read + 1 txn): ${oursMs.toFixed(1)} ms/node  (${
      (origMs / oursMs).toFixed(1)
    }x faster)`,
  );
  console.log(
    `  ours, re-run (reads only, no write):                ${rerunMs.toFixed(1)} ms/node  (${
      (origMs / rerunMs).toFixed(1)
    }x faster)`,
  );
} finally {
  for (const s of stops) await s().catch(() => {});
  await new Promise((r) => setTimeout(r, 200));
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

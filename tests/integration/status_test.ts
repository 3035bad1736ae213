/**
 * `ovn-k8s status` on the sandbox (hosts in namespaces, userspace datapath), running the
 * real binary (`dist/ovn-k8s`, built by `deno task compile-ready`; `OVN_K8S_BIN` names
 * another launcher) inside a node namespace as an operator would:
 *
 * 1. node1 is the master (setup-host --roles master, master-init), node2 a minion
 *    (setup-host --roles minion, minion-init with private CNI directories);
 * 2. `status` on node2 reports every configured part ok (text and `--json`), exit 0;
 * 3. with node2's ovn-controller stopped: a FAIL ovn-controller line, exit 1;
 * 4. with `ovn-nb` pointed at a dead port: a FAIL nb line, within the bound, exit 1;
 * 5. node1 also made central (its daemons started with `central --one-shot` in private
 *    directories named by `ovn-k8s-central-options`): an ok central line, and a FAIL
 *    watcher line (a master whose watcher is not running), exit 1.
 *
 * Needs root, OVS and OVN.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log/mod.ts";
import { type LabNode, startLab } from "../../src/sandbox/mod.ts";
import { checkPrivatePaths } from "../helpers/confined_fs.ts";

const OVN_K8S = Deno.env.get("OVN_K8S_BIN") ??
  new URL("../../dist/ovn-k8s", import.meta.url).pathname;

async function ovnK8s(n: LabNode, args: string[]) {
  checkPrivatePaths(args);
  return await n.exec([OVN_K8S, ...args], { check: false, timeoutMs: 90_000 });
}

async function ok(n: LabNode, args: string[]): Promise<string> {
  const r = await ovnK8s(n, args);
  assert.equal(r.code, 0, `${n.name}: ovn-k8s ${args.join(" ")}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function pollUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

Deno.test("status on a minion: all ok (exit 0), then FAIL lines (exit 1) for a stopped ovn-controller and a dead ovn-nb", async () => {
  try {
    await Deno.stat(OVN_K8S);
  } catch {
    throw new Error(`${OVN_K8S} is missing: build it with deno task compile-ready`);
  }
  await using lab = await startLab({
    nodes: 2,
    prefix: `sts${crypto.randomUUID().slice(0, 5)}`,
    log: silentLogger,
  });
  const [n1, n2] = lab.nodes as [LabNode, LabNode];
  const nb = lab.central.nbRemote;
  const cni = [
    `--cni-bin-dir=${lab.dir}/node2/cni/bin`,
    `--cni-conf-dir=${lab.dir}/node2/cni/net.d`,
  ];
  for (const [n, role] of [[n1, "master"], [n2, "minion"]] as const) {
    await ok(n, [
      "setup-host",
      `--ovn-nb=${nb}`,
      `--roles=${role}`,
      `--node-name=${n.name}`,
      `--system-id-file=${lab.dir}/${n.name}/system-id.conf`,
    ]);
  }
  await ok(n1, [
    "master-init",
    "--cluster-ip-subnet=10.244.0.0/16",
    "--master-switch-subnet=10.244.1.0/24",
    "--node-name=node1",
  ]);
  await ok(n2, [
    "minion-init",
    "--cluster-ip-subnet=10.244.0.0/16",
    "--minion-switch-subnet=10.244.2.0/24",
    "--node-name=node2",
    ...cni,
  ]);

  // Healthy once ovn-controller has bound the management port.
  const status = (extra: string[] = []) => ovnK8s(n2, ["status", ...cni, ...extra]);
  let last = { code: -1, stdout: "", stderr: "" };
  await pollUntil("status on node2 to be healthy", async () => {
    last = await status();
    return last.code === 0;
  }).catch((err) => {
    throw new Error(`${(err as Error).message}:\n${last.stdout}\n${last.stderr}`);
  });
  const text = last.stdout;
  assert.match(text, /^ovn-k8s status of node2 \(local OVSDB unix:.*db\.sock\)$/m);
  assert.match(text, /^ {2}roles: minion \(configured\)$/m);
  assert.match(text, new RegExp(`^ {2}ovn-nb: ${nb}$`, "m"));
  assert.match(text, /^ok +local OVSDB /m);
  assert.match(text, /^ok +br-int +present, datapath netdev/m);
  assert.match(
    text,
    /^ok +management port +k8s-node2 ofport \d+ mac 0a:58:0a:f4:02:02 ovn-installed$/m,
  );
  assert.match(text, /^ok +ovn-controller +running, connected to SB$/m);
  assert.match(
    text,
    new RegExp(`^ok +chassis +node2 registered, encap geneve ${n2.underlayIp}$`, "m"),
  );
  assert.match(
    text,
    /^ok +nb +ovn_cluster_router, switch node2 10\.244\.2\.0\/24, port rtos-node2 10\.244\.2\.1\/24, k8s-node2 up$/m,
  );
  assert.match(text, /^- +watcher +not a role$/m);
  assert.match(text, new RegExp(`^ok +cni +${lab.dir}/node2/cni/net\\.d/10-net\\.conf, `, "m"));
  assert.doesNotMatch(text, /^FAIL/m);

  // Checks expected to pass get a bound a busy host cannot reach (the default is 5 s).
  const json = await status(["--json", "--timeout=20"]);
  assert.equal(json.code, 0, json.stderr);
  const j = JSON.parse(json.stdout);
  assert.equal(j.healthy, true);
  assert.deepEqual(j.roles, ["minion"]);
  assert.equal(j.settings["system-id"], "node2");
  assert.equal(j.checks.find((c: { name: string }) => c.name === "chassis").state, "ok");

  // ovn-controller stopped: its line fails, the exit code says unhealthy.
  assert.ok(await n2.daemons.controller.stop({ timeoutMs: 20_000 }));
  const down = await status(["--timeout=20"]);
  assert.equal(down.code, 1, down.stdout + down.stderr);
  assert.match(down.stdout, /^FAIL +ovn-controller +not running or not answering: /m);
  assert.match(down.stdout, /^ok +nb /m);

  // ovn-nb pointed at a port nothing listens on: the nb line fails, bounded by --timeout.
  await ok(n2, [
    "setup-host",
    `--ovn-nb=tcp:${nb.replace(/^tcp:|:\d+$/g, "")}:1`,
    `--system-id-file=${lab.dir}/node2/system-id.conf`,
  ]);
  const dead = await status(["--timeout=2"]);
  assert.equal(dead.code, 1, dead.stdout + dead.stderr);
  assert.match(dead.stdout, /^FAIL +nb +NB at tcp:[\d.]+:1: /m);
});

Deno.test("status on a central master: central ok from its pidfiles, watcher FAIL when not running", async () => {
  await Deno.stat(OVN_K8S);
  await using lab = await startLab({
    nodes: 1,
    prefix: `stc${crypto.randomUUID().slice(0, 5)}`,
    configureOvn: false,
    log: silentLogger,
  });
  const n1 = lab.nodes[0]!;
  const c = `${lab.dir}/node1/central`;
  const dirs = [`--data-dir=${c}/data`, `--run-dir=${c}/run`, `--log-dir=${c}/log`];
  await ok(n1, [
    "setup-host",
    "--ovn-nb=tcp:127.0.0.1:6641",
    "--roles=central,master",
    "--node-name=node1",
    `--central-options=${dirs.join(" ")}`,
    "--watcher-options=--metrics-address=127.0.0.1:9476",
    `--system-id-file=${lab.dir}/node1/system-id.conf`,
  ]);
  // Before the daemons run: central configured but down.
  const before = await ovnK8s(n1, ["status", "--timeout=2"]);
  assert.equal(before.code, 1, before.stdout + before.stderr);
  assert.match(
    before.stdout,
    new RegExp(
      `^FAIL +central +ovnnb_db DOWN, ovnsb_db DOWN, ovn-northd DOWN \\(pidfiles in ${c}/run\\)$`,
      "m",
    ),
  );
  try {
    await ok(n1, ["central", "--one-shot", "--listen-address=127.0.0.1", ...dirs]);
    // 20 s: the central and nb checks must answer (the watcher port refuses at once).
    const r = await ovnK8s(n1, ["status", "--timeout=20"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}roles: central,master \(configured\)$/m);
    assert.match(
      r.stdout,
      /^ok +central +ovnnb_db pid \d+, ovnsb_db pid \d+, ovn-northd pid \d+$/m,
    );
    assert.match(r.stdout, /^FAIL +watcher +http:\/\/127\.0\.0\.1:9476\/healthz: /m);
    // master-init has not run: no cluster router yet.
    assert.match(r.stdout, /^FAIL +nb +no ovn_cluster_router; run master-init/m);
  } finally {
    await ovnK8s(n1, ["central", "--stop", ...dirs]);
  }
});

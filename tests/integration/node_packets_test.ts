/**
 * Proof with packets, on the sandbox (hosts in namespaces, userspace datapath, geneve),
 * running the real binary (`dist/ovn-k8s`, built by `deno task compile-ready`) inside
 * each node namespace as a systemd unit would:
 *
 * 1. setup-host, master-init on node1 and minion-init on node2 and node3; every node's
 *    management port pings the others' across the tunnel; a re-run of every init commits
 *    nothing (`nb-writes=0`) and leaves every NB row's `_version` unchanged.
 * 2. `run` on each node with only `external_ids` set (by setup-host) reaches the same
 *    state: node1 runs central (supervised), master and minion in the foreground as its
 *    unit would; node2 and node3 `run --once` as minions with auto subnets and the
 *    cluster subnet read from NB; pings; a re-run writes nothing; SIGTERM ends node1's run.
 *
 * Needs root, OVS and OVN.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log/mod.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import { type Lab, type LabNode, startLab } from "../../src/sandbox/mod.ts";
import { checkPrivatePaths } from "../helpers/confined_fs.ts";

/** The launcher systemd units run. */
export const OVN_K8S = new URL("../../dist/ovn-k8s", import.meta.url).pathname;

async function requireBinary(): Promise<void> {
  try {
    await Deno.stat(OVN_K8S);
  } catch {
    throw new Error(`${OVN_K8S} is missing: build it with deno task compile-ready`);
  }
}

/** Runs the binary in a node; returns exit code and output. */
export async function ovnK8s(n: LabNode, args: string[]) {
  checkPrivatePaths(args);
  const r = await n.exec([OVN_K8S, ...args], { check: false, timeoutMs: 90_000 });
  return r;
}

async function ok(n: LabNode, args: string[]): Promise<string> {
  const r = await ovnK8s(n, args);
  assert.equal(r.code, 0, `${n.name}: ovn-k8s ${args.join(" ")}\n${r.stderr}`);
  return r.stdout;
}

/** Polls until `fn` is true. */
export async function pollUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Each node's management port pings every other node's management address. */
export async function pingMesh(lab: Lab, addresses: Map<string, string>): Promise<void> {
  await lab.prePing();
  for (const from of lab.nodes) {
    for (const [to, ip] of addresses) {
      if (to === from.name) continue;
      await pollUntil(
        `${from.name} -> ${to} (${ip})`,
        async () =>
          (await from.exec(["ping", "-c1", "-W1", "-q", ip], { check: false })).code === 0,
      );
      // Once the path is up, three more in a row must all come back.
      const r = await from.exec(["ping", "-c3", "-i0.2", "-W2", "-q", ip], { check: false });
      assert.equal(r.code, 0, `${from.name} -> ${to} (${ip}): ${r.stdout}`);
    }
  }
}

/** `table/name -> _version` of the NB rows the inits own. */
export async function nbVersions(remote: string): Promise<Map<string, string>> {
  await using db = await OvsdbClient.connect({
    remotes: remote,
    database: "OVN_Northbound",
    timeoutMs: 10_000,
  });
  const tables = [
    "Logical_Router",
    "Logical_Router_Port",
    "Logical_Switch",
    "Logical_Switch_Port",
    "Load_Balancer",
  ];
  const res = await db.transact(tables.map((t) => ({
    op: "select" as const,
    table: t,
    where: [],
    columns: ["_uuid", "_version", "name"],
  })));
  const out = new Map<string, string>();
  res.forEach((r, i) => {
    for (const row of r.rows ?? []) {
      out.set(`${tables[i]}/${row.name || row._uuid}`, String(row._version));
    }
  });
  return out;
}

/** Waits until northd has marked every management port up (it writes `up` to NB). */
async function managementPortsUp(remote: string, count: number): Promise<void> {
  await using db = await OvsdbClient.connect({
    remotes: remote,
    database: "OVN_Northbound",
    timeoutMs: 10_000,
  });
  await pollUntil("management ports up in NB", async () => {
    const [r] = await db.transact([{
      op: "select",
      table: "Logical_Switch_Port",
      where: [],
      columns: ["name", "up"],
    }]);
    const rows = (r?.rows ?? []).filter((x) => String(x.name).startsWith("k8s-"));
    return rows.length === count && rows.every((x) => (x.up as unknown[])[0] === true);
  });
}

Deno.test("master-init + 2 minion-inits: management ports ping across geneve; re-runs write nothing", async () => {
  await requireBinary();
  await using lab = await startLab({
    nodes: 3,
    prefix: `npk${crypto.randomUUID().slice(0, 5)}`,
    log: silentLogger,
  });
  const nbRemote = lab.central.nbRemote;
  const cni = (n: LabNode) => [
    `--cni-bin-dir=${lab.dir}/${n.name}/cni/bin`,
    `--cni-conf-dir=${lab.dir}/${n.name}/cni/net.d`,
  ];
  const initArgs = (n: LabNode, i: number): string[] =>
    i === 0
      ? [
        "master-init",
        "--cluster-ip-subnet=10.244.0.0/16",
        "--master-switch-subnet=10.244.1.0/24",
        `--node-name=${n.name}`,
        "--service-cluster-ip-range=10.96.0.0/16",
      ]
      : [
        "minion-init",
        "--cluster-ip-subnet=10.244.0.0/16",
        `--minion-switch-subnet=10.244.${i + 1}.0/24`,
        `--node-name=${n.name.toUpperCase()}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        ...cni(n),
      ];
  for (const [i, n] of lab.nodes.entries()) {
    await ok(n, [
      "setup-host",
      `--ovn-nb=${nbRemote}`,
      `--system-id-file=${lab.dir}/${n.name}/system-id.conf`,
    ]);
    const out = await ok(n, initArgs(n, i));
    assert.match(out, new RegExp(`node=${n.name} subnet=10\\.244\\.${i + 1}\\.0/24 nb-writes=1`));
  }
  // The system-id the lab gave each chassis was kept (and recorded in the file).
  for (const n of lab.nodes) {
    assert.equal((await Deno.readTextFile(`${lab.dir}/${n.name}/system-id.conf`)).trim(), n.name);
  }
  // Host side of node2: address, routes, CNI files.
  const n2 = lab.nodes[1]!;
  const addr = await n2.exec(["ip", "-4", "-o", "addr", "show", "dev", "k8s-node2"]);
  assert.match(addr.stdout, /inet 10\.244\.2\.2\/24/);
  // The tap OVS made carries the MAC pinned in the interface's `mac` column and the MTU.
  const link = (await n2.exec(["ip", "-o", "link", "show", "dev", "k8s-node2"])).stdout;
  assert.match(link, /mtu 1400 .*link\/ether 0a:58:0a:f4:02:02/);
  const routes = (await n2.exec(["ip", "-4", "route", "show"])).stdout;
  assert.match(routes, /10\.244\.0\.0\/16 via 10\.244\.2\.1 dev k8s-node2/);
  assert.match(routes, /10\.96\.0\.0\/16 via 10\.244\.2\.1 dev k8s-node2/);
  const conf = JSON.parse(await Deno.readTextFile(`${lab.dir}/node2/cni/net.d/10-net.conf`));
  assert.equal(conf.cniVersion, "1.0.0");
  assert.equal(await Deno.readLink(`${lab.dir}/node2/cni/bin/ovn_cni`), OVN_K8S);

  const mgmt = new Map(lab.nodes.map((n, i) => [n.name, `10.244.${i + 1}.2`]));
  await pingMesh(lab, mgmt);

  // Re-run every init through the binary: no NB transaction, no row version change.
  await managementPortsUp(`unix:${lab.central.nbSock}`, 3);
  const before = await nbVersions(`unix:${lab.central.nbSock}`);
  for (const [i, n] of lab.nodes.entries()) {
    assert.match(await ok(n, initArgs(n, i)), /nb-writes=0/);
  }
  assert.deepEqual(await nbVersions(`unix:${lab.central.nbSock}`), before);
  await pingMesh(lab, mgmt);
});

Deno.test("run with only external_ids set (by setup-host) reaches the same state, central included", async () => {
  await requireBinary();
  await using lab = await startLab({
    nodes: 3,
    prefix: `nrn${crypto.randomUUID().slice(0, 5)}`,
    configureOvn: false,
    log: silentLogger,
  });
  // node1 runs the central databases itself (central,master,minion); the others are minions.
  const [n1, n2, n3] = lab.nodes as [LabNode, LabNode, LabNode];
  const nb = `tcp:${n1.underlayIp}:6641`;
  const sb = `tcp:${n1.underlayIp}:6642`;
  const c = `${lab.dir}/central`;
  for (const [i, n] of lab.nodes.entries()) {
    const setup = [
      "setup-host",
      `--ovn-nb=${nb}`,
      `--ovn-remote=${sb}`,
      `--encap-ip=${n.underlayIp}`,
      "--encap-type=geneve",
      `--system-id-file=${lab.dir}/${n.name}/system-id.conf`,
      "--node-subnet-size=24",
      `--node-name=${n.name}`,
      ...(i === 0
        ? [
          "--roles=central,master,minion",
          "--cluster-ip-subnet=10.200.0.0/16",
          "--node-subnet=auto",
          `--central-options=--data-dir=${c}/data --run-dir=${c}/run --log-dir=${c}/log`,
        ]
        : ["--roles=minion"]),
    ];
    await ok(n, setup);
    assert.match(await ok(n, setup), /nothing to change/, "a second setup-host changes nothing");
  }
  const cni = (n: LabNode) => [
    `--cni-bin-dir=${lab.dir}/${n.name}/cni/bin`,
    `--cni-conf-dir=${lab.dir}/${n.name}/cni/net.d`,
  ];
  // node1: `run` in the foreground, as its systemd unit: central supervised, then inits.
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", n1.netns, OVN_K8S, "run", ...cni(n1)],
    env: { ...n1.env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  // Read stderr from the start: a full pipe would block node1's run (its log goes there).
  const errText = new Response(child.stderr).text();
  let text = "";
  try {
    await pollUntil("node1's run to initialise", async () => {
      const { value, done } = await stdout.read();
      if (done) throw new Error(`run on node1 ended early: ${text}`);
      text += value;
      return /run: roles central,master,minion initialised/.test(text);
    }, 60_000);
    // node2 and node3: roles and node name from external_ids, cluster subnet from NB.
    for (const n of [n2, n3]) {
      assert.match(await ok(n, ["run", "--once", ...cni(n)]), /run: roles minion initialised/);
    }
    // auto: node1 got the first /24, the others the next ones.
    const mgmt = new Map(lab.nodes.map((n, i) => [n.name, `10.200.${i}.2`]));
    for (const [i, n] of lab.nodes.entries()) {
      const addr = await n.exec(["ip", "-4", "-o", "addr", "show", "dev", `k8s-${n.name}`]);
      assert.match(addr.stdout, new RegExp(`inet 10\\.200\\.${i}\\.2/24`));
    }
    await pingMesh(lab, mgmt);
    // Running again changes nothing in NB.
    await managementPortsUp(nb, 3);
    const before = await nbVersions(nb);
    for (const n of [n2, n3]) await ok(n, ["run", "--once", ...cni(n)]);
    assert.deepEqual(await nbVersions(nb), before);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* it ended by itself: the status below says how */ }
    const status = await child.status;
    const err = await errText;
    await stdout.cancel().catch(() => {});
    assert.equal(status.code, 0, `run on node1 exits 0 on SIGTERM: ${err}`);
    // What is not built yet is said, not silently skipped.
    // (Or, once the watcher is built: started, and restarted while no API server answers.)
    assert.match(err, /the watcher is not built yet; not started|starting the watcher role/);
    assert.match(err, /\|roles roles=central,master,minion /);
  }
});

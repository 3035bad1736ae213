/**
 * Node init against a 3-member RAFT central (`ovn-k8s central` in each node namespace):
 * master-init through the member list, then the NB leader is killed while minion-init
 * runs on another node; the minion finds the new leader and completes, and a third node
 * initialises afterwards. All through the real binary. Needs root, OVS and OVN.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log/mod.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import { type LabNode, startLab } from "../../src/sandbox/mod.ts";
import { checkPrivatePaths } from "../helpers/confined_fs.ts";

/** The launcher systemd units run (built by `deno task compile-ready`). */
const OVN_K8S = new URL("../../dist/ovn-k8s", import.meta.url).pathname;

async function ok(n: LabNode, args: string[]): Promise<string> {
  checkPrivatePaths(args);
  const r = await n.exec([OVN_K8S, ...args], { check: false, timeoutMs: 90_000 });
  assert.equal(r.code, 0, `${n.name}: ovn-k8s ${args.join(" ")}\n${r.stderr}`);
  return r.stdout;
}

Deno.test("RAFT central: the NB leader is killed while a minion initialises; it still completes", async () => {
  await Deno.stat(OVN_K8S);
  await using lab = await startLab({
    nodes: 3,
    prefix: `nrf${crypto.randomUUID().slice(0, 5)}`,
    log: silentLogger,
  });
  const ips = lab.nodes.map((n) => n.underlayIp);
  const dir = (i: number) => `${lab.dir}/raft/m${i}`;
  for (const [i, n] of lab.nodes.entries()) {
    await ok(n, [
      "central",
      "--one-shot",
      `--data-dir=${dir(i)}/data`,
      `--run-dir=${dir(i)}/run`,
      `--log-dir=${dir(i)}/log`,
      `--cluster-local-addr=${n.underlayIp}`,
      ...(i === 0 ? [] : [`--cluster-remote-addr=${ips[0]}`]),
    ]);
  }
  const nbList = ips.map((ip) => `tcp:${ip}:6641`).join(",");
  for (const n of lab.nodes) {
    await ok(n, [
      "setup-host",
      `--ovn-nb=${nbList}`,
      `--system-id-file=${lab.dir}/${n.name}/system-id.conf`,
    ]);
  }
  const [n1, n2, n3] = lab.nodes as [LabNode, LabNode, LabNode];
  await ok(n1, [
    "master-init",
    "--cluster-ip-subnet=10.250.0.0/16",
    "--master-switch-subnet=auto",
    `--node-name=${n1.name}`,
  ]);

  // Find the NB leader: the one member that says so (polled: an election may be running,
  // and an old leader may still say so for a moment after a new one is elected).
  let leader = -1;
  let roles: string[] = [];
  for (const deadline = Date.now() + 30_000; leader < 0;) {
    roles = [];
    for (let i = 0; i < 3; i++) {
      const st = await new Deno.Command("ovs-appctl", {
        args: [
          "--timeout=5",
          "-t",
          `${dir(i)}/run/ovnnb_db.ctl`,
          "cluster/status",
          "OVN_Northbound",
        ],
        stdout: "piped",
      }).output();
      roles.push(/^Role: (\S+)$/m.exec(new TextDecoder().decode(st.stdout))?.[1] ?? "?");
    }
    if (roles.filter((r) => r === "leader").length === 1) leader = roles.indexOf("leader");
    else if (Date.now() > deadline) break;
    else await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(leader >= 0, `no single NB leader: ${roles.join(",")}`);
  const pid = Number(await Deno.readTextFile(`${dir(leader)}/run/ovnnb_db.pid`));

  const minion = (n: LabNode) =>
    ok(n, [
      "minion-init",
      "--node-subnet=auto",
      `--node-name=${n.name}`,
      `--cni-bin-dir=${lab.dir}/${n.name}/cni/bin`,
      `--cni-conf-dir=${lab.dir}/${n.name}/cni/net.d`,
      "--nb-timeout=30",
    ]);
  // The leader dies as minion-init starts: it must find the new leader (the election
  // takes about a second) and complete.
  const running = minion(n2);
  Deno.kill(pid, "SIGKILL");
  const out2 = await running;
  assert.match(out2, /node=node2 subnet=10\.250\.1\.0\/24/);
  const out3 = await minion(n3);
  assert.match(out3, /node=node3 subnet=10\.250\.2\.0\/24/);

  // The surviving members hold all three nodes.
  const survivors = ips.filter((_, i) => i !== leader).map((ip) => `tcp:${ip}:6641`).join(",");
  await using nb = await OvsdbClient.connect({
    remotes: survivors,
    database: "OVN_Northbound",
    timeoutMs: 30_000,
  });
  const [sw] = await nb.transact([{
    op: "select",
    table: "Logical_Switch",
    where: [],
    columns: ["name", "other_config"],
  }]);
  const subnets = Object.fromEntries(
    (sw?.rows ?? []).map((r) => [r.name, (r.other_config as Record<string, string>).subnet]),
  );
  assert.deepEqual(subnets, {
    join: undefined,
    node1: "10.250.0.0/24",
    node2: "10.250.1.0/24",
    node3: "10.250.2.0/24",
  });
});

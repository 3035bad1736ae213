/**
 * A 3-member RAFT central, one member per simulated host (sandbox node namespaces), each
 * started by `ovn-k8s central` as a process inside its namespace with the default ports:
 * the members form a cluster, clients get every member, and after the NB leader is killed
 * writes continue through the remote list. Needs root, OVS and OVN.
 */
import assert from "node:assert/strict";
import { startLab } from "../../src/sandbox/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { runCommand } from "../helpers/command.ts";
import { runOvnK8s } from "../helpers/ovn_k8s_process.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";

/** Runs a command with a 60 s deadline (RAFT members take their time). */
const run = (argv: string[]) => runCommand(argv, 60_000);

/** Whether the `--ovnnb-db=` list in a NUL-separated cmdline has the same members as `list`. */
function sameSet(cmdline: string, list: string): boolean {
  const arg = cmdline.split("\0").find((a) => a.startsWith("--ovnnb-db="));
  return arg !== undefined &&
    arg.slice("--ovnnb-db=".length).split(",").sort().join(",") ===
      list.split(",").sort().join(",");
}

Deno.test("central RAFT: 3 members form NB and SB clusters; writes and northd continue after the NB leader is killed", async () => {
  await using lab = await startLab({
    nodes: 3,
    prefix: `rft${crypto.randomUUID().slice(0, 5)}`,
    configureOvn: false,
    log: silentLogger,
  });
  const ips = lab.nodes.map((n) => n.underlayIp);
  const dirs = (i: number) => {
    const d = `${lab.dir}/raft/m${i}`;
    return [`--data-dir=${d}/data`, `--run-dir=${d}/run`, `--log-dir=${d}/log`];
  };
  const outputs: string[] = [];
  for (const [i, n] of lab.nodes.entries()) {
    const r = await runOvnK8s([
      "central",
      "--one-shot",
      ...dirs(i),
      `--cluster-local-addr=${n.underlayIp}`,
      ...(i === 0 ? [] : [`--cluster-remote-addr=${ips[0]}`]),
    ], { netns: n.netns });
    assert.equal(r.code, 0, `member ${i + 1}: ${r.stderr}`);
    outputs.push(r.stdout);
  }
  // The last member to join knows every member and hands clients all of them.
  const nbList = /^ovn-nb=(.*)$/m.exec(outputs[2]!)?.[1] ?? "";
  const sbList = /^ovn-remote=(.*)$/m.exec(outputs[2]!)?.[1] ?? "";
  assert.deepEqual(nbList.split(",").sort(), ips.map((ip) => `tcp:${ip}:6641`).sort());
  assert.deepEqual(sbList.split(",").sort(), ips.map((ip) => `tcp:${ip}:6642`).sort());

  // Re-running central on a member adopts its databases; the first member's northd is
  // restarted once so that it follows every member (it started when it was alone).
  for (const [i, n] of lab.nodes.entries()) {
    const r = await runOvnK8s([
      "central",
      "--one-shot",
      ...dirs(i),
      `--cluster-local-addr=${n.underlayIp}`,
      ...(i === 0 ? [] : [`--cluster-remote-addr=${ips[0]}`]),
    ], { netns: n.netns });
    assert.equal(r.code, 0, `member ${i + 1} again: ${r.stderr}`);
    assert.match(r.stdout, /nb adopted, sb adopted, northd (adopted|started)/);
    const cmdline = await Deno.readTextFile(
      `/proc/${
        (await Deno.readTextFile(`${lab.dir}/raft/m${i}/run/ovn-northd.pid`)).trim()
      }/cmdline`,
    );
    assert.ok(cmdline.includes(`--ovnnb-db=${nbList}`) || sameSet(cmdline, nbList), cmdline);
  }

  // One long-lived client, as a role holds it: writes before and after the leader dies.
  await using nb = await OvsdbClient.connect({
    remotes: nbList,
    database: "OVN_Northbound",
    timeoutMs: 30_000,
    requestTimeoutMs: 30_000,
  });
  const insert = (name: string) =>
    nb.transact([{ op: "insert", table: "Logical_Switch", row: { name } }]);
  await insert("before");

  // Find and kill the NB leader.
  const ctl = (i: number) => `${lab.dir}/raft/m${i}/run/ovnnb_db.ctl`;
  /** The one member (of `among`) that says it is NB leader; polled: an election may run. */
  const nbLeader = async (among: number[]): Promise<number> => {
    const deadline = Date.now() + 30_000;
    let seen = "";
    for (;;) {
      const roles: string[] = [];
      for (const i of among) {
        const st = await run([
          "ovs-appctl",
          "--timeout=5",
          "-t",
          ctl(i),
          "cluster/status",
          "OVN_Northbound",
        ]);
        assert.equal(st.code, 0, st.stderr);
        assert.match(st.stdout, /Status: cluster member/);
        roles.push(/^Role: (\S+)$/m.exec(st.stdout)?.[1] ?? "?");
      }
      const leaders = among.filter((_, k) => roles[k] === "leader");
      if (leaders.length === 1) return leaders[0]!;
      seen = roles.join(",");
      if (Date.now() > deadline) throw new Error(`no single NB leader among ${among}: ${seen}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  // The client should be on the leader (leaderOnly). A spurious election under load may
  // move the leadership, and the client follows a moment later: compare until they agree.
  let leader: number;
  const agreeBy = Date.now() + 30_000;
  for (;;) {
    leader = await nbLeader([0, 1, 2]);
    if (nb.remote === `tcp:${ips[leader]}:6641`) break;
    if (Date.now() > agreeBy) {
      assert.fail(`the client is on ${nb.remote}, not on the NB leader ${ips[leader]}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = Number(await Deno.readTextFile(`${lab.dir}/raft/m${leader}/run/ovnnb_db.pid`));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const disconnected = Promise.race([
    new Promise((resolve) => nb.on("disconnect", resolve)),
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the client did not see the killed NB leader go in 30 s")),
        30_000,
      );
    }),
  ]);
  Deno.kill(pid, "SIGKILL");
  await disconnected.finally(() => clearTimeout(timer));

  await insert("after");
  assert.notEqual(nb.remote, `tcp:${ips[leader]}:6641`);
  const [sel] = await nb.transact([{
    op: "select",
    table: "Logical_Switch",
    where: [],
    columns: ["name"],
  }]);
  const names = ((sel as { rows?: Array<{ name: string }> }).rows ?? []).map((r) => r.name).sort();
  assert.deepEqual(names, ["after", "before"]);
  // northd still turns NB into SB: the active one follows the new NB leader.
  const deadline = Date.now() + 30_000;
  let sbText = "";
  while (!/name=after/.test(sbText) && Date.now() < deadline) {
    sbText = (await run([
      "ovn-sbctl",
      `--db=${sbList}`,
      "--no-leader-only",
      "--timeout=10",
      "--columns=external_ids",
      "list",
      "Datapath_Binding",
    ])).stdout;
    if (!/name=after/.test(sbText)) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(sbText, /name=after/, "northd did not translate the switch written after failover");
  // A surviving member is the new leader (nbLeader throws when none is within 30 s).
  await nbLeader([0, 1, 2].filter((i) => i !== leader));
});

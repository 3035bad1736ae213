/**
 * master-init, minion-init, setup-host and run in-process against real ovsdb-servers
 * (OVN NB and a host's Open_vSwitch database); host commands (`ip`) go to a recording
 * fake. Proves: the objects and ids the original made; a re-run commits no NB
 * transaction and leaves every row's `_version` unchanged; a changed subnet moves the
 * router port; bad input exits 2 and writes nothing; `--node-subnet auto` gives nodes
 * initialising at once different subnets. Needs ovsdb-server (no root, no namespaces).
 */
import assert from "node:assert/strict";
import { exitCodeOf } from "../../src/cli/mod.ts";
import { pollUntil } from "../../src/daemons/wait.ts";
import type { Runner, RunOptions, RunResult } from "../../src/exec/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { hasWrites, nbStateReadOps, parseNbState, subnetGuardOp } from "../../src/ovn/mod.ts";
import { type Operation, OvsdbClient, OvsdbError } from "../../src/ovsdb/mod.ts";
import { connectOvsdb, type DbConnector } from "../../src/roles/_local_ovs.ts";
import type { NodeInitDeps } from "../../src/roles/_node_init.ts";
import type { RoleContext } from "../../src/roles/context.ts";
import { runMasterInit } from "../../src/roles/master_init.ts";
import { runMinionInit } from "../../src/roles/minion_init.ts";
import { planRun, runRun } from "../../src/roles/run.ts";
import { runSetupHost } from "../../src/roles/setup_host.ts";
import { NB_SCHEMA, type OvsdbServer, startOvsdbServer } from "../helpers/ovsdb_server.ts";
import {
  checkPrivatePaths,
  confinedCniFs,
  confinedWriteFile,
  ConfinementError,
} from "../helpers/confined_fs.ts";

const OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

/** A runner that answers `ip` like a host where every link exists and has no address. */
class FakeIp implements Runner {
  calls: string[][] = [];
  run(argv: readonly string[], _opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    const stdout = argv.includes("-j") ? "[]" : "";
    return Promise.resolve({ code: 0, stdout, stderr: "" });
  }
}

/** Counts transactions that write, per database. */
function countingConnector(counts: Map<string, number>): DbConnector {
  return async (opts) => {
    const db = await connectOvsdb(opts);
    return {
      transact: (ops: readonly Operation[], o?: { timeoutMs?: number }) => {
        if (hasWrites(ops)) counts.set(opts.database, (counts.get(opts.database) ?? 0) + 1);
        return db.transact(ops, o);
      },
      close: () => db.close(),
    };
  };
}

function ctx(out: string[] = [], signal = new AbortController().signal): RoleContext {
  return { signal, env: () => undefined, log: silentLogger, stdout: (t) => out.push(t) };
}

interface Host {
  ovs: OvsdbServer;
  dir: string;
  ip: FakeIp;
  counts: Map<string, number>;
  deps: NodeInitDeps;
  ovsDb: string;
}

async function newHost(): Promise<Host> {
  const ovs = await startOvsdbServer({ schema: OVS_SCHEMA });
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-nodeinit-" });
  const ip = new FakeIp();
  const counts = new Map<string, number>();
  const deps: NodeInitDeps = {
    runner: ip,
    connect: countingConnector(counts),
    readTextFile: (p) => Deno.readTextFile(p),
    // Writes outside the host's temp dir throw: no test may touch /opt/cni or /etc/cni.
    fs: confinedCniFs(dir),
    log: silentLogger,
    sleep: () => Promise.resolve(),
  };
  return { ovs, dir, ip, counts, deps, ovsDb: ovs.remotes("unix") };
}

async function dispose(h: Host): Promise<void> {
  await h.ovs.stop();
  await Deno.remove(h.dir, { recursive: true }).catch(() => {});
}

async function setupHost(h: Host, nb: string, extra: string[] = []): Promise<void> {
  const code = await runSetupHost(
    [
      `--ovs-db=${h.ovsDb}`,
      `--ovn-nb=${nb}`,
      "--ovn-remote=tcp:127.0.0.1:6642",
      "--encap-ip=172.31.9.11",
      `--system-id-file=${h.dir}/system-id.conf`,
      ...extra,
    ],
    ctx(),
    {
      connect: connectOvsdb,
      readTextFile: (p) => Deno.readTextFile(p),
      writeFileAtomic: confinedWriteFile(h.dir),
      newId: () => crypto.randomUUID(),
    },
  );
  assert.equal(code, 0);
}

/** Every NB row we care about as `table/name -> _version`. */
async function nbVersions(nb: string): Promise<Map<string, string>> {
  await using db = await OvsdbClient.connect({
    remotes: nb,
    database: "OVN_Northbound",
    timeoutMs: 30_000,
  });
  const tables = ["Logical_Router", "Logical_Router_Port", "Logical_Switch", "Logical_Switch_Port"];
  const res = await db.transact(tables.map((t) => ({
    op: "select" as const,
    table: t,
    where: [],
    columns: ["_uuid", "_version", "name"],
  })));
  const lbs = await db.transact([{
    op: "select",
    table: "Load_Balancer",
    where: [],
    columns: ["_uuid", "_version"],
  }]);
  const out = new Map<string, string>();
  res.forEach((r, i) => {
    for (const row of r.rows ?? []) out.set(`${tables[i]}/${row.name}`, String(row._version));
  });
  for (const row of lbs[0]?.rows ?? []) out.set(`Load_Balancer/${row._uuid}`, String(row._version));
  return out;
}

async function nbSelect(nb: string, table: string, name: string): Promise<Record<string, unknown>> {
  await using db = await OvsdbClient.connect({
    remotes: nb,
    database: "OVN_Northbound",
    timeoutMs: 30_000,
  });
  const [r] = await db.transact([{ op: "select", table, where: [["name", "==", name]] }]);
  const row = r?.rows?.[0];
  assert.ok(row, `${table} ${name} exists`);
  return row;
}

const masterArgs = (h: Host, extra: string[] = []) => [
  `--ovs-db=${h.ovsDb}`,
  "--cluster-ip-subnet=192.168.0.0/16",
  "--master-switch-subnet=192.168.1.0/24",
  "--node-name=K8sMaster",
  "--nb-timeout=30",
  ...extra,
];

Deno.test("master-init and minion-init build the original's objects; re-runs write nothing", async () => {
  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const nb = nbSrv.remotes("tcp");
  const m = await newHost();
  const n = await newHost();
  try {
    await setupHost(m, nb);
    await setupHost(n, nb);
    // The system-id is kept in the file and reused on a second run.
    const id = (await Deno.readTextFile(`${m.dir}/system-id.conf`)).trim();
    await setupHost(m, nb);
    assert.equal((await Deno.readTextFile(`${m.dir}/system-id.conf`)).trim(), id);

    const out: string[] = [];
    assert.equal(await runMasterInit(masterArgs(m), ctx(out), m.deps), 0);
    assert.match(
      out[0]!,
      /^Initialization complete\. node=k8smaster subnet=192\.168\.1\.0\/24 nb-writes=1/,
    );

    const router = await nbSelect(nb, "Logical_Router", "ovn_cluster_router");
    assert.equal((router.external_ids as Record<string, string>)["k8s-cluster-router"], "yes");
    const sw = await nbSelect(nb, "Logical_Switch", "k8smaster");
    assert.deepEqual(sw.other_config, { subnet: "192.168.1.0/24" });
    assert.equal((sw.external_ids as Record<string, string>)["gateway_ip"], "192.168.1.1/24");
    assert.equal((sw.load_balancer as string[]).length, 2);
    const rtos = await nbSelect(nb, "Logical_Router_Port", "rtos-k8smaster");
    assert.deepEqual(rtos.networks, ["192.168.1.1/24"]);
    const stor = await nbSelect(nb, "Logical_Switch_Port", "stor-k8smaster");
    assert.equal(stor.type, "router");
    assert.deepEqual(stor.options, { "router-port": "rtos-k8smaster" });
    const mgmt = await nbSelect(nb, "Logical_Switch_Port", "k8s-k8smaster");
    assert.deepEqual(mgmt.addresses, ["0a:58:c0:a8:01:02 192.168.1.2"]);
    await nbSelect(nb, "Logical_Router_Port", "rtoj-ovn_cluster_router");
    await nbSelect(nb, "Logical_Switch_Port", "jtor-ovn_cluster_router");
    await nbSelect(nb, "Logical_Switch", "join");

    // Local OVS: internal port on br-int with MTU, pinned MAC and iface-id.
    await using ovs = await OvsdbClient.connect({
      remotes: m.ovsDb,
      database: "Open_vSwitch",
      timeoutMs: 30_000,
    });
    const [ifr] = await ovs.transact([{
      op: "select",
      table: "Interface",
      where: [["name", "==", "k8s-k8smaster"]],
    }]);
    const iface = ifr!.rows![0]!;
    assert.equal(iface.type, "internal");
    assert.deepEqual(iface.mtu_request, [1400]);
    assert.deepEqual(iface.mac, ["0a:58:c0:a8:01:02"]);
    assert.deepEqual(iface.external_ids, { "iface-id": "k8s-k8smaster" });
    // Host: address .2 and the cluster route via .1.
    assert.ok(
      m.ip.calls.some((c) => c.join(" ") === "ip addr add 192.168.1.2/24 dev k8s-k8smaster"),
    );
    assert.ok(
      m.ip.calls.some((c) =>
        c.join(" ") === "ip route replace 192.168.0.0/16 via 192.168.1.1 dev k8s-k8smaster"
      ),
    );

    // minion-init without --cluster-ip-subnet: read from the cluster router.
    const cniBin = `${n.dir}/bin`, cniConf = `${n.dir}/net.d`;
    const minion = [
      `--ovs-db=${n.ovsDb}`,
      "--minion-switch-subnet=192.168.2.0/24",
      "--node-name=kube-minion1",
      `--cni-bin-dir=${cniBin}`,
      `--cni-conf-dir=${cniConf}`,
      "--cni-plugin=/usr/local/bin/ovn-k8s",
      "--service-cluster-ip-range=10.96.0.0/16",
    ];
    assert.equal(await runMinionInit(minion, ctx(), n.deps), 0);
    assert.equal(await Deno.readLink(`${cniBin}/ovn_cni`), "/usr/local/bin/ovn-k8s");
    const conf = JSON.parse(await Deno.readTextFile(`${cniConf}/10-net.conf`));
    assert.equal(conf.cniVersion, "1.0.0");
    assert.equal(conf.type, "ovn_cni");
    assert.ok(
      n.ip.calls.some((c) =>
        c.join(" ") === "ip route replace 10.96.0.0/16 via 192.168.2.1 dev k8s-kube-minion"
      ),
    );

    // Re-runs: no NB transaction that writes, and every row keeps its _version.
    const before = await nbVersions(nb);
    const nbWrites = () =>
      (m.counts.get("OVN_Northbound") ?? 0) + (n.counts.get("OVN_Northbound") ?? 0);
    const ovsWrites = () =>
      (m.counts.get("Open_vSwitch") ?? 0) + (n.counts.get("Open_vSwitch") ?? 0);
    const writesBefore = [nbWrites(), ovsWrites()];
    const again: string[] = [];
    assert.equal(await runMasterInit(masterArgs(m), ctx(again), m.deps), 0);
    assert.equal(await runMinionInit(minion, ctx(again), n.deps), 0);
    assert.match(again[0]!, /nb-writes=0$/);
    assert.deepEqual([nbWrites(), ovsWrites()], writesBefore);
    assert.deepEqual(await nbVersions(nb), before);

    // A changed subnet moves router port, switch and management address (MAC kept).
    const moved = minion.map((a) =>
      a.startsWith("--minion-switch-subnet") ? "--minion-switch-subnet=192.168.7.0/24" : a
    );
    assert.equal(await runMinionInit(moved, ctx(), n.deps), 0);
    assert.deepEqual((await nbSelect(nb, "Logical_Router_Port", "rtos-kube-minion1")).networks, [
      "192.168.7.1/24",
    ]);
    assert.deepEqual((await nbSelect(nb, "Logical_Switch", "kube-minion1")).other_config, {
      subnet: "192.168.7.0/24",
    });
    assert.deepEqual((await nbSelect(nb, "Logical_Switch_Port", "k8s-kube-minion1")).addresses, [
      "0a:58:c0:a8:02:02 192.168.7.2",
    ]);
  } finally {
    await dispose(m);
    await dispose(n);
  }
});

Deno.test("master-init and minion-init reject bad input with exit 2 and write nothing", async () => {
  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const nb = nbSrv.remotes("tcp");
  const h = await newHost();
  const bare = await newHost(); // no ovn-nb, no system-id
  try {
    await setupHost(h, nb);
    assert.equal(await runMasterInit(masterArgs(h), ctx(), h.deps), 0);
    const versions = await nbVersions(nb);
    const writes = () => [h.counts.get("OVN_Northbound") ?? 0, h.counts.get("Open_vSwitch") ?? 0];
    const before = writes();
    const minion = (over: Record<string, string>, host = h) => {
      const base: Record<string, string> = {
        "ovs-db": host.ovsDb,
        "cluster-ip-subnet": "192.168.0.0/16",
        "minion-switch-subnet": "192.168.2.0/24",
        "node-name": "node2",
        "cni-bin-dir": `${host.dir}/bin`,
        "cni-conf-dir": `${host.dir}/net.d`,
        "nb-timeout": "30",
        ...over,
      };
      return Object.entries(base).filter(([, v]) => v !== "-").map(([k, v]) => `--${k}=${v}`);
    };
    const cases: [string, string[], RegExp][] = [
      [
        "invalid CIDR",
        minion({ "cluster-ip-subnet": "192.168.0/16" }),
        /--cluster-ip-subnet "192\.168\.0\/16"/,
      ],
      [
        "host bits",
        minion({ "minion-switch-subnet": "192.168.2.5/24" }),
        /did you mean 192\.168\.2\.0\/24/,
      ],
      ["outside", minion({ "minion-switch-subnet": "10.1.0.0/24" }), /outside --cluster-ip-subnet/],
      [
        "overlap",
        minion({ "minion-switch-subnet": "192.168.1.0/25" }),
        /overlaps node "k8smaster"'s subnet 192\.168\.1\.0\/24 \(read from OVN NB\)/,
      ],
      [
        "cluster smaller",
        minion({ "cluster-ip-subnet": "192.168.2.0/25", "minion-switch-subnet": "192.168.2.0/24" }),
        /smaller than the node subnet/,
      ],
      [
        "cluster differs from master's",
        minion({ "cluster-ip-subnet": "192.168.0.0/17" }),
        /initialised with 192\.168\.0\.0\/16/,
      ],
      [
        "auto size larger than the cluster",
        minion({ "minion-switch-subnet": "auto", "node-subnet-size": "12" }),
        /Cannot allocate a \/12 node subnet from --cluster-ip-subnet 192\.168\.0\.0\/16/,
      ],
      ["empty node name", minion({ "node-name": "" }), /--node-name "": it is empty/],
      [
        "invalid node name",
        minion({ "node-name": "node_2" }),
        /--node-name "node_2": only letters/,
      ],
      [
        "interface name",
        minion({ "management-interface": "k8s-averylongname" }),
        /--management-interface "k8s-averylongname": it is 17 bytes long/,
      ],
      ["missing ovn-nb", minion({}, bare), /external_ids:ovn-nb is not set/],
    ];
    for (const [what, args, message] of cases) {
      const err = await runMinionInit(args, ctx(), h.deps).then(() => undefined, (e) => e);
      assert.ok(err, `${what}: expected an error`);
      assert.equal(exitCodeOf(err), 2, `${what}: ${err}`);
      assert.match(String(err.message), message, what);
    }
    // Missing system-id: a host with ovn-nb only.
    await using bareOvs = await OvsdbClient.connect({
      remotes: bare.ovsDb,
      database: "Open_vSwitch",
      timeoutMs: 30_000,
    });
    await bareOvs.transact([{
      op: "insert",
      table: "Open_vSwitch",
      row: { external_ids: { "ovn-nb": nb } },
    }]);
    const noId = await runMinionInit(minion({}, bare), ctx(), bare.deps).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(exitCodeOf(noId), 2);
    assert.match(noId.message, /external_ids:system-id is not set/);

    // NB unreachable: a timeout, not a hang.
    const closed = `tcp:127.0.0.1:${closedPort()}`;
    await setupHost(h, closed);
    const unreachable = await runMinionInit(minion({ "nb-timeout": "1" }), ctx(), h.deps).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(exitCodeOf(unreachable), 2);
    assert.match(
      unreachable.message,
      /Cannot connect to OVN NB at tcp:127\.0\.0\.1:\d+ within 1 s/,
    );

    // Nothing was written to NB, and nothing to the local OVS by any failed run.
    assert.deepEqual(writes(), before);
    assert.deepEqual(await nbVersions(nb), versions);
    await using ovs = await OvsdbClient.connect({
      remotes: h.ovsDb,
      database: "Open_vSwitch",
      timeoutMs: 30_000,
    });
    const [ifs] = await ovs.transact([{
      op: "select",
      table: "Interface",
      where: [["name", "==", "k8s-node2"]],
    }]);
    assert.equal(ifs!.rows!.length, 0);
    await assert.rejects(Deno.stat(`${h.dir}/net.d`));
  } finally {
    await dispose(h);
    await dispose(bare);
  }
});

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("--node-subnet auto gives nodes initialising at once different subnets", async () => {
  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const nb = nbSrv.remotes("tcp");
  const hosts = await Promise.all([0, 1, 2, 3, 4].map(() => newHost()));
  try {
    for (const h of hosts) await setupHost(h, nb);
    assert.equal(
      await runMasterInit(
        [
          `--ovs-db=${hosts[0]!.ovsDb}`,
          "--cluster-ip-subnet=10.128.0.0/16",
          "--node-subnet=auto",
          "--node-subnet-size=26",
          "--node-name=m0",
        ],
        ctx(),
        hosts[0]!.deps,
      ),
      0,
    );
    const outs = await Promise.all(
      hosts.slice(1).map(async (h, i) => {
        const out: string[] = [];
        await runMinionInit(
          [
            `--ovs-db=${h.ovsDb}`,
            "--node-subnet=auto",
            "--node-subnet-size=26",
            `--node-name=n${i + 1}`,
            `--cni-bin-dir=${h.dir}/bin`,
            `--cni-conf-dir=${h.dir}/net.d`,
          ],
          ctx(out),
          h.deps,
        );
        return /subnet=(\S+)/.exec(out[0]!)![1]!;
      }),
    );
    const all = [
      (await nbSelect(nb, "Logical_Switch", "m0")).other_config as Record<string, string>,
    ]
      .map((o) => o.subnet!).concat(outs);
    assert.equal(all[0], "10.128.0.0/26");
    assert.equal(new Set(all).size, 5, `distinct subnets: ${all.join(" ")}`);
    for (const s of all) assert.match(s, /^10\.128\.[01]\.(0|64|128|192)\/26$/);
    // The guard itself: a choice made from a stale read cannot commit.
    await using db = await OvsdbClient.connect({
      remotes: nb,
      database: "OVN_Northbound",
      timeoutMs: 30_000,
    });
    const stale = parseNbState(await db.transact(nbStateReadOps("late")));
    await db.transact([{
      op: "insert",
      table: "Logical_Switch",
      row: { name: "racer", other_config: { subnet: "10.128.9.0/26" } },
    }]);
    const lost = await db.transact([subnetGuardOp(stale), {
      op: "insert",
      table: "Logical_Switch",
      row: { name: "late" },
    }])
      .then(() => undefined, (e) => e);
    assert.ok(
      lost instanceof OvsdbError && lost.index === 0 && lost.error === "timed out",
      String(lost),
    );
    // The allocation is recorded on the switch and kept on re-runs.
    const sw = await nbSelect(nb, "Logical_Switch", "n1");
    assert.equal((sw.external_ids as Record<string, string>)["k8s-subnet-allocated"], "auto");
    const out: string[] = [];
    await runMinionInit(
      [
        `--ovs-db=${hosts[1]!.ovsDb}`,
        "--node-subnet=auto",
        "--node-subnet-size=26",
        "--node-name=n1",
        `--cni-bin-dir=${hosts[1]!.dir}/bin`,
        `--cni-conf-dir=${hosts[1]!.dir}/net.d`,
      ],
      ctx(out),
      hosts[1]!.deps,
    );
    assert.equal(/subnet=(\S+)/.exec(out[0]!)![1], outs[0]);
    assert.match(out[0]!, /nb-writes=0$/);
  } finally {
    for (const h of hosts) await dispose(h);
  }
});

Deno.test("run reads roles from external_ids, infers the rest, and fails clearly without a role", async () => {
  assert.throws(() => planRun({}, "host1"), /no role found; set external_ids:ovn-k8s-roles/);
  const p = planRun({ "ovn-nb": "tcp:10.0.0.1:6641", hostname: "Node-A" }, "ignored");
  assert.deepEqual(p.roles, ["minion"]);
  assert.equal(p.init.nodeName, "node-a");
  assert.equal(p.init.nodeSubnet, "auto");
  assert.deepEqual(planRun({ "ovn-nb": "unix:/run/ovn/nb.sock" }, "h").roles, ["master", "minion"]);

  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const nb = nbSrv.remotes("tcp");
  const m = await newHost();
  const n = await newHost();
  const none = await newHost();
  try {
    await setupHost(m, nb, [
      "--roles=master",
      "--node-name=rm",
      "--cluster-ip-subnet=10.64.0.0/16",
      "--node-subnet=10.64.5.0/24",
    ]);
    await setupHost(n, nb, ["--roles=minion", "--node-name=rn"]);
    const watcherCalls: string[][] = [];
    const watcherExit: { code?: number } = {};
    // A stand-in watcher: runs until its signal, or exits with watcherExit.
    const fakeWatcher = (args: string[], c: RoleContext) => {
      watcherCalls.push(args);
      if (watcherExit.code !== undefined) return Promise.resolve(watcherExit.code);
      return new Promise<number>((resolve) =>
        c.signal.addEventListener("abort", () => resolve(0), { once: true })
      );
    };
    const deps = (h: Host, withWatcher = false) => ({
      init: h.deps,
      connect: h.deps.connect,
      loadRole: (name: string) =>
        withWatcher && name === "watcher" ? () => Promise.resolve(fakeWatcher) : undefined,
      hostname: () => "unused",
    });
    assert.equal(await runRun([`--ovs-db=${m.ovsDb}`, "--once"], ctx(), deps(m)), 0);
    const cni = [`--cni-bin-dir=${n.dir}/bin`, `--cni-conf-dir=${n.dir}/net.d`];
    assert.equal(await runRun([`--ovs-db=${n.ovsDb}`, "--once", ...cni], ctx(), deps(n)), 0);
    assert.equal(await Deno.readLink(`${n.dir}/bin/ovn_cni`), Deno.execPath());
    assert.deepEqual((await nbSelect(nb, "Logical_Switch", "rm")).other_config, {
      subnet: "10.64.5.0/24",
    });
    assert.deepEqual((await nbSelect(nb, "Logical_Switch", "rn")).other_config, {
      subnet: "10.64.0.0/24",
    });
    // Without --once, run keeps running until the signal.
    const ac = new AbortController();
    const running = runRun([`--ovs-db=${n.ovsDb}`, ...cni], ctx([], ac.signal), deps(n));
    ac.abort();
    assert.equal(await running, 0);
    // On a master, run starts the watcher when the registry has it, with its options,
    // restarts it when it ends on its own, and stops it on SIGTERM.
    await setupHost(m, nb, ["--watcher-options=--overlay  --resync 30"]);
    const ac2 = new AbortController();
    const out: string[] = [];
    const master = runRun([`--ovs-db=${m.ovsDb}`], ctx(out, ac2.signal), deps(m, true));
    await pollUntil("run on the master to print", () => Promise.resolve(out.length > 0), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    ac2.abort();
    assert.equal(await master, 0);
    assert.deepEqual(watcherCalls, [["--overlay", "--resync", "30"]]);
    watcherExit.code = 3;
    const ac3 = new AbortController();
    const restarting = runRun([`--ovs-db=${m.ovsDb}`], ctx([], ac3.signal), {
      ...deps(m, true),
      restartDelayMs: 1,
    });
    await pollUntil("run to restart the watcher 3 times", () => {
      return Promise.resolve(watcherCalls.length >= 4);
    }, { timeoutMs: 30_000, intervalMs: 20 });
    ac3.abort();
    assert.equal(await restarting, 0);

    await using ovs = await OvsdbClient.connect({
      remotes: none.ovsDb,
      database: "Open_vSwitch",
      timeoutMs: 30_000,
    });
    await ovs.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
    const err = await runRun([`--ovs-db=${none.ovsDb}`, "--once"], ctx(), deps(none)).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(exitCodeOf(err), 2);
    assert.match(err.message, /ovn-k8s-roles/);
  } finally {
    await dispose(m);
    await dispose(n);
    await dispose(none);
  }
});

Deno.test("NB over ssl (key, certificate, CA files), unix, and a member list with a dead member", async () => {
  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const m = await newHost();
  const n = await newHost();
  const u = await newHost();
  try {
    const pem = (name: string, text: string) => {
      Deno.writeTextFileSync(`${m.dir}/${name}`, text);
      return `${m.dir}/${name}`;
    };
    const ssl = [
      `--nb-privkey=${pem("key.pem", nbSrv.tls.key)}`,
      `--nb-cert=${pem("cert.pem", nbSrv.tls.cert)}`,
      `--nb-cacert=${pem("ca.pem", nbSrv.tls.caCert)}`,
    ];
    await setupHost(m, nbSrv.remotes("ssl"));
    // Without the key files the ssl: remote is refused up front, naming the flag.
    const err = await runMasterInit(
      masterArgs(m, [`--nb-privkey=${m.dir}/missing.pem`]),
      ctx(),
      m.deps,
    )
      .then(() => undefined, (e) => e);
    assert.equal(exitCodeOf(err), 2);
    assert.match(err.message, /Cannot read --nb-privkey ".*missing\.pem"/);
    assert.equal(await runMasterInit(masterArgs(m, ssl), ctx(), m.deps), 0);

    await setupHost(n, nbSrv.remotes("unix"));
    const minion = (h: Host, name: string, subnet: string) => [
      `--ovs-db=${h.ovsDb}`,
      `--minion-switch-subnet=${subnet}`,
      `--node-name=${name}`,
      `--cni-bin-dir=${h.dir}/bin`,
      `--cni-conf-dir=${h.dir}/net.d`,
    ];
    assert.equal(await runMinionInit(minion(n, "n-unix", "192.168.3.0/24"), ctx(), n.deps), 0);

    await setupHost(u, `tcp:127.0.0.1:${closedPort()},${nbSrv.remotes("tcp")}`);
    assert.equal(await runMinionInit(minion(u, "n-list", "192.168.4.0/24"), ctx(), u.deps), 0);
    const nb = nbSrv.remotes("tcp");
    assert.deepEqual((await nbSelect(nb, "Logical_Switch", "n-unix")).other_config, {
      subnet: "192.168.3.0/24",
    });
    assert.deepEqual((await nbSelect(nb, "Logical_Switch", "n-list")).other_config, {
      subnet: "192.168.4.0/24",
    });
  } finally {
    await dispose(m);
    await dispose(n);
    await dispose(u);
  }
});

/** Runs ovn-nbctl against a private NB: it plays the original Python tool here. */
async function nbctl(db: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("ovn-nbctl", {
    args: [`--db=${db}`, "--timeout=10", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, `ovn-nbctl ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout).trim();
}

Deno.test("a cluster made by the original keeps its router, names and MACs", async () => {
  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const db = nbSrv.remotes("unix");
  // The original's master-init for k8smaster (reference §4, §6.3), MACs random uppercase.
  await nbctl(
    db,
    "lr-add",
    "k8smaster",
    "--",
    "set",
    "logical_router",
    "k8smaster",
    "external_ids:k8s-cluster-router=yes",
  );
  const tcp = await nbctl(db, "create", "load_balancer", "external_ids:k8s-cluster-lb-tcp=yes");
  const udp = await nbctl(
    db,
    "create",
    "load_balancer",
    "external_ids:k8s-cluster-lb-udp=yes",
    "protocol=udp",
  );
  await nbctl(db, "ls-add", "join");
  await nbctl(
    db,
    "lrp-add",
    "k8smaster",
    "rtoj-k8smaster",
    "00:00:00:A1:34:D6",
    "100.64.1.1/24",
    "--",
    "set",
    "logical_router_port",
    "rtoj-k8smaster",
    "external_ids:connect_to_join=yes",
  );
  await nbctl(
    db,
    "lsp-add",
    "join",
    "jtor-k8smaster",
    "--",
    "set",
    "logical_switch_port",
    "jtor-k8smaster",
    "type=router",
    "options:router-port=rtoj-k8smaster",
    'addresses="00:00:00:A1:34:D6"',
  );
  await nbctl(db, "lrp-add", "k8smaster", "rtos-k8smaster", "00:00:00:0B:0C:0D", "192.168.1.1/24");
  await nbctl(
    db,
    "ls-add",
    "k8smaster",
    "--",
    "set",
    "logical_switch",
    "k8smaster",
    "other-config:subnet=192.168.1.0/24",
    "external-ids:gateway_ip=192.168.1.1/24",
  );
  await nbctl(
    db,
    "lsp-add",
    "k8smaster",
    "stor-k8smaster",
    "--",
    "set",
    "logical_switch_port",
    "stor-k8smaster",
    "type=router",
    "options:router-port=rtos-k8smaster",
    'addresses="00:00:00:0B:0C:0D"',
  );
  await nbctl(
    db,
    "lsp-add",
    "k8smaster",
    "k8s-k8smaster",
    "--",
    "lsp-set-addresses",
    "k8s-k8smaster",
    "7e:11:22:33:44:55 192.168.1.2",
  );
  await nbctl(db, "set", "logical_switch", "k8smaster", `load_balancer=${tcp}`);
  await nbctl(db, "add", "logical_switch", "k8smaster", "load_balancer", udp);

  const m = await newHost();
  const n = await newHost();
  try {
    await setupHost(m, db);
    await setupHost(n, db);
    const out: string[] = [];
    assert.equal(await runMasterInit(masterArgs(m), ctx(out), m.deps), 0);
    // Adopted, not duplicated: one router (the original's name), two LBs, same ports.
    assert.equal(
      await nbctl(db, "--bare", "--columns=name", "list", "logical_router"),
      "k8smaster",
    );
    assert.equal(
      (await nbctl(db, "--bare", "--columns=_uuid", "list", "load_balancer")).split(/\s+/).length,
      2,
    );
    assert.equal(
      await nbctl(db, "get", "logical_router_port", "rtoj-k8smaster", "mac"),
      '"00:00:00:A1:34:D6"',
    );
    assert.equal(
      await nbctl(db, "get", "logical_router_port", "rtos-k8smaster", "mac"),
      '"00:00:00:0B:0C:0D"',
    );
    assert.equal(
      await nbctl(db, "get", "logical_switch_port", "k8s-k8smaster", "addresses"),
      '["7e:11:22:33:44:55 192.168.1.2"]',
    );
    // The management MAC from NB is pinned on the OVS interface.
    await using ovs = await OvsdbClient.connect({
      remotes: m.ovsDb,
      database: "Open_vSwitch",
      timeoutMs: 30_000,
    });
    const [ifr] = await ovs.transact([{
      op: "select",
      table: "Interface",
      where: [["name", "==", "k8s-k8smaster"]],
      columns: ["mac"],
    }]);
    assert.deepEqual(ifr!.rows![0]!.mac, ["7e:11:22:33:44:55"]);
    // Adoption wrote only owner ids (one transaction); the next run writes nothing.
    assert.match(out[0]!, /nb-writes=1$/);
    const again: string[] = [];
    assert.equal(await runMasterInit(masterArgs(m), ctx(again), m.deps), 0);
    assert.match(again[0]!, /nb-writes=0$/);
    // A new minion hangs off the original's router and load balancers.
    assert.equal(
      await runMinionInit(
        [
          `--ovs-db=${n.ovsDb}`,
          "--minion-switch-subnet=192.168.2.0/24",
          "--node-name=kube-minion1",
          `--cni-bin-dir=${n.dir}/bin`,
          `--cni-conf-dir=${n.dir}/net.d`,
        ],
        ctx(),
        n.deps,
      ),
      0,
    );
    const ports = await nbctl(db, "--bare", "--columns=ports", "list", "logical_router");
    const rtos = await nbctl(
      db,
      "--bare",
      "--columns=_uuid",
      "find",
      "logical_router_port",
      "name=rtos-kube-minion1",
    );
    assert.ok(ports.split(/\s+/).includes(rtos));
    const lbs = (await nbctl(db, "get", "logical_switch", "kube-minion1", "load_balancer")).replace(
      /[[\] ]/g,
      "",
    ).split(",").sort();
    assert.deepEqual(lbs, [tcp, udp].sort());
  } finally {
    await dispose(m);
    await dispose(n);
  }
});

Deno.test("minion-init and run without CNI directories are refused by the test fs before they reach /opt/cni or /etc/cni", async () => {
  await using nbSrv = await startOvsdbServer({ schema: NB_SCHEMA });
  const nb = nbSrv.remotes("tcp");
  const m = await newHost();
  const n = await newHost();
  try {
    await setupHost(m, nb);
    await setupHost(n, nb, ["--roles=minion", "--node-name=guarded"]);
    assert.equal(await runMasterInit(masterArgs(m), ctx(), m.deps), 0);
    // What a test that forgets --cni-bin-dir/--cni-conf-dir does: the roles fall back to
    // the distribution's directories, and the confined fs stops the first write there.
    const minion = [
      `--ovs-db=${n.ovsDb}`,
      "--minion-switch-subnet=192.168.2.0/24",
      "--node-name=guarded",
    ];
    const viaInit = await runMinionInit(minion, ctx(), n.deps).then(() => undefined, (e) => e);
    assert.ok(viaInit instanceof ConfinementError, `minion-init: ${viaInit}`);
    assert.match(viaInit.message, /"\/opt\/cni\/bin"/);
    const viaRun = await runRun([`--ovs-db=${n.ovsDb}`, "--once"], ctx(), {
      init: n.deps,
      connect: n.deps.connect,
      loadRole: () => undefined,
      hostname: () => "unused",
    }).then(() => undefined, (e) => e);
    assert.ok(viaRun instanceof ConfinementError, `run: ${viaRun}`);
    // Every write the roles were allowed is under the hosts' temp dirs.
    for (const h of [m, n]) {
      const written = (h.deps.fs as ReturnType<typeof confinedCniFs>).written;
      assert.ok(written.every((p) => p.startsWith(`${h.dir}/`)), written.join(" "));
    }
  } finally {
    await dispose(m);
    await dispose(n);
  }
});

Deno.test("checkPrivatePaths() refuses role argv that would fall back to system paths", () => {
  const refused: string[][] = [
    ["minion-init", "--node-name=a"],
    ["run", "--cni-bin-dir=/tmp/x/bin"],
    ["setup-host", "--ovn-nb=tcp:127.0.0.1:1"],
    ["central", "--data-dir=/tmp/x/d", "--run-dir=/tmp/x/r"],
    ["watcher", "--pidfile"],
  ];
  for (const args of refused) {
    assert.throws(() => checkPrivatePaths(args), ConfinementError, args.join(" "));
  }
  for (
    const args of [
      ["minion-init", "--cni-bin-dir=/tmp/x/bin", "--cni-conf-dir", "/tmp/x/net.d"],
      ["setup-host", "--system-id-file=/tmp/x/id"],
      ["central", "--data-dir=/d", "--run-dir=/r", "--log-dir=/l"],
      ["watcher", "--pidfile=/tmp/x/w.pid"],
      ["minion-init", "--help"],
    ]
  ) checkPrivatePaths(args);
});

import assert from "node:assert/strict";
import { exitCodeOf } from "../cli/mod.ts";
import type { Runner, RunOptions, RunResult } from "../exec/mod.ts";
import { silentLogger } from "../log/mod.ts";
import type { OvsState } from "../ovs/mod.ts";
import type { Operation, OperationResult } from "../ovsdb/mod.ts";
import type { DbConnector } from "./_local_ovs.ts";
import {
  bridgeCheck,
  centralCheck,
  chassisCheck,
  controllerCheck,
  formatStatus,
  hostSettings,
  type HostStatus,
  managementPortCheck,
  nbCheck,
  runStatus,
  type StatusDeps,
  statusExitCode,
  statusRoles,
  watcherCheck,
} from "./status.ts";

const IDS: Record<string, string> = {
  "ovn-k8s-roles": "minion",
  "ovn-k8s-node-name": "node2",
  "ovn-nb": "tcp:10.0.0.1:6641",
  "ovn-remote": "tcp:10.0.0.1:6642",
  "ovn-encap-ip": "10.0.0.12",
  "ovn-encap-type": "geneve",
  "system-id": "sys-2",
  "k8s-api-server": "https://10.0.0.1:6443",
  "k8s-api-token": "SECRET-TOKEN",
  "k8s-ca-certificate": "-----BEGIN CERTIFICATE-----",
};

const iface = (over: Partial<NonNullable<OvsState["iface"]>> = {}) => ({
  _uuid: "i",
  name: "k8s-node2",
  type: "internal",
  mtu_request: [1400],
  mac: ["0a:58:0a:f4:02:02"],
  mac_in_use: ["0a:58:0a:f4:02:02"],
  ofport: [2],
  error: [],
  external_ids: { "iface-id": "k8s-node2", "ovn-installed": "true" },
  ...over,
});

const ovsState = (over: Partial<OvsState> = {}): OvsState => ({
  root: { _uuid: "r", external_ids: IDS, bridges: ["b"] },
  bridge: {
    _uuid: "b",
    name: "br-int",
    ports: ["p1", "p2"],
    datapath_type: "netdev",
    fail_mode: [],
  },
  port: { _uuid: "p2", name: "k8s-node2", interfaces: ["i"] },
  iface: iface(),
  ...over,
});

Deno.test("hostSettings() keeps the shown keys only, never a token or CA text", () => {
  const s = hostSettings(IDS);
  assert.equal(s["ovn-nb"], "tcp:10.0.0.1:6641");
  assert.equal(s["k8s-api-server"], "https://10.0.0.1:6443");
  assert.equal(s["k8s-api-token"], undefined);
  assert.ok(!JSON.stringify(s).includes("SECRET"));
  assert.ok(!JSON.stringify(s).includes("BEGIN"));
});

Deno.test("statusRoles() takes configured roles, infers as run does, or reports none", () => {
  assert.deepEqual(statusRoles(IDS, "h").roles, ["minion"]);
  assert.equal(statusRoles(IDS, "h").source, "configured");
  const inferred = statusRoles({ "ovn-nb": "unix:/x/nb.sock" }, "Host1");
  assert.deepEqual(inferred.roles, ["master", "minion"]);
  assert.match(inferred.source, /^inferred \(from ovn-nb=unix:\/x\/nb\.sock\)/);
  assert.equal(inferred.nodeName, "host1");
  const none = statusRoles({}, "h");
  assert.deepEqual(none.roles, []);
  assert.match(none.source, /^none: Cannot run: no role found/);
});

Deno.test("bridgeCheck() fails a missing br-int only when ovn-remote is set, and a datapath mismatch", () => {
  assert.equal(bridgeCheck(ovsState(), IDS).state, "ok");
  assert.match(bridgeCheck(ovsState(), IDS).detail, /datapath netdev, 2 ports/);
  assert.equal(bridgeCheck(ovsState({ bridge: undefined }), IDS).state, "fail");
  assert.equal(bridgeCheck(ovsState({ bridge: undefined }), {}).state, "skip");
  const c = bridgeCheck(ovsState(), { ...IDS, "ovn-bridge-datapath-type": "system" });
  assert.equal(c.state, "fail");
  assert.match(c.detail, /ovn-bridge-datapath-type is system/);
});

Deno.test("managementPortCheck() needs the port, an ofport, no error and ovn-installed", () => {
  const good = managementPortCheck(ovsState(), "k8s-node2");
  assert.deepEqual(good, {
    name: "management port",
    state: "ok",
    detail: "k8s-node2 ofport 2 mac 0a:58:0a:f4:02:02 ovn-installed",
  });
  const cases: [Partial<OvsState>, RegExp][] = [
    [{ port: undefined, iface: undefined }, /no such port in OVS/],
    [{ iface: iface({ ofport: [-1] }) }, /no OpenFlow port/],
    [{ iface: iface({ error: ["could not open network device"] }) }, /error: could not open/],
    [{ iface: iface({ external_ids: {} }) }, /not ovn-installed/],
  ];
  for (const [over, re] of cases) {
    const c = managementPortCheck(ovsState(over), "k8s-node2");
    assert.equal(c.state, "fail");
    assert.match(c.detail, re);
  }
});

Deno.test("controllerCheck() reads connection-status", () => {
  assert.equal(controllerCheck({ code: 0, stdout: "connected\n", stderr: "" }).state, "ok");
  const nc = controllerCheck({ code: 0, stdout: "not connected\n", stderr: "" });
  assert.equal(nc.state, "fail");
  assert.match(nc.detail, /not connected to SB/);
  const down = controllerCheck({
    code: 1,
    stdout: "",
    stderr: 'ovn-appctl: cannot read pidfile "/x/ovn-controller.pid" (No such file)\n',
  });
  assert.equal(down.state, "fail");
  assert.match(down.detail, /not running or not answering: ovn-appctl: cannot read pidfile/);
});

Deno.test("chassisCheck() needs the Chassis row and the configured encap", () => {
  const rows = (...r: Record<string, unknown>[][]): OperationResult[] =>
    r.map((rows) => ({ rows }));
  const c = chassisCheck(
    rows([{ name: "sys-2" }], [{ type: "geneve", ip: "10.0.0.12" }]),
    "sys-2",
    IDS,
  );
  assert.deepEqual(c, {
    name: "chassis",
    state: "ok",
    detail: "sys-2 registered, encap geneve 10.0.0.12",
  });
  assert.match(chassisCheck(rows([], []), "sys-2", IDS).detail, /no Chassis "sys-2" in SB/);
  const wrong = chassisCheck(
    rows([{ name: "sys-2" }], [{ type: "geneve", ip: "10.0.0.99" }]),
    "sys-2",
    IDS,
  );
  assert.equal(wrong.state, "fail");
  assert.match(wrong.detail, /expected geneve 10\.0\.0\.12/);
});

Deno.test("nbCheck() needs the router, and on a node its switch with a subnet and router port", () => {
  const full: OperationResult[] = [
    { rows: [{ name: "ovn_cluster_router" }] },
    { rows: [{ name: "node2", other_config: { subnet: "10.244.2.0/24" } }] },
    { rows: [{ name: "rtos-node2", networks: ["10.244.2.1/24"] }] },
    { rows: [{ name: "k8s-node2", up: [true] }] },
  ];
  const c = nbCheck(full, "node2");
  assert.equal(c.state, "ok");
  assert.equal(
    c.detail,
    "ovn_cluster_router, switch node2 10.244.2.0/24, port rtos-node2 10.244.2.1/24, k8s-node2 up",
  );
  assert.equal(nbCheck(full.slice(0, 1), undefined).state, "ok");
  assert.match(nbCheck([{ rows: [] }], undefined).detail, /no ovn_cluster_router/);
  assert.match(
    nbCheck([full[0]!, { rows: [] }, { rows: [] }, { rows: [] }], "node2").detail,
    /no switch node2/,
  );
  const noPort = nbCheck([full[0]!, full[1]!, { rows: [] }, { rows: [] }], "node2");
  assert.equal(noPort.state, "fail");
  assert.match(noPort.detail, /no router port/);
});

Deno.test("centralCheck() and watcherCheck() fail only when configured", () => {
  const pids = { "/r/ovnnb_db.pid": 10, "/r/ovnsb_db.pid": 11, "/r/ovn-northd.pid": undefined };
  const c = centralCheck(pids, true);
  assert.equal(c.state, "fail");
  assert.equal(c.detail, "ovnnb_db pid 10, ovnsb_db pid 11, ovn-northd DOWN (pidfiles in /r)");
  assert.equal(centralCheck(pids, false).state, "skip");
  assert.match(centralCheck(pids, false).detail, /not a role here, yet running/);
  assert.equal(centralCheck({ "/r/a.pid": 1 }, true).state, "ok");
  assert.equal(watcherCheck("http://a/healthz", 200, true).state, "ok");
  assert.match(watcherCheck("http://a/healthz", "Connection refused", true).detail, /refused/);
  assert.equal(watcherCheck("http://a/healthz", 503, true).state, "fail");
  assert.equal(watcherCheck("http://a/healthz", "refused", false).detail, "not a role");
});

Deno.test("formatStatus() prints settings and one ok/FAIL/- line per check; statusExitCode() follows FAIL", () => {
  const s: HostStatus = {
    ovsDb: "unix:/x/db.sock",
    roles: ["minion"],
    rolesSource: "configured",
    nodeName: "node2",
    settings: hostSettings(IDS),
    checks: [
      { name: "br-int", state: "ok", detail: "present" },
      { name: "ovn-controller", state: "fail", detail: "not running" },
      { name: "central", state: "skip", detail: "not a role" },
    ],
  };
  const text = formatStatus(s);
  assert.match(text, /^ovn-k8s status of node2 \(local OVSDB unix:\/x\/db\.sock\)$/m);
  assert.match(text, /^ {2}roles: minion \(configured\)$/m);
  assert.match(text, /^ {2}ovn-remote: tcp:10\.0\.0\.1:6642$/m);
  assert.match(text, /^ok {4}br-int {10}present$/m);
  assert.match(text, /^FAIL {2}ovn-controller {2}not running$/m);
  assert.match(text, /^- {5}central {9}not a role$/m);
  assert.ok(!text.includes("SECRET"));
  assert.equal(statusExitCode(s), 1);
  assert.equal(statusExitCode({ ...s, checks: s.checks.filter((c) => c.state !== "fail") }), 0);
});

/** A fake OVSDB per database answering selects from tables of rows. */
function fakeConnect(
  dbs: Record<string, Record<string, Record<string, unknown>[]> | "refuse" | "hang">,
  opened: string[],
): DbConnector {
  return (o) => {
    const db = dbs[o.database];
    if (db === "refuse" || db === undefined) return Promise.reject(new Error("Connection refused"));
    if (db === "hang") return new Promise(() => {});
    opened.push(o.database);
    return Promise.resolve({
      transact: (ops: readonly Operation[]) =>
        Promise.resolve(ops.map((op) => {
          if (op.op !== "select") return {};
          const cond = op.where[0] as readonly [string, string, unknown] | undefined;
          const rows = (db[op.table] ?? []).filter((r) =>
            cond === undefined || r[cond[0]] === cond[2]
          );
          return { rows };
        })),
      close: () => {
        opened.splice(opened.indexOf(o.database), 1);
      },
    });
  };
}

class FakeRunner implements Runner {
  calls: string[][] = [];
  constructor(readonly result: RunResult) {}
  run(argv: readonly string[], _opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    return Promise.resolve(this.result);
  }
}

function fakeDeps(
  over: Partial<StatusDeps> & { dbs?: Parameters<typeof fakeConnect>[0] } = {},
  opened: string[] = [],
): StatusDeps {
  const files: Record<string, string> = {
    "/cni/net.d/10-net.conf": JSON.stringify({ cniVersion: "1.0.0", type: "ovn_cni" }),
  };
  const { dbs, ...rest } = over;
  return {
    connect: fakeConnect(
      dbs ?? {
        Open_vSwitch: {
          Open_vSwitch: [{ _uuid: "r", external_ids: IDS, bridges: ["b"] }],
          Bridge: [{ ...ovsState().bridge! }],
          Port: [{ ...ovsState().port! }],
          Interface: [iface()],
        },
        OVN_Southbound: {
          Chassis: [{ name: "sys-2" }],
          Encap: [{ chassis_name: "sys-2", type: "geneve", ip: "10.0.0.12" }],
        },
        OVN_Northbound: {
          Logical_Router: [{ name: "ovn_cluster_router" }],
          Logical_Switch: [{ name: "node2", other_config: { subnet: "10.244.2.0/24" } }],
          Logical_Router_Port: [{ name: "rtos-node2", networks: ["10.244.2.1/24"] }],
          Logical_Switch_Port: [{ name: "k8s-node2", up: [true] }],
        },
      },
      opened,
    ),
    runner: new FakeRunner({ code: 0, stdout: "connected\n", stderr: "" }),
    procs: {
      alive: () => Promise.resolve(false),
      cmdline: () => Promise.resolve(undefined),
      kill: () => {},
      readFile: () => Promise.resolve(undefined),
    } as unknown as StatusDeps["procs"],
    readTextFile: (p) =>
      files[p] !== undefined
        ? Promise.resolve(files[p]!)
        : Promise.reject(new Error("No such file")),
    readLink: (p) =>
      p === "/cni/bin/ovn_cni"
        ? Promise.resolve("/usr/bin/ovn-k8s")
        : Promise.reject(new Error("No such file")),
    exists: () => Promise.resolve(true),
    httpStatus: () => Promise.reject(new Error("Connection refused")),
    hostname: () => "h",
    ...rest,
  };
}

async function run(args: string[], deps: StatusDeps) {
  const out: string[] = [];
  const ctx = {
    signal: new AbortController().signal,
    env: () => undefined,
    log: silentLogger,
    stdout: (t: string) => out.push(t),
  };
  const code = await runStatus(
    ["--cni-bin-dir=/cni/bin", "--cni-conf-dir=/cni/net.d", ...args],
    ctx,
    deps,
  );
  return { code, text: out.join("\n") };
}

Deno.test("runStatus() with every part healthy exits 0 and closes every connection", async () => {
  const opened: string[] = [];
  const deps = fakeDeps({}, opened);
  const { code, text } = await run([], deps);
  assert.equal(code, 0, text);
  for (
    const line of [
      "local OVSDB",
      "br-int",
      "management port",
      "ovn-controller",
      "chassis",
      "nb",
      "cni",
    ]
  ) {
    assert.match(text, new RegExp(`^ok +${line} `, "m"));
  }
  assert.match(text, /^- +central +not a role$/m);
  assert.match(text, /^- +watcher +not a role$/m);
  assert.deepEqual(opened, []);
  assert.deepEqual((deps.runner as FakeRunner).calls[0]?.slice(0, 3), [
    "ovn-appctl",
    "-t",
    "ovn-controller",
  ]);
});

Deno.test("runStatus() --json carries the checks and healthy=false when SB hangs (bounded)", async () => {
  const base = fakeDeps();
  const deps = fakeDeps({
    connect: (o) => o.database === "OVN_Southbound" ? new Promise(() => {}) : base.connect(o),
  });
  const { code, text } = await run(["--json", "--timeout=1"], deps);
  assert.equal(code, 1);
  const j = JSON.parse(text);
  assert.equal(j.healthy, false);
  assert.equal(j.nodeName, "node2");
  const chassis = j.checks.find((c: { name: string }) => c.name === "chassis");
  assert.equal(chassis.state, "fail");
  assert.match(chassis.detail, /SB at tcp:10\.0\.0\.1:6642: no answer within 2 s/);
  assert.ok(!text.includes("SECRET"));
});

Deno.test("runStatus() reports an unreachable local OVSDB as FAIL (exit 1), bad flags exit 2", async () => {
  const { code, text } = await run([], fakeDeps({ dbs: {} }));
  assert.equal(code, 1);
  assert.match(
    text,
    /^FAIL +local OVSDB +unix:\/var\/run\/openvswitch\/db\.sock: Connection refused; start ovsdb-server/m,
  );
  await assert.rejects(run(["--bogus"], fakeDeps()), (e) => exitCodeOf(e) === 2);
  await assert.rejects(run(["--timeout=0"], fakeDeps()), (e) => exitCodeOf(e) === 2);
});

Deno.test("runStatus() fails a missing CNI link and a stopped ovn-controller", async () => {
  const { code, text } = await run(
    [],
    fakeDeps({
      readLink: () => Promise.reject(new Error("No such file or directory")),
      runner: new FakeRunner({ code: 1, stdout: "", stderr: "ovn-appctl: cannot connect\n" }),
    }),
  );
  assert.equal(code, 1);
  assert.match(text, /^FAIL +cni +\/cni\/bin\/ovn_cni: No such file or directory/m);
  assert.match(
    text,
    /^FAIL +ovn-controller +not running or not answering: ovn-appctl: cannot connect$/m,
  );
});

Deno.test("runStatus() names the SSL flag when an ssl: remote's key file is missing", async () => {
  const base = fakeDeps();
  const root = { _uuid: "r", external_ids: { ...IDS, "ovn-remote": "ssl:10.0.0.1:6642" } };
  const deps = fakeDeps({
    connect: (o) =>
      o.database === "Open_vSwitch"
        ? Promise.resolve({
          transact: async (ops: readonly Operation[]) => {
            const r = await (await base.connect(o)).transact(ops);
            return [{ rows: [{ ...root, bridges: ["b"] }] }, ...r.slice(1)];
          },
          close: () => {},
        })
        : base.connect(o),
  });
  const { code, text } = await run(["--nb-privkey=/nope/key.pem"], deps);
  assert.equal(code, 1);
  assert.match(
    text,
    /^FAIL +chassis +SB at ssl:10\.0\.0\.1:6642: Cannot read --nb-privkey "\/nope\/key\.pem" for the ssl: remote: No such file; pass --nb-privkey/m,
  );
});

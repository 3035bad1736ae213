import assert from "node:assert/strict";
import { exitCodeOf } from "../cli/mod.ts";
import { silentLogger } from "../log/mod.ts";
import {
  buildInitOptions,
  COMMON_INIT_OPTIONS,
  type InitCommand,
  type InitInputs,
  runNodeInitCommand,
} from "./_init_cli.ts";
import type { NodeInitDeps } from "./_node_init.ts";
import type { RoleContext } from "./context.ts";

const names = {
  clusterSubnet: "--cluster-ip-subnet",
  nodeSubnet: "--node-subnet",
  nodeName: "--node-name",
};
const env = (v: Record<string, string>) => (k: string) => v[k];

Deno.test("buildInitOptions() lowercases the node and derives interface, defaults and OVS db", () => {
  const o = buildInitOptions(
    "minion",
    {
      nodeName: "Kube-Minion-Long-Name",
      nodeSubnet: "192.168.2.0/24",
      cniPlugin: "/usr/bin/ovn-k8s",
    },
    names,
    env({ OVS_RUNDIR: "/run/n1/" }),
  );
  assert.equal(o.node, "kube-minion-long-name");
  assert.equal(o.managementInterface, "k8s-kube-minion");
  assert.equal(o.mtu, 1400);
  assert.equal(o.ovsDb, "unix:/run/n1/db.sock");
  assert.equal(o.clusterSubnet, undefined);
  assert.deepEqual(o.cni, {
    binDir: "/opt/cni/bin",
    confDir: "/etc/cni/net.d",
    confFile: "10-net.conf",
    plugin: "/usr/bin/ovn-k8s",
  });
  assert.equal(
    buildInitOptions(
      "master",
      {
        nodeName: "m",
        nodeSubnet: "auto",
        clusterSubnet: "10.0.0.0/8",
      },
      names,
      env({}),
    ).ovsDb,
    "unix:/var/run/openvswitch/db.sock",
  );
});

Deno.test("buildInitOptions() rejects bad input before any I/O, exit 2", () => {
  const base: InitInputs = {
    nodeName: "n",
    nodeSubnet: "10.0.1.0/24",
    clusterSubnet: "10.0.0.0/16",
  };
  const cases: [InitInputs, RegExp][] = [
    [{ ...base, clusterSubnet: undefined }, /--cluster-ip-subnet is missing/],
    [{ ...base, nodeSubnet: undefined }, /--node-subnet is missing/],
    [
      { ...base, nodeSubnet: "10.0.1.0/24x" },
      /Cannot use --node-subnet "10\.0\.1\.0\/24x": not an IPv4 CIDR/,
    ],
    [{ ...base, nodeName: "a b" }, /--node-name "a b"/],
    [{ ...base, mtu: "12" }, /--mtu "12": expected an integer from 576/],
    [{ ...base, managementInterface: "0123456789abcdef" }, /16 bytes long/],
    [{ ...base, timeout: "0" }, /--nb-timeout "0"/],
  ];
  for (const [i, re] of cases) {
    assert.throws(() => buildInitOptions("master", i, names, env({})), (e: unknown) => {
      assert.equal(exitCodeOf(e), 2);
      assert.match((e as Error).message, re);
      return true;
    });
  }
});

Deno.test("runNodeInitCommand() answers --help and names the subnet flag given, before any I/O", async () => {
  const cmd: InitCommand = {
    role: "master",
    subnetFlag: "master-switch-subnet",
    options: {
      "master-switch-subnet": { type: "string", arg: "CIDR", help: "seed name" },
      ...COMMON_INIT_OPTIONS,
    },
    usage: "usage: master-init",
  };
  const out: string[] = [];
  const ctx: RoleContext = {
    signal: new AbortController().signal,
    env: () => undefined,
    log: silentLogger,
    stdout: (t) => out.push(t),
  };
  const noIo = new Proxy({}, {
    get: (_, key) => {
      throw new Error(`deps.${String(key)} used`);
    },
  }) as NodeInitDeps;
  assert.equal(await runNodeInitCommand(cmd, ["--help"], ctx, noIo), 0);
  assert.deepEqual(out, ["usage: master-init"]);
  const base = ["--cluster-ip-subnet", "10.0.0.0/16", "--node-name", "n"];
  const cases: [string[], RegExp][] = [
    [[...base, "--master-switch-subnet", "10.0.1.0/24x"], /Cannot use --master-switch-subnet/],
    [[...base, "--node-subnet", "10.0.1.0/24x"], /Cannot use --node-subnet/],
    [
      [...base, "--master-switch-subnet", "10.0.1.0/24", "--node-subnet", "10.0.2.0/24"],
      /--master-switch-subnet and --node-subnet disagree/,
    ],
    [["--node-name", "n", "--node-subnet", "auto"], /master-init: --cluster-ip-subnet is missing/],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(runNodeInitCommand(cmd, args, ctx, noIo), (e: unknown) => {
      assert.equal(exitCodeOf(e), 2);
      assert.match((e as Error).message, re);
      return true;
    });
  }
});

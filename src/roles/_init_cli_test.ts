import assert from "node:assert/strict";
import { exitCodeOf } from "../cli/mod.ts";
import { buildInitOptions, type InitInputs } from "./_init_cli.ts";

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

import assert from "node:assert/strict";
import { FakeRunner } from "../daemons/_testing.ts";
import {
  buildInvocation,
  type CniCall,
  CniCallError,
  parseNetworkConfig,
  pickConfigFile,
  resultIpv4,
  runCni,
} from "./cni_runtime.ts";

const call: CniCall = {
  command: "ADD",
  containerId: "c".repeat(64),
  netnsPath: "/run/netns/t-p-1",
  ifname: "eth0",
  podNamespace: "default",
  podName: "web",
  podUid: "u-1",
};

Deno.test("pickConfigFile() takes the lexically first .conf/.conflist/.json, as libcni", () => {
  assert.equal(
    pickConfigFile(["20-b.conflist", "10-net.conf", "README", "05-x.txt"]),
    "10-net.conf",
  );
  assert.equal(pickConfigFile(["99-a.json", "50-b.conflist"]), "50-b.conflist");
  assert.equal(pickConfigFile(["notes.md"]), undefined);
});

Deno.test("parseNetworkConfig() reads a .conf as one plugin and a .conflist in order", () => {
  const one = parseNetworkConfig("/x/10-net.conf", '{"name":"n","type":"ovn_cni","mtu":1400}');
  assert.deepEqual(one.plugins, [{ name: "n", type: "ovn_cni", mtu: 1400, cniVersion: "0.1.0" }]);
  const list = parseNetworkConfig(
    "/x/10-net.conflist",
    '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"ovn_cni"},{"type":"tuning"}]}',
  );
  assert.deepEqual(list.plugins.map((p) => [p.type, p.name, p.cniVersion]), [
    ["ovn_cni", "n", "1.0.0"],
    ["tuning", "n", "1.0.0"],
  ]);
  assert.throws(() => parseNetworkConfig("/x/a.conf", "{"), /Cannot parse CNI config \/x\/a\.conf/);
  assert.throws(() => parseNetworkConfig("/x/a.conf", "{}"), /\/x\/a\.conf: no "type"/);
  assert.throws(
    () => parseNetworkConfig("/x/a.conflist", '{"plugins":[]}'),
    /"plugins" must be a non-empty list/,
  );
});

Deno.test("buildInvocation() sets the CNI_* environment and the config on stdin", () => {
  const inv = buildInvocation(
    call,
    { type: "ovn_cni", name: "n", cniVersion: "1.0.0" },
    ["/n/bin", "/usr/lib/cni"],
    (p) => p === "/usr/lib/cni/ovn_cni",
    { cniVersion: "1.0.0", ips: [] },
  );
  assert.equal(inv.program, "/usr/lib/cni/ovn_cni");
  assert.deepEqual(inv.env, {
    CNI_COMMAND: "ADD",
    CNI_CONTAINERID: "c".repeat(64),
    CNI_NETNS: "/run/netns/t-p-1",
    CNI_IFNAME: "eth0",
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;` +
      `K8S_POD_INFRA_CONTAINER_ID=${"c".repeat(64)};K8S_POD_UID=u-1`,
    CNI_PATH: "/n/bin:/usr/lib/cni",
  });
  assert.deepEqual(JSON.parse(inv.stdin), {
    type: "ovn_cni",
    name: "n",
    cniVersion: "1.0.0",
    prevResult: { cniVersion: "1.0.0", ips: [] },
  });
  assert.throws(
    () => buildInvocation(call, { type: "nope" }, ["/a", "/b"], () => false),
    /Cannot find CNI plugin "nope" in CNI_PATH \/a:\/b/,
  );
});

Deno.test("resultIpv4() reads 1.0.0 ips and 0.2.0 ip4", () => {
  assert.equal(resultIpv4({ ips: [{ address: "10.244.1.5/24" }] }), "10.244.1.5");
  assert.equal(resultIpv4({ ip4: { ip: "10.0.0.9/16" } }), "10.0.0.9");
  assert.equal(resultIpv4({ ips: [{ address: "fd00::5/64" }] }), undefined);
  assert.equal(resultIpv4(undefined), undefined);
});

Deno.test("runCni() chains ADD with prevResult inside the node, DEL in reverse, and reports errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const p of ["a", "b"]) await Deno.writeTextFile(`${dir}/${p}`, "");
    const config = parseNetworkConfig(
      "/x/n.conflist",
      '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"a"},{"type":"b"}]}',
    );
    const runner = new FakeRunner([{
      match: /./,
      fn: (argv, o) => {
        const conf = JSON.parse(o.stdin!);
        const n = conf.prevResult ? conf.prevResult.n + 1 : 1;
        return {
          stdout: JSON.stringify({ n, by: argv.at(-1), ips: [{ address: `10.0.0.${n}/24` }] }),
        };
      },
    }]);
    const res = await runCni(runner, {
      nodeNetns: "t-node1",
      env: { OVS_RUNDIR: "/r" },
      config,
      call,
      binDirs: [dir],
    });
    assert.deepEqual(runner.calls, [
      ["ip", "netns", "exec", "t-node1", `${dir}/a`],
      ["ip", "netns", "exec", "t-node1", `${dir}/b`],
    ]);
    assert.equal(runner.options[0]!.env!.OVS_RUNDIR, "/r");
    assert.equal(runner.options[1]!.env!.CNI_COMMAND, "ADD");
    assert.deepEqual(res, { n: 2, by: `${dir}/b`, ips: [{ address: "10.0.0.2/24" }] });

    runner.calls = [];
    await runCni(runner, {
      nodeNetns: "t-node1",
      env: {},
      config,
      call: { ...call, command: "DEL" },
      binDirs: [dir],
      prevResult: res,
    });
    assert.deepEqual(runner.calls.map((c) => c.at(-1)), [`${dir}/b`, `${dir}/a`]);

    const failing = new FakeRunner([{
      match: /./,
      result: {
        code: 1,
        stdout: '{"cniVersion":"1.0.0","code":11,"msg":"no annotation","details":"pod web"}',
      },
    }]);
    await assert.rejects(
      runCni(failing, { nodeNetns: "t-node1", env: {}, config, call, binDirs: [dir] }),
      (err: unknown) =>
        err instanceof CniCallError && err.code === 11 &&
        /CNI ADD of a for pod default\/web failed \(exit 1\): no annotation: pod web/.test(
          err.message,
        ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

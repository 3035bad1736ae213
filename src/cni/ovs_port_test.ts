import assert from "node:assert/strict";
import type { Runner, RunOptions, RunResult } from "../exec/mod.ts";
import { parseJsonMap, quoteAtom, VsctlPorts } from "./ovs_port.ts";

class FakeRunner implements Runner {
  argvs: string[][] = [];
  constructor(private reply: (argv: readonly string[]) => RunResult) {}
  run(argv: readonly string[], _opts?: RunOptions): Promise<RunResult> {
    this.argvs.push([...argv]);
    return Promise.resolve(this.reply(argv));
  }
}

Deno.test("VsctlPorts.plug() replaces the port in one transaction", async () => {
  const r = new FakeRunner(() => ({ code: 0, stdout: "", stderr: "" }));
  const ports = new VsctlPorts(r, { db: "unix:/x/db.sock", timeoutMs: 5000 });
  await ports.plug({
    bridge: "br-int",
    name: "veth1",
    externalIds: { "iface-id": "ns_p", "attached-mac": "0a:58:00:00:00:01" },
  });
  assert.deepEqual(r.argvs[0], [
    "ovs-vsctl",
    "--timeout=5",
    "--db=unix:/x/db.sock",
    "--no-wait",
    "--",
    "--if-exists",
    "del-port",
    "veth1",
    "--",
    "add-port",
    "br-int",
    "veth1",
    "--",
    "set",
    "Interface",
    "veth1",
    'external_ids:iface-id="ns_p"',
    'external_ids:attached-mac="0a:58:00:00:00:01"',
  ]);
});

Deno.test("VsctlPorts.hostInfo() reads external_ids and the datapath, or no bridge", async () => {
  const reply = (dp: string) => (argv: readonly string[]) =>
    argv.includes("list")
      ? { code: 0, stdout: '{"data":[[["map",[["k8s-api-server","h:1"]]]]]}', stderr: "" }
      : { code: 0, stdout: dp, stderr: "" };
  assert.deepEqual(
    await new VsctlPorts(new FakeRunner(reply('"netdev"')), { timeoutMs: 1000 }).hostInfo("br-int"),
    {
      externalIds: { "k8s-api-server": "h:1" },
      datapathType: "netdev",
    },
  );
  const none = await new VsctlPorts(new FakeRunner(reply("")), { timeoutMs: 1000 }).hostInfo(
    "br-x",
  );
  assert.equal(none.datapathType, undefined);
});

Deno.test("VsctlPorts.waitInstalled() bounds the wait with --timeout", async () => {
  const r = new FakeRunner(() => ({ code: 0, stdout: "", stderr: "" }));
  await new VsctlPorts(r, { timeoutMs: 1000 }).waitInstalled("v", 2500);
  assert.deepEqual(r.argvs[0], [
    "ovs-vsctl",
    "--timeout=3",
    "wait-until",
    "Interface",
    "v",
    "external_ids:ovn-installed=true",
  ]);
});

Deno.test("VsctlPorts.lookup() reads external_ids and the bridge, or undefined", async () => {
  const r = new FakeRunner((argv) => {
    if (argv.includes("find")) {
      return {
        code: 0,
        stdout: argv.some((a) => a.includes("gone"))
          ? '{"data":[],"headings":["external_ids"]}'
          : '{"data":[[["map",[["iface-id","ns_p"],["ovn-installed","true"]]]]],"headings":["external_ids"]}',
        stderr: "",
      };
    }
    return { code: 0, stdout: "br-int", stderr: "" };
  });
  const ports = new VsctlPorts(r, { timeoutMs: 1000 });
  assert.deepEqual(await ports.lookup("v"), {
    bridge: "br-int",
    externalIds: { "iface-id": "ns_p", "ovn-installed": "true" },
  });
  assert.equal(await ports.lookup("gone"), undefined);
});

Deno.test("parseJsonMap() and quoteAtom() handle OVSDB notation", () => {
  assert.deepEqual(parseJsonMap(["map", [["a", "1"], ["b", "x y"]]]), { a: "1", b: "x y" });
  assert.deepEqual(parseJsonMap(["set", []]), {});
  assert.equal(quoteAtom('a"b'), '"a\\"b"');
});

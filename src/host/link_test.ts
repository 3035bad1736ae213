import assert from "node:assert/strict";
import { CommandError, type Runner, type RunOptions, type RunResult } from "../exec/mod.ts";
import { checkIfname, HostNet, parseAddresses, parseRoutes } from "./link.ts";

/** Records argv; answers from a table of (argv prefix -> result). */
class FakeRunner implements Runner {
  calls: string[][] = [];
  constructor(readonly answers: Array<[string, Partial<RunResult>]> = []) {}
  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...argv]);
    const line = argv.join(" ");
    const hit = this.answers.find(([p]) => line.startsWith(p))?.[1] ?? {};
    const r = { code: 0, stdout: "", stderr: "", ...hit };
    if (r.code !== 0 && opts.check !== false) {
      return Promise.reject(new CommandError(argv, r.code, r.stderr));
    }
    return Promise.resolve(r);
  }
}

Deno.test("HostNet.addVeth() creates both ends in their namespaces, from this namespace", async () => {
  const r = new FakeRunner();
  await new HostNet(r, "ul").addVeth("n1", "eth1", { peerNetns: "node1" });
  assert.deepEqual(r.calls, [[
    "ip",
    "netns",
    "exec",
    "ul",
    "ip",
    "link",
    "add",
    "n1",
    "type",
    "veth",
    "peer",
    "name",
    "eth1",
    "netns",
    "node1",
  ]]);
});

Deno.test("HostNet.addVeth() refuses names Linux would refuse, before running anything", async () => {
  const r = new FakeRunner();
  await assert.rejects(
    new HostNet(r).addVeth("a-very-long-veth-name", "x"),
    /veth name "a-very-long-veth-name"/,
  );
  assert.equal(r.calls.length, 0);
});

Deno.test("HostNet.sysctl() and txOffloadOff() run inside the namespace", async () => {
  const r = new FakeRunner();
  const h = new HostNet(r, "n1");
  await h.sysctl({ "net.ipv4.conf.all.rp_filter": 1, "net.ipv4.conf.all.arp_ignore": "1" });
  await h.txOffloadOff("eth1");
  await h.sysctl({});
  assert.deepEqual(r.calls, [
    [
      "ip",
      "netns",
      "exec",
      "n1",
      "sysctl",
      "-q",
      "-w",
      "net.ipv4.conf.all.rp_filter=1",
      "net.ipv4.conf.all.arp_ignore=1",
    ],
    ["ip", "netns", "exec", "n1", "ethtool", "-K", "eth1", "tx", "off"],
  ]);
});

Deno.test("HostNet.addAddress() and deleteLink() are idempotent, other failures throw", async () => {
  const r = new FakeRunner([
    ["ip addr add 10.0.0.1/24", { code: 2, stderr: "RTNETLINK answers: File exists" }],
    ["ip link delete gone", { code: 1, stderr: 'Cannot find device "gone"' }],
    ["ip addr add 10.0.0.2/24", { code: 2, stderr: 'Cannot find device "nope"' }],
  ]);
  const h = new HostNet(r);
  await h.addAddress("eth0", "10.0.0.1/24");
  await h.deleteLink("gone");
  await assert.rejects(
    h.addAddress("nope", "10.0.0.2/24"),
    /Cannot add address 10\.0\.0\.2\/24 to "nope"/,
  );
});

Deno.test("HostNet.linkUp() enslaves and sets MTU in one command", async () => {
  const r = new FakeRunner();
  await new HostNet(r).linkUp("veth0", { master: "br0", mtu: 1400 });
  assert.deepEqual(r.calls[0], [
    "ip",
    "link",
    "set",
    "veth0",
    "master",
    "br0",
    "mtu",
    "1400",
    "up",
  ]);
});

Deno.test("parseRoutes() keeps destination, device and gateway", () => {
  const json = JSON.stringify([
    { dst: "default", gateway: "192.0.2.1", dev: "eth0", flags: [] },
    { dst: "192.0.2.0/24", dev: "eth0", protocol: "kernel" },
    { type: "broadcast", dst: "127.255.255.255", dev: "lo", table: "local" },
  ]);
  assert.deepEqual(parseRoutes(json), [
    { dst: "default", dev: "eth0", gateway: "192.0.2.1" },
    { dst: "192.0.2.0/24", dev: "eth0" },
    { dst: "127.255.255.255", dev: "lo" },
  ]);
  assert.deepEqual(parseRoutes(""), []);
});

Deno.test("parseAddresses() lists every address with its prefix length", () => {
  const json = JSON.stringify([
    { ifname: "lo", addr_info: [{ local: "127.0.0.1", prefixlen: 8 }] },
    {
      ifname: "eth0",
      addr_info: [{ local: "192.0.2.2", prefixlen: 24 }, { local: "192.0.2.9", prefixlen: 32 }],
    },
    { ifname: "eth1", addr_info: [] },
  ]);
  assert.deepEqual(parseAddresses(json), [
    { ifname: "lo", cidr: "127.0.0.1/8" },
    { ifname: "eth0", cidr: "192.0.2.2/24" },
    { ifname: "eth0", cidr: "192.0.2.9/32" },
  ]);
});

Deno.test("checkIfname() names the input and why", () => {
  checkIfname("eth0");
  assert.throws(
    () => checkIfname("has space", "bridge name"),
    /bridge name "has space":.*whitespace/,
  );
  assert.throws(() => checkIfname(""), /interface name "": it is empty/);
});

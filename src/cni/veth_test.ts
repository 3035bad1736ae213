import assert from "node:assert/strict";
import type { Runner, RunOptions, RunResult } from "../exec/mod.ts";
import { IpVeth } from "./veth.ts";

class FakeRunner implements Runner {
  calls: { argv: string[]; stdin?: string; batch?: string }[] = [];
  constructor(private reply: (argv: readonly string[]) => RunResult) {}
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const i = argv.indexOf("-batch");
    this.calls.push({
      argv: [...argv],
      ...(opts?.stdin ? { stdin: opts.stdin } : {}),
      ...(i >= 0 ? { batch: Deno.readTextFileSync(argv[i + 1]!) } : {}),
    });
    const r = this.reply(argv);
    if (r.code !== 0 && opts?.check !== false) return Promise.reject(new Error(r.stderr));
    return Promise.resolve(r);
  }
}
const ok = { code: 0, stdout: "", stderr: "" };

Deno.test("IpVeth.create() makes the pod end inside the namespace in one command", async () => {
  const r = new FakeRunner(() => ok);
  await new IpVeth(r).create({
    hostName: "h1",
    hostMac: "02:00:00:00:00:01",
    podName: "eth0",
    podMac: "0a:58:00:00:00:05",
    netns: "/proc/42/ns/net",
    mtu: 1400,
  });
  assert.equal(
    r.calls[0]!.argv.join(" "),
    "ip link add h1 address 02:00:00:00:00:01 mtu 1400 up type veth peer name eth0 " +
      "address 0a:58:00:00:00:05 mtu 1400 netns /proc/42/ns/net",
  );
});

Deno.test("IpVeth.configurePod() batches address, up and route inside the namespace", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ovn-k8s-veth-test-" });
  try {
    const r = new FakeRunner(() => ok);
    await new IpVeth(r, { tempDir: dir }).configurePod("/run/netns/p", "eth0", {
      mac: "0a:58:00:00:00:05",
      cidr: "10.0.0.5/24",
      gateway: "10.0.0.1",
    });
    const argv = r.calls[0]!.argv;
    assert.deepEqual(argv.slice(0, 4), ["nsenter", "--net=/run/netns/p", "ip", "-batch"]);
    assert.ok(argv[4]?.startsWith(`${dir}/ovn-k8s-cni-batch-`), String(argv[4]));
    assert.equal(
      r.calls[0]!.batch,
      "link set dev eth0 address 0a:58:00:00:00:05\naddr add 10.0.0.5/24 dev eth0\n" +
        "link set eth0 up\nroute add default via 10.0.0.1 dev eth0\n",
    );
    // The batch file is removed, also when ip fails.
    const failing = new FakeRunner(() => ({ code: 2, stdout: "", stderr: "RTNETLINK: nope" }));
    await assert.rejects(
      new IpVeth(failing, { tempDir: dir }).configurePod("/run/netns/p", "eth0", {
        cidr: "10.0.0.5/24",
        gateway: "10.0.0.1",
      }),
      /nope/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IpVeth.deleteHost() tells whether the link existed", async () => {
  const gone = new FakeRunner(() => ({ code: 1, stdout: "", stderr: 'Cannot find device "h1"' }));
  assert.equal(await new IpVeth(gone).deleteHost("h1"), false);
  assert.equal(await new IpVeth(new FakeRunner(() => ok)).deleteHost("h1"), true);
  const broken = new FakeRunner(() => ({ code: 2, stdout: "", stderr: "Operation not permitted" }));
  await assert.rejects(new IpVeth(broken).deleteHost("h1"), /Operation not permitted/);
});

Deno.test("IpVeth.podLink() and podRoutes() parse ip -j output", async () => {
  const r = new FakeRunner((argv) => {
    if (argv.includes("route")) {
      return {
        code: 0,
        stdout: '[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"},{"dst":"10.0.0.0/24"}]',
        stderr: "",
      };
    }
    return {
      code: 0,
      stdout: JSON.stringify([{
        ifname: "eth0",
        address: "0A:58:00:00:00:05",
        mtu: 1400,
        flags: ["BROADCAST", "UP"],
        addr_info: [
          { local: "10.0.0.5", prefixlen: 24, scope: "global" },
          { local: "fe80::1", prefixlen: 64, scope: "link" },
        ],
      }]),
      stderr: "",
    };
  });
  const v = new IpVeth(r);
  assert.deepEqual(await v.podLink("/n", "eth0"), {
    name: "eth0",
    mac: "0a:58:00:00:00:05",
    mtu: 1400,
    up: true,
    addresses: ["10.0.0.5/24"],
  });
  assert.deepEqual(await v.podRoutes("/n", "eth0", 4), [
    { dst: "0.0.0.0/0", gw: "10.0.0.1" },
    { dst: "10.0.0.0/24" },
  ]);
});

/**
 * The hosts-in-namespaces lab (src/sandbox): nodes register their chassis in SB over the
 * underlay, ovn-controller creates a netdev br-int with geneve tunnels to the peers, labs
 * coexist, and dispose leaves no namespace, process, link or file behind.
 * Needs root, OVS and OVN.
 */
import assert from "node:assert/strict";
import { openLab, pickUnderlay, startLab } from "../../src/sandbox/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { pollUntil } from "../../src/daemons/mod.ts";
import { pidAlive, runCommand as run } from "../helpers/command.ts";

async function netnsWithPrefix(prefix: string): Promise<string[]> {
  const { stdout } = await run(["ip", "netns", "list"]);
  return stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(`${prefix}-`));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Every pid the lab's pidfiles name (central and nodes). */
async function labPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".pid")) pids.push(Number((await Deno.readTextFile(p)).trim()));
    }
  };
  await walk(dir);
  return pids;
}

const uniquePrefix = (tag: string) => `${tag}${crypto.randomUUID().slice(0, 6)}`;

Deno.test("startLab() registers 3 chassis with netdev br-int and geneve tunnels; dispose leaves nothing", async () => {
  const prefix = uniquePrefix("lab");
  let dir = "";
  let pids: number[] = [];
  let rootLink = "";
  {
    await using lab = await startLab({ nodes: 3, prefix, log: silentLogger });
    dir = lab.dir;
    rootLink = lab.rootLink;
    pids = await labPids(dir);
    assert.equal(pids.length, 3 + 3 * 3, "central: nb, sb, northd; each node: 3 daemons");
    assert.ok(pids.every(pidAlive));
    assert.deepEqual(
      (await netnsWithPrefix(prefix)).sort(),
      [`${prefix}-central`, `${prefix}-node1`, `${prefix}-node2`, `${prefix}-node3`, `${prefix}-ul`]
        .sort(),
    );

    // From the root namespace over the underlay (TCP), as a user's tool would.
    const chassis = await run([
      "ovn-sbctl",
      `--db=${lab.central.sbRemote}`,
      "--timeout=10",
      "--format=csv",
      "--no-headings",
      "--columns=name",
      "list",
      "Chassis",
    ]);
    assert.equal(chassis.code, 0, chassis.stderr);
    assert.deepEqual(chassis.stdout.trim().split("\n").sort(), ["node1", "node2", "node3"]);

    for (const n of lab.nodes) {
      const dp = await n.exec([
        "ovs-vsctl",
        "--timeout=5",
        "get",
        "Bridge",
        "br-int",
        "datapath_type",
      ]);
      assert.equal(dp.stdout, "netdev", n.name);
      const tunnels = await n.exec([
        "ovs-vsctl",
        "--timeout=5",
        "--format=csv",
        "--no-headings",
        "--columns=options",
        "find",
        "Interface",
        "type=geneve",
      ]);
      const remotes = [...tunnels.stdout.matchAll(/remote_ip="*([0-9.]+)/g)].map((m) => m[1]);
      assert.deepEqual(
        remotes.sort(),
        lab.nodes.filter((m) => m !== n).map((m) => m.underlayIp).sort(),
        `${n.name} tunnels`,
      );
      const ids = await n.exec([
        "ovs-vsctl",
        "--timeout=5",
        "get",
        "Open_vSwitch",
        ".",
        "external_ids",
      ]);
      assert.match(ids.stdout, new RegExp(`ovn-encap-ip="${n.underlayIp.replaceAll(".", "\\.")}"`));
      assert.match(ids.stdout, new RegExp(`ovn-remote="${lab.central.sbRemote}"`));
      // G2 and G1 in place.
      const rp = await n.exec([
        "sysctl",
        "-n",
        "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.all.arp_ignore",
      ]);
      assert.deepEqual(rp.stdout.split("\n"), ["1", "1"]);
      const k = await n.exec(["ethtool", "-k", "eth1"]);
      assert.match(k.stdout, /^tx-checksumming: off/m);
      // The node reaches the root namespace on the underlay (startLab pinged only central
      // and the peers: this first packet may wait for ARP through the userspace bridge).
      await pollUntil(
        `${n.name} to ping the root namespace at ${lab.underlay.rootIp}`,
        async () =>
          (await n.exec(["ping", "-c1", "-W2", lab.underlay.rootIp], { check: false })).code === 0,
        { timeoutMs: 30_000 },
      );
    }
    // northd answers "standby" until it holds the SB lock (startLab does not wait for it).
    const st = await pollUntil(
      "northd active",
      async () => {
        const s = await lab.status();
        return s.central.northd.status === "active" ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(st.chassis.map((c) => c.name), ["node1", "node2", "node3"]);
    assert.ok(st.nodes.every((n) => n.brInt === "netdev"));
  }
  assert.deepEqual(await netnsWithPrefix(prefix), []);
  assert.deepEqual(pids.filter(pidAlive), []);
  assert.equal(await exists(dir), false, `${dir} still exists`);
  const link = await run(["ip", "link", "show", "dev", rootLink]);
  assert.notEqual(link.code, 0, `root link ${rootLink} still exists`);
});

Deno.test("startLab() instances coexist on distinct underlays; openLab() reopens one and down() removes only it", async () => {
  // Two prefixes whose first choice of underlay is the same /24: started at the same
  // time, the second must still end up on another one.
  const pa = uniquePrefix("la");
  const first = (p: string) => pickUnderlay([], [], p).toString();
  let pb = uniquePrefix("lb");
  while (first(pb) !== first(pa)) pb = uniquePrefix("lb");
  const [a, b] = await Promise.all([
    startLab({ nodes: 1, prefix: pa, log: silentLogger }),
    startLab({ nodes: 1, prefix: pb, log: silentLogger }),
  ]);
  await using _a = a;
  await using _b = b;
  assert.notEqual(a.underlay.cidr, b.underlay.cidr);
  for (const lab of [a, b]) {
    assert.deepEqual((await lab.status()).chassis.map((c) => c.name), ["node1"]);
  }
  const reopened = await openLab(b.dir, { log: silentLogger });
  assert.ok(reopened);
  assert.equal(reopened.underlay.cidr, b.underlay.cidr);
  const pidsB = await labPids(b.dir);
  assert.equal((await reopened.status()).chassis.length, 1);
  await reopened.down();
  assert.deepEqual(await netnsWithPrefix(pb), []);
  assert.deepEqual(pidsB.filter(pidAlive), []);
  assert.equal(await exists(b.dir), false);
  // The other lab is untouched.
  assert.equal((await netnsWithPrefix(pa)).length, 3);
  assert.deepEqual((await a.status()).chassis.map((c) => c.name), ["node1"]);
  assert.equal(await openLab(b.dir), undefined);
});

Deno.test("startLab() refuses a bad prefix and an underlay that collides with this machine's routes", async () => {
  await assert.rejects(
    startLab({ prefix: "Bad_Prefix" }),
    /Cannot use sandbox prefix "Bad_Prefix"/,
  );
  const { stdout } = await run(["ip", "-4", "-j", "route", "show", "table", "main"]);
  const route = (JSON.parse(stdout) as Array<{ dst: string }>).find((r) => /\/\d+$/.test(r.dst));
  if (route) {
    await assert.rejects(
      startLab({ prefix: uniquePrefix("bad"), underlay: route.dst, log: silentLogger }),
      /collides with this machine's route/,
    );
  }
});

Deno.test("startLab() that fails half-way removes what it made", async () => {
  const prefix = uniquePrefix("fail");
  const root = await Deno.makeTempDir({ prefix: "ovn-k8s-lab-fail-" });
  try {
    // A deadline no daemon can meet: the central databases never get to answer in time.
    await assert.rejects(
      startLab({ nodes: 1, prefix, dir: `${root}/lab`, timeoutMs: 1, log: silentLogger }),
      /Timed out|aborted|Command failed/,
    );
    assert.deepEqual(await netnsWithPrefix(prefix), []);
    assert.equal(await exists(`${root}/lab`), false);
    const ps = await run(["ps", "-eo", "stat=,args="]);
    const ours = ps.stdout.split("\n").filter((l) => l.includes(`${root}/lab`) && !/^Z/.test(l));
    assert.deepEqual(ours, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

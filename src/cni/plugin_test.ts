import assert from "node:assert/strict";
import { CommandError } from "../exec/mod.ts";
import { silentLogger } from "../log/mod.ts";
import type { ApiAccess } from "./kubeconfig.ts";
import type { PlugSpec, PortOps, PortState } from "./ovs_port.ts";
import { type CniDeps, runCni } from "./plugin.ts";
import type { PodInfo, PodReader } from "./pod_reader.ts";
import type { LinkState, PodAddressing, RouteState, VethOps, VethSpec } from "./veth.ts";

const ANN = '{"ip_address":"10.244.1.5/24","mac_address":"0a:58:0a:f4:01:05",' +
  '"gateway_ip":"10.244.1.1"}';
const CID = "3f2a9c0d1e5b7a8c9d0e1f2a3b4c5d6e";
const HOST = CID.slice(0, 15);

/** An in-memory host: links in the node and in pod namespaces, and OVS ports. */
class World implements VethOps, PortOps {
  calls: string[] = [];
  hostLinks = new Map<string, LinkState>();
  podLinks = new Map<string, LinkState & { routes: RouteState[] }>();
  ports = new Map<string, PortState>();
  hostIds: Record<string, string> = { "k8s-api-server": "127.0.0.1:1" };
  datapathType = "netdev";
  fail: Record<string, Error> = {};
  installed = true;

  #maybeFail(op: string) {
    this.calls.push(op);
    const e = this.fail[op];
    if (e) throw e;
  }
  create(s: VethSpec): Promise<void> {
    this.#maybeFail("create");
    if (this.hostLinks.has(s.hostName)) {
      throw new CommandError(["ip"], 2, "RTNETLINK answers: File exists");
    }
    this.hostLinks.set(s.hostName, {
      name: s.hostName,
      mac: s.hostMac,
      mtu: s.mtu,
      up: true,
      addresses: [],
    });
    this.podLinks.set(`${s.netns}/${s.podName}`, {
      name: s.podName,
      mac: s.podMac ?? "12:34:56:78:9a:bc",
      mtu: s.mtu,
      up: false,
      addresses: [],
      routes: [],
    });
    return Promise.resolve();
  }
  configurePod(netns: string, ifName: string, a: PodAddressing): Promise<void> {
    this.#maybeFail("configurePod");
    const l = this.podLinks.get(`${netns}/${ifName}`)!;
    if (a.mac) l.mac = a.mac;
    l.up = true;
    l.addresses.push(a.cidr);
    l.routes.push({ dst: "0.0.0.0/0", gw: a.gateway });
    return Promise.resolve();
  }
  disableTxOffload(): Promise<void> {
    this.#maybeFail("disableTxOffload");
    return Promise.resolve();
  }
  deleteHost(name: string): Promise<boolean> {
    this.#maybeFail("deleteHost");
    const had = this.hostLinks.delete(name);
    // The peer goes with it.
    for (const [k, v] of this.podLinks) {
      if (v.mac && had && k.endsWith("/eth0")) this.podLinks.delete(k);
    }
    return Promise.resolve(had);
  }
  hostLink(name: string) {
    return Promise.resolve(this.hostLinks.get(name));
  }
  podLink(netns: string, ifName: string) {
    return Promise.resolve(this.podLinks.get(`${netns}/${ifName}`));
  }
  podRoutes(netns: string, ifName: string): Promise<RouteState[]> {
    return Promise.resolve(this.podLinks.get(`${netns}/${ifName}`)?.routes ?? []);
  }
  plug(s: PlugSpec): Promise<void> {
    this.#maybeFail("plug");
    this.ports.set(s.name, { bridge: s.bridge, externalIds: { ...s.externalIds } });
    if (this.installed) this.ports.get(s.name)!.externalIds["ovn-installed"] = "true";
    return Promise.resolve();
  }
  waitInstalled(name: string): Promise<void> {
    this.#maybeFail("waitInstalled");
    if (this.ports.get(name)?.externalIds["ovn-installed"] !== "true") {
      return Promise.reject(new CommandError(["ovs-vsctl"], 142, "timeout"));
    }
    return Promise.resolve();
  }
  unplug(name: string): Promise<void> {
    this.#maybeFail("unplug");
    this.ports.delete(name);
    return Promise.resolve();
  }
  lookup(name: string) {
    return Promise.resolve(this.ports.get(name));
  }
  hostInfo(bridge: string) {
    this.calls.push("hostInfo");
    return Promise.resolve({
      externalIds: this.hostIds,
      datapathType: bridge === "br-int" ? this.datapathType : undefined,
    });
  }
  close() {}
}

class Pods implements PodReader {
  reads = 0;
  accessSeen: ApiAccess[] = [];
  constructor(public pod: PodInfo | undefined, public annotateAfter = 0) {}
  getPod(): Promise<PodInfo | undefined> {
    this.reads++;
    if (!this.pod) return Promise.resolve(undefined);
    if (this.reads <= this.annotateAfter) return Promise.resolve({ annotations: {} });
    return Promise.resolve(this.pod);
  }
  close() {}
}

function setup(opts: { pod?: PodInfo | undefined; annotateAfter?: number } = {}) {
  const world = new World();
  const pods = new Pods(
    "pod" in opts ? opts.pod : { uid: "uid-1", annotations: { ovn: ANN } },
    opts.annotateAfter ?? 0,
  );
  const deps: CniDeps = {
    veth: world,
    ports: () => world,
    podReader: (a) => {
      pods.accessSeen.push(a);
      return pods;
    },
    loadKubeconfig: (path) => Promise.resolve({ server: "https://kc", source: path }),
    netnsExists: (p) => Promise.resolve(p.startsWith("/var/run/netns/")),
    log: silentLogger,
    signal: new AbortController().signal,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
  };
  return { world, pods, deps };
}

function env(command: string, extra: Record<string, string> = {}) {
  const e: Record<string, string> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: CID,
    CNI_NETNS: "/var/run/netns/p1",
    CNI_IFNAME: "eth0",
    CNI_PATH: "/usr/lib/cni",
    CNI_ARGS: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1",
    ...extra,
  };
  return (k: string) => e[k];
}

const conf = (o: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "ovn",
    type: "ovn-k8s",
    annotationTimeoutSeconds: 0.3,
    ...o,
  });

Deno.test("runCni() ADD plugs the pod and prints a 1.0.0 result", async () => {
  const { world, deps, pods } = setup({ annotateAfter: 2 });
  const out = await runCni(env("ADD"), conf(), deps);
  assert.equal(out.exitCode, 0, out.stdout);
  const r = JSON.parse(out.stdout);
  assert.equal(r.cniVersion, "1.0.0");
  assert.deepEqual(r.ips, [{ address: "10.244.1.5/24", gateway: "10.244.1.1", interface: 1 }]);
  assert.equal(r.interfaces[1].sandbox, "/var/run/netns/p1");
  assert.equal(r.interfaces[0].name, HOST);
  assert.equal(pods.reads, 3, "polled until the annotation came");
  assert.equal(pods.accessSeen[0]!.server, "http://127.0.0.1:1", "from OVS external_ids");
  const port = world.ports.get(HOST)!;
  assert.equal(port.bridge, "br-int");
  assert.equal(port.externalIds["iface-id"], "default_web-1");
  assert.equal(port.externalIds["attached-mac"], "0a:58:0a:f4:01:05");
  assert.equal(port.externalIds["iface-id-ver"], "uid-1");
  assert.equal(port.externalIds["iface-status"], "active");
  assert.deepEqual(world.podLinks.get("/var/run/netns/p1/eth0")!.addresses, ["10.244.1.5/24"]);
  assert.equal(world.podLinks.get("/var/run/netns/p1/eth0")!.mac, "0a:58:0a:f4:01:05");
  assert.equal(world.podLinks.get("/var/run/netns/p1/eth0")!.mtu, 1400);
  assert.ok(world.calls.includes("disableTxOffload"), "netdev bridge: tx off");
  assert.ok(world.calls.includes("waitInstalled"));
});

Deno.test("runCni() ADD leaves tx offload alone on a kernel-datapath bridge", async () => {
  const { world, deps } = setup();
  world.datapathType = "";
  const out = await runCni(env("ADD"), conf({ cniVersion: "0.3.1", mtu: 1300 }), deps);
  assert.equal(out.exitCode, 0);
  assert.equal(JSON.parse(out.stdout).ips[0].version, "4");
  assert.ok(!world.calls.includes("disableTxOffload"));
  assert.equal(world.hostLinks.get(HOST)!.mtu, 1300);
});

Deno.test("runCni() ADD uses the kubeconfig when the config names one", async () => {
  const { deps, pods } = setup();
  const out = await runCni(env("ADD"), conf({ kubeconfig: "/etc/kc" }), deps);
  assert.equal(out.exitCode, 0);
  assert.equal(pods.accessSeen[0]!.server, "https://kc");
});

Deno.test("runCni() ADD fails with code 11 naming the pod when no annotation comes", async () => {
  const { world, deps } = setup({ annotateAfter: 1_000_000 });
  const out = await runCni(env("ADD"), conf(), deps);
  assert.equal(out.exitCode, 1);
  const e = JSON.parse(out.stdout);
  assert.equal(e.code, 11);
  assert.equal(e.cniVersion, "1.0.0");
  assert.match(e.msg, /pod default\/web-1: its "ovn" annotation did not appear within 0.3 s/);
  assert.match(e.details, /watcher/);
  assert.equal(world.hostLinks.size, 0, "the veth made meanwhile is removed");
  assert.equal(world.podLinks.size, 0);
  assert.equal(world.ports.size, 0);
  assert.ok(!world.calls.includes("plug"));
});

Deno.test("runCni() ADD reports a missing pod and a missing API server", async () => {
  const { deps } = setup({ pod: undefined });
  const e = JSON.parse((await runCni(env("ADD"), conf(), deps)).stdout);
  assert.match(e.details, /HTTP 404/);
  const s = setup();
  s.world.hostIds = {};
  const e2 = JSON.parse((await runCni(env("ADD"), conf(), s.deps)).stdout);
  assert.equal(e2.code, 101);
  assert.match(e2.msg, /k8s-api-server is not set/);
});

Deno.test("runCni() ADD fails with code 3 when CNI_NETNS does not exist", async () => {
  const { deps } = setup();
  const out = await runCni(env("ADD", { CNI_NETNS: "/proc/999999/ns/net" }), conf(), deps);
  assert.equal(JSON.parse(out.stdout).code, 3);
});

Deno.test("runCni() ADD undoes the veth when plugging fails", async () => {
  const { world, deps } = setup();
  world.fail.plug = new CommandError(["ovs-vsctl"], 1, "ovs-vsctl: transaction error");
  const out = await runCni(env("ADD"), conf(), deps);
  const e = JSON.parse(out.stdout);
  assert.equal(e.code, 106);
  assert.match(e.msg, /Cannot plug .* into bridge br-int: ovs-vsctl: transaction error/);
  assert.equal(world.hostLinks.size, 0, "veth removed");
  assert.equal(world.ports.size, 0);
  assert.ok(world.calls.includes("unplug"));
});

Deno.test("runCni() ADD onto a missing bridge fails before creating anything", async () => {
  const { world, deps, pods } = setup();
  const e = JSON.parse((await runCni(env("ADD"), conf({ bridge: "br-nope" }), deps)).stdout);
  assert.equal(e.code, 106);
  assert.match(e.msg, /bridge br-nope does not exist/);
  assert.deepEqual(world.calls, ["hostInfo"]);
  assert.equal(pods.reads, 0);
});

Deno.test("runCni() ADD undoes port and veth when ovn-installed never comes", async () => {
  const { world, deps } = setup();
  world.installed = false;
  const out = await runCni(env("ADD"), conf({ ovnInstalledTimeoutSeconds: 1 }), deps);
  const e = JSON.parse(out.stdout);
  assert.equal(e.code, 11);
  assert.match(e.msg, /ovn-controller did not mark .* ovn-installed within 1 s/);
  assert.equal(world.hostLinks.size, 0);
  assert.equal(world.ports.size, 0);
});

Deno.test("runCni() ADD skips the ovn-installed wait when its timeout is 0", async () => {
  const { world, deps } = setup();
  world.installed = false;
  const out = await runCni(env("ADD"), conf({ ovnInstalledTimeoutSeconds: 0 }), deps);
  assert.equal(out.exitCode, 0);
  assert.ok(!world.calls.includes("waitInstalled"));
});

Deno.test("runCni() ADD undoes the veth when addressing the pod fails", async () => {
  const { world, deps } = setup();
  world.fail.configurePod = new CommandError(["ip"], 2, "Error: Nexthop has invalid gateway.");
  const e = JSON.parse((await runCni(env("ADD"), conf(), deps)).stdout);
  assert.equal(e.code, 100);
  assert.match(e.msg, /Cannot configure eth0 of pod default\/web-1 .*invalid gateway/);
  assert.equal(world.hostLinks.size, 0);
  assert.equal(world.ports.size, 0, "the port plugged meanwhile is removed too");
});

Deno.test("runCni() ADD twice replaces the first veth", async () => {
  const { world, deps } = setup();
  assert.equal((await runCni(env("ADD"), conf(), deps)).exitCode, 0);
  world.podLinks.clear();
  const out = await runCni(env("ADD"), conf(), deps);
  assert.equal(out.exitCode, 0, out.stdout);
  assert.equal(world.hostLinks.size, 1);
});

Deno.test("runCni() DEL removes port and veth and succeeds when both are gone", async () => {
  const { world, deps } = setup();
  await runCni(env("ADD"), conf(), deps);
  const del = env("DEL", { CNI_NETNS: "", CNI_ARGS: "" });
  assert.deepEqual(await runCni(del, conf(), deps), { stdout: "", exitCode: 0 });
  assert.equal(world.ports.size, 0);
  assert.equal(world.hostLinks.size, 0);
  assert.deepEqual(await runCni(del, conf(), deps), { stdout: "", exitCode: 0 });
});

Deno.test("runCni() DEL reports an unreachable OVS database", async () => {
  const { world, deps } = setup();
  world.fail.unplug = new CommandError(["ovs-vsctl"], 1, "database connection failed");
  const e = JSON.parse((await runCni(env("DEL"), conf(), deps)).stdout);
  assert.equal(e.code, 106);
  assert.match(e.msg, /database connection failed/);
});

Deno.test("runCni() CHECK passes on what ADD made and names each difference", async () => {
  const { world, deps } = setup();
  const add = await runCni(env("ADD"), conf({ cniVersion: "0.4.0" }), deps);
  const prevResult = JSON.parse(add.stdout);
  const check = conf({ cniVersion: "0.4.0", prevResult });
  assert.deepEqual(await runCni(env("CHECK"), check, deps), { stdout: "", exitCode: 0 });

  const link = world.podLinks.get("/var/run/netns/p1/eth0")!;
  link.addresses = [];
  link.routes = [];
  world.ports.get(HOST)!.externalIds["iface-id"] = "other_pod";
  const e = JSON.parse((await runCni(env("CHECK"), check, deps)).stdout);
  assert.equal(e.code, 103);
  assert.match(e.msg, /lacks address 10.244.1.5\/24/);
  assert.match(e.msg, /route 0.0.0.0\/0 via 10.244.1.1 is missing/);
  assert.match(e.msg, /iface-id "other_pod", not default_web-1/);
});

Deno.test("runCni() CHECK needs 0.4.0+ and a prevResult", async () => {
  const { deps } = setup();
  const old = JSON.parse((await runCni(env("CHECK"), conf({ cniVersion: "0.3.1" }), deps)).stdout);
  assert.equal(old.code, 1);
  const none = JSON.parse((await runCni(env("CHECK"), conf(), deps)).stdout);
  assert.equal(none.code, 7);
  assert.match(none.msg, /no prevResult/);
});

Deno.test("runCni() VERSION answers without a config, echoing its cniVersion", async () => {
  const { deps } = setup();
  const v = await runCni(env("VERSION"), "", deps);
  assert.equal(v.exitCode, 0);
  assert.equal(JSON.parse(v.stdout).cniVersion, "1.0.0");
  const v2 = await runCni(env("VERSION"), '{"cniVersion":"0.3.1"}', deps);
  assert.equal(JSON.parse(v2.stdout).cniVersion, "0.3.1");
});

Deno.test("runCni() reports bad stdin and env with the spec's codes", async () => {
  const { deps } = setup();
  assert.equal(JSON.parse((await runCni(env("ADD"), "{", deps)).stdout).code, 6);
  const v = JSON.parse((await runCni(env("ADD"), '{"cniVersion":"2.0.0"}', deps)).stdout);
  assert.equal(v.code, 1);
  assert.equal(v.cniVersion, "1.0.0", "an error speaks a version we support");
  const noArgs = env("ADD", { CNI_ARGS: "" });
  assert.equal(JSON.parse((await runCni(noArgs, conf(), deps)).stdout).code, 4);
});

Deno.test("runCni() ADD reports a veth that cannot be made, after reading the pod", async () => {
  const { world, deps, pods } = setup();
  world.fail.create = new CommandError(["ip"], 2, "RTNETLINK answers: Operation not permitted");
  const e = JSON.parse((await runCni(env("ADD"), conf(), deps)).stdout);
  assert.equal(e.code, 100);
  assert.match(e.msg, /Cannot create veth .* <-> eth0 for pod default\/web-1: .*not permitted/);
  assert.equal(pods.reads, 1);
  assert.ok(!world.calls.includes("plug"));
});

/**
 * The CNI plugin against real OVS and OVN: a one-node sandbox lab (central NB/SB and
 * northd, the node's ovsdb-server, ovs-vswitchd on the userspace datapath and
 * ovn-controller in their own namespace), pod namespaces, and a fake API server
 * (Deno.serve on the lab's root underlay address, which the node namespace reaches).
 * The plugin runs as a container runtime runs it: `main.ts` with CNI_* in the
 * environment and the network config on stdin, inside the node namespace.
 *
 * ovn-controller is real here, so ADD's wait for `ovn-installed=true` is the real
 * one; the unit tests cover `ovnInstalledTimeoutSeconds: 0` (no wait).
 *
 * Needs root, Open vSwitch and OVN, containernetworking-plugins (for chaining).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ProcessRunner } from "../../src/exec/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { startLab } from "../../src/sandbox/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
const TUNING = "/usr/lib/cni/tuning";
const runner = new ProcessRunner();

interface Pod {
  name: string;
  ip: string;
  mac: string;
  cid: string;
  netns: string;
  annotate: boolean;
  /** Annotate the pod 0.5 s after its first read. */
  annotateLater?: boolean;
}

async function pollUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("cni plugin: ADD, CHECK, chaining, DEL and rollback on real OVS/OVN", async (t) => {
  const prefix = `cni${crypto.randomUUID().slice(0, 5)}`;
  await using lab = await startLab({ nodes: 1, prefix, log: silentLogger });
  const node = lab.node("node1");
  const tmp = await Deno.makeTempDir({ prefix: "ovn-k8s-cni-it-" });
  const pods = new Map<string, Pod>();
  const apiLog: string[] = [];
  await using api = Deno.serve(
    { hostname: lab.underlay.rootIp, port: 0, onListen() {} },
    (req) => {
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(new URL(req.url).pathname);
      apiLog.push(`${req.headers.get("authorization")} ${new URL(req.url).pathname}`);
      const pod = m && m[1] === "default" ? pods.get(m[2]!) : undefined;
      if (!pod) return new Response('{"kind":"Status","code":404}', { status: 404 });
      if (!pod.annotate && pod.annotateLater) {
        // The watcher "annotates" only after the plugin has read the pod without it.
        delete pod.annotateLater;
        setTimeout(() => pod.annotate = true, 500);
      }
      const annotations: Record<string, string> = pod.annotate
        ? {
          ovn: JSON.stringify({
            ip_address: `${pod.ip}/24`,
            mac_address: pod.mac,
            gateway_ip: "10.244.1.1",
          }),
        }
        : {};
      return Response.json({ metadata: { name: pod.name, uid: `uid-${pod.name}`, annotations } });
    },
  );
  const apiUrl = `http://${lab.underlay.rootIp}:${api.addr.port}`;
  const nbctl = (...args: string[]) =>
    runner.run(["ovn-nbctl", `--db=unix:${lab.central.nbSock}`, "--timeout=20", ...args]);
  const vsctl = (...args: string[]) => node.exec(["ovs-vsctl", "--timeout=10", ...args]);
  const inPod = (p: Pod, argv: string[], check = true) =>
    runner.run(["nsenter", `--net=${p.netns}`, ...argv], { check });

  try {
    await vsctl(
      "set",
      "Open_vSwitch",
      ".",
      `external_ids:k8s-api-server=${apiUrl}`,
      "external_ids:k8s-api-token=tok-1",
    );
    await nbctl("ls-add", "node1");
    const newPod = async (i: number, opts: { lsp?: boolean; annotate?: boolean } = {}) => {
      const name = `pod${i}`;
      const p: Pod = {
        name,
        ip: `10.244.1.${10 + i}`,
        mac: `0a:58:0a:f4:01:${(10 + i).toString(16).padStart(2, "0")}`,
        cid: `${prefix}c${i}`.padEnd(64, "0"),
        netns: `/run/netns/${prefix}-p${i}`,
        annotate: opts.annotate ?? true,
      };
      await runner.run(["ip", "netns", "add", `${prefix}-p${i}`]);
      await inPod(p, ["ip", "link", "set", "lo", "up"]);
      if (opts.lsp ?? true) {
        await nbctl(
          "lsp-add",
          "node1",
          `default_${name}`,
          "--",
          "lsp-set-addresses",
          `default_${name}`,
          `${p.mac} ${p.ip}`,
        );
      }
      pods.set(name, p);
      return p;
    };
    const cni = async (
      command: string,
      p: Pod,
      conf: Record<string, unknown>,
      program: string[] = [DENO, "run", "-A", "--no-prompt", MAIN],
    ) => {
      const r = await node.exec(program, {
        check: false,
        stdin: JSON.stringify({ cniVersion: "1.0.0", name: "ovn", type: "ovn-k8s", ...conf }),
        env: {
          CNI_COMMAND: command,
          CNI_CONTAINERID: p.cid,
          CNI_NETNS: p.netns,
          CNI_IFNAME: "eth0",
          CNI_PATH: "/usr/lib/cni",
          CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name}`,
          NO_COLOR: "1",
        },
      });
      return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
    };
    const hostVeth = (p: Pod) => p.cid.slice(0, 15);
    const hostLinkExists = async (p: Pod) =>
      (await node.exec(["ip", "link", "show", hostVeth(p)], { check: false })).code === 0;
    const portExists = async (p: Pod) =>
      (await vsctl("--format=json", "--columns=name", "find", "Interface", `name=${hostVeth(p)}`))
        .stdout.includes(hostVeth(p));

    const p1 = await newPod(1);
    const p2 = await newPod(2, { annotate: false });
    const base = { annotationTimeoutSeconds: 20, ovnInstalledTimeoutSeconds: 20 };
    let result1: Record<string, unknown> = {};

    await t.step("VERSION prints the supported versions", async () => {
      const r = await cni("VERSION", p1, {});
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.json.supportedVersions, [
        "0.1.0",
        "0.2.0",
        "0.3.0",
        "0.3.1",
        "0.4.0",
        "1.0.0",
      ]);
      // By the original names, by any name with CNI_COMMAND set, and as `ovn-k8s cni`.
      for (const argv0 of ["ovn_cni", "ovn-k8s-cni-overlay", "10-whatever"]) {
        const byName = await runner.run([DENO, "run", "-A", MAIN], {
          env: { OVN_K8S_ARGV0: argv0, CNI_COMMAND: "VERSION" },
          stdin: '{"cniVersion":"0.4.0"}',
        });
        assert.equal(JSON.parse(byName.stdout).cniVersion, "0.4.0", argv0);
      }
      const sub = await runner.run([DENO, "run", "-A", MAIN, "cni"], {
        env: { CNI_COMMAND: "" },
        check: false,
      });
      assert.equal(sub.code, 1);
      assert.equal(JSON.parse(sub.stdout).code, 4, "stdout carries only the error JSON");
      assert.match(sub.stderr, /CNI_COMMAND is not set/, "the log goes to stderr");
    });

    await t.step("ADD plugs pod1 into br-int and waits for ovn-installed", async () => {
      const logFile = `${tmp}/cni.log`;
      const r = await cni("ADD", p1, { ...base, ovsdb: node.ovsDbRemote, logFile });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(await Deno.readTextFile(logFile), /\|info\|cni\|ADD done .*pod=default\/pod1/);
      assert.equal(r.stderr, "", "with logFile, nothing on stderr either");
      result1 = r.json;
      assert.equal(r.json.cniVersion, "1.0.0");
      assert.deepEqual(r.json.ips, [{
        address: `${p1.ip}/24`,
        gateway: "10.244.1.1",
        interface: 1,
      }]);
      assert.deepEqual(r.json.routes, [{ dst: "0.0.0.0/0", gw: "10.244.1.1" }]);
      assert.deepEqual(r.json.interfaces[1], { name: "eth0", mac: p1.mac, sandbox: p1.netns });
      assert.equal(r.json.interfaces[0].name, hostVeth(p1));
      const link = JSON.parse((await inPod(p1, ["ip", "-j", "addr", "show", "eth0"])).stdout)[0];
      assert.equal(link.address, p1.mac);
      assert.equal(link.mtu, 1400);
      assert.ok(link.flags.includes("UP"));
      assert.ok(link.addr_info.some((a: { local: string }) => a.local === p1.ip));
      const route = (await inPod(p1, ["ip", "route", "show", "default"])).stdout;
      assert.match(route, /default via 10\.244\.1\.1 dev eth0/);
      const tx = (await inPod(p1, ["ethtool", "-k", "eth0"])).stdout;
      assert.match(tx, /tx-checksumming: off/, "userspace datapath: tx offload turned off (G1)");
      const ids = (await vsctl("get", "Interface", hostVeth(p1), "external_ids")).stdout;
      assert.match(ids, /iface-id=default_pod1/);
      assert.match(ids, new RegExp(`attached-mac="${p1.mac}"`));
      assert.match(ids, /iface-id-ver=uid-pod1/);
      assert.match(ids, /ovn-installed="?true/);
      assert.equal((await vsctl("port-to-br", hostVeth(p1))).stdout, "br-int");
      assert.ok(apiLog.some((l) => l === "Bearer tok-1 /api/v1/namespaces/default/pods/pod1"));
    });

    await t.step("ADD waits for a late annotation (kubeconfig, ovs-vsctl driver)", async () => {
      const kc = `${tmp}/kubeconfig`;
      await Deno.writeTextFile(
        kc,
        `apiVersion: v1\nclusters:\n- cluster:\n    server: ${apiUrl}\n  name: lab\ncontexts:\n` +
          `- context:\n    cluster: lab\n    user: u\n  name: lab\ncurrent-context: lab\n` +
          `users:\n- name: u\n  user:\n    token: tok-kc\n`,
      );
      p2.annotateLater = true;
      const conf = { ...base, kubeconfig: kc, ovsDriver: "ovs-vsctl" };
      const r = await cni("ADD", p2, conf);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const check = await cni("CHECK", p2, { ...conf, prevResult: r.json });
      assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
      assert.ok(
        apiLog.filter((l) => l === "Bearer tok-kc /api/v1/namespaces/default/pods/pod2").length > 1,
      );
      await pollUntil(
        "pod1 -> pod2 ping through OVN",
        async () => (await inPod(p1, ["ping", "-c1", "-W1", p2.ip], false)).code === 0,
      );
    });

    await t.step("CHECK passes on the live pod and fails when it drifts", async () => {
      const conf = { ...base, cniVersion: "0.4.0", prevResult: result1 };
      const ok = await cni("CHECK", p1, conf);
      assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
      assert.equal(ok.stdout, "");
      await inPod(p1, ["ip", "addr", "del", `${p1.ip}/24`, "dev", "eth0"]);
      const bad = await cni("CHECK", p1, conf);
      assert.equal(bad.code, 1);
      assert.equal(bad.json.code, 103);
      assert.match(bad.json.msg, /lacks address 10\.244\.1\.11\/24/);
      await inPod(p1, ["ip", "addr", "add", `${p1.ip}/24`, "dev", "eth0"]);
      await inPod(p1, ["ip", "route", "replace", "default", "via", "10.244.1.1"]);
    });

    await t.step("the reference tuning plugin accepts our result as prevResult", async () => {
      const add = await cni("ADD", p1, { ...base });
      assert.equal(add.code, 0, add.stdout);
      const r = await cni("ADD", p1, {
        type: "tuning",
        sysctl: { "net.ipv4.conf.eth0.arp_filter": "1" },
        mtu: 1360,
        prevResult: add.json,
      }, [TUNING]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.equal(r.json.cniVersion, "1.0.0");
      assert.deepEqual(r.json.ips, add.json.ips);
      const v = await inPod(p1, ["cat", "/proc/sys/net/ipv4/conf/eth0/arp_filter"]);
      assert.equal(v.stdout, "1");
      const link = JSON.parse((await inPod(p1, ["ip", "-j", "link", "show", "eth0"])).stdout)[0];
      assert.equal(link.mtu, 1360);
      // The runtime's CHECK of the chain gives us the chain's final result.
      const check = await cni("CHECK", p1, { ...base, prevResult: r.json });
      assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
    });

    await t.step("DEL removes port and veth, and succeeds again when they are gone", async () => {
      for (let i = 0; i < 2; i++) {
        const r = await cni("DEL", p1, { ...base });
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.stdout, "");
      }
      assert.equal(await hostLinkExists(p1), false);
      assert.equal(await portExists(p1), false);
      assert.equal((await inPod(p1, ["ip", "link", "show", "eth0"], false)).code, 1);
      const again = await cni("DEL", { ...p1, netns: "" }, { ...base });
      assert.equal(again.code, 0, "DEL without a namespace (pod already gone)");
    });

    await t.step("ADD whose annotation never comes leaves nothing behind", async () => {
      const p3 = await newPod(3, { annotate: false });
      const r = await cni("ADD", p3, { ...base, annotationTimeoutSeconds: 1 });
      assert.equal(r.code, 1);
      assert.equal(r.json.code, 11);
      assert.match(r.json.msg, /pod default\/pod3: its "ovn" annotation did not appear within 1 s/);
      assert.equal(await hostLinkExists(p3), false);
      assert.equal(await portExists(p3), false);
      assert.equal((await inPod(p3, ["ip", "link", "show", "eth0"], false)).code, 1);
    });

    await t.step("ADD onto a missing bridge fails before creating anything", async () => {
      const p4 = await newPod(4);
      const r = await cni("ADD", p4, { ...base, bridge: "br-nope" });
      assert.equal(r.code, 1);
      assert.equal(r.json.code, 106);
      assert.match(r.json.msg, /bridge br-nope does not exist/);
      assert.equal(await hostLinkExists(p4), false);
      assert.equal(await portExists(p4), false);
      assert.equal((await inPod(p4, ["ip", "link", "show", "eth0"], false)).code, 1);
    });

    await t.step(
      "ADD without a logical port times out on ovn-installed and rolls back",
      async () => {
        const p5 = await newPod(5, { lsp: false });
        const r = await cni("ADD", p5, { ...base, ovnInstalledTimeoutSeconds: 2 });
        assert.equal(r.code, 1);
        assert.equal(r.json.code, 11);
        assert.match(r.json.msg, /ovn-controller did not mark .* ovn-installed within 2 s/);
        assert.equal(await hostLinkExists(p5), false);
        assert.equal(await portExists(p5), false);
      },
    );
  } finally {
    for (const p of pods.values()) {
      await runner.run(["ip", "netns", "del", p.netns.slice("/run/netns/".length)], {
        check: false,
      });
    }
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * End to end, on the sandbox cluster (three nodes, real OVN with the userspace
 * datapath and geneve, the binary's own roles in every node, the kubelet stand-ins
 * calling the CNI plugin), driven through kubectl and `ovn-k8s sandbox exec`:
 *
 * pods on every node (pinned and scheduled); ICMP, TCP and UDP between pods on the same
 * and on different nodes; a node's management port to pods; pod to ClusterIP (TCP and
 * UDP) with a local and with a remote backend; a deleted pod's port and address gone; a
 * pod recreated under the same name; the watcher (the master's `run`) restarted in the
 * middle of a burst of 100 pods; CNI DEL twice. Each step prints what it checked.
 *
 * Needs root, OVS, OVN, kubectl, ping, nc, curl and the built binary (dist/ovn-k8s).
 */
import assert from "node:assert/strict";
import { printOut } from "../../src/log/mod.ts";
import { loadNetworkConfig, type PodRecord, runCni } from "../../src/sandbox/mod.ts";
import { ProcessRunner } from "../../src/exec/mod.ts";
import {
  OVN_K8S,
  podManifest,
  type PodView,
  Sandbox,
  serviceManifest,
  sh,
  until,
} from "./sandbox_env.ts";

const NODES = ["node1", "node2", "node3"];
const SERVE = [OVN_K8S, "sandbox", "serve", "--http=8080", "--udp=5353"];

function say(text: string): void {
  printOut(`    checked: ${text}`);
}

Deno.test("e2e on the sandbox: pods, packets, services, deletions, restarts, CNI DEL", async (t) => {
  await Deno.stat(OVN_K8S).catch(() => {
    throw new Error(`${OVN_K8S} is missing: build it with deno task compile-ready`);
  });
  const root = await Deno.makeTempDir({ prefix: "ovn-k8s-e2e-" });
  const prefix = `e2e${crypto.randomUUID().slice(0, 5)}`;
  await using sb = new Sandbox(root, prefix);
  const t0 = performance.now();
  await sb.up(3);
  say(`sandbox "${prefix}" up with 3 nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Later steps build on earlier ones: after a failure they are skipped, not failed again.
  let failed = false;
  const step = async (name: string, fn: () => Promise<void>) => {
    const ok = await t.step({ name, ignore: failed, fn });
    if (!ok) failed = true;
  };
  let pods = new Map<string, PodView>();
  const ip = (name: string) => pods.get(name)!.ip;

  // On a timeout, say what the last attempt got, which pods hold which address, and what
  // the answering pod's command printed (its log in the sandbox, gone once it is down).
  const why = async (last: string, pod?: string) => {
    const wide = await sb.kubectlRaw(["get", "pods", "-o", "wide"]).then((r) => r.stdout);
    const log = pod
      ? await Deno.readTextFile(`${sb.dir}/pods/default_${pod}.log`).then(
        (t) => `\n${pod}'s log (last 2,000 bytes):\n${t.slice(-2000)}`,
        (err) => `\n${pod}'s log: ${(err as Error).message}`,
      )
      : "";
    const said = pod
      ? (await Deno.readTextFile(`${sb.dir}/supervisor.log`).catch(() => "")).split("\n")
        .filter((l) => l.includes(pod)).slice(-10).join("\n")
      : "";
    return `${last}\n${wide}${log}${said ? `\nsupervisor.log on ${pod}:\n${said}` : ""}`;
  };
  const tcp = async (from: string, to: string, expect: string) => {
    let last = "";
    const r = await until(`${from} -> ${to} TCP`, async () => {
      const r = await sb.exec(from, ["curl", "-sS", "-f", "-m", "3", `http://${to}/`]);
      last = `curl exit ${r.code}: ${r.stderr.trim()}`;
      return r.code === 0 ? r : undefined;
    }, 20_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}; ${await why(last, expect)}`);
    });
    assert.equal(r.stdout.trim(), expect, `${from} -> ${to}: answered by ${r.stdout.trim()}`);
  };
  const udp = async (from: string, to: string, port: number, expect: string) => {
    const r = await until(`${from} -> ${to}:${port} UDP`, async () => {
      const r = await sb.exec(from, ["sh", "-c", `echo hi | nc -u -W1 -w2 ${to} ${port}`]);
      return r.stdout.trim() !== "" ? r : undefined;
    }, 20_000);
    assert.equal(r.stdout.trim(), `${expect} hi`);
  };
  const ping = async (from: string, to: string) => {
    await until(`${from} pings ${to}`, async () => {
      return (await sb.exec(from, ["ping", "-c1", "-W1", "-q", to])).code === 0;
    }, 20_000);
    const r = await sb.exec(from, ["ping", "-c3", "-i0.2", "-W2", "-q", to]);
    assert.equal(r.code, 0, `${from} -> ${to}: ${r.stdout}`);
  };

  await step("pods on every node: pinned servers and clients, and scheduled pods", async () => {
    await sb.apply([
      ...NODES.map((n) =>
        podManifest(`srv-${n}`, { node: n, labels: { role: "srv", node: n }, command: SERVE })
      ),
      ...NODES.map((n) => podManifest(`cli-${n}`, { node: n, labels: { role: "cli" } })),
      ...[1, 2, 3].map((i) => podManifest(`sched-${i}`, { labels: { role: "sched" } })),
    ]);
    const names = [
      ...NODES.flatMap((n) => [`srv-${n}`, `cli-${n}`]),
      "sched-1",
      "sched-2",
      "sched-3",
    ];
    pods = await sb.waitRunning(names);
    for (const n of NODES) {
      assert.equal(pods.get(`srv-${n}`)!.node, n);
      assert.match(ip(`srv-${n}`), /^10\.244\./);
    }
    const scheduled = new Set(["sched-1", "sched-2", "sched-3"].map((n) => pods.get(n)!.node));
    assert.deepEqual([...scheduled].sort(), NODES, "the scheduler spreads pods over every node");
    const ips = names.map((n) => `${n}=${ip(n)}`);
    assert.equal(new Set(names.map(ip)).size, names.length, `duplicate pod IP: ${ips.join(" ")}`);
    const wide = await sb.kubectl(["get", "pods", "-o", "wide"]);
    for (const n of names) assert.match(wide, new RegExp(`^${n}\\s+1/1\\s+Running`, "m"));
    say(`9 pods Running and Ready with IPs; sched-1..3 spread over ${[...scheduled].join(",")}`);
  });

  await step("ICMP, TCP, UDP between pods on the same node", async () => {
    await ping("cli-node1", ip("srv-node1"));
    await tcp("cli-node1", `${ip("srv-node1")}:8080`, "srv-node1");
    await udp("cli-node1", ip("srv-node1"), 5353, "srv-node1");
    say("cli-node1 -> srv-node1: ping, HTTP answer, UDP echo");
  });

  await step("ICMP, TCP, UDP between pods on different nodes", async () => {
    for (
      const [from, to] of [["cli-node1", "srv-node2"], ["cli-node2", "srv-node3"], [
        "cli-node3",
        "srv-node1",
      ]] as const
    ) {
      await ping(from, ip(to));
      await tcp(from, `${ip(to)}:8080`, to);
      await udp(from, ip(to), 5353, to);
      say(`${from} -> ${to} (geneve): ping, HTTP answer, UDP echo`);
    }
  });

  await step("node management port -> pods (local and remote)", async () => {
    for (const [node, to] of [["node1", "srv-node1"], ["node2", "srv-node1"]] as const) {
      const r = await until(`${node} -> ${to}`, async () => {
        const r = await sb.onNode(node, ["curl", "-sf", "-m", "3", `http://${ip(to)}:8080/`]);
        return r.code === 0 ? r : undefined;
      }, 20_000);
      assert.equal(r.stdout.trim(), to);
      const p = await sb.onNode(node, ["ping", "-c2", "-i0.2", "-W2", "-q", ip(to)]);
      assert.equal(p.code, 0, p.stdout);
      say(`node ${node} (k8s-${node}) -> ${to}: ping and HTTP`);
    }
  });

  await step("pod -> ClusterIP, TCP and UDP, backend local and remote", async () => {
    await sb.apply([
      serviceManifest("svc-local", { role: "srv", node: "node1" }),
      serviceManifest("svc-remote", { role: "srv", node: "node3" }),
    ]);
    const vip = async (name: string) =>
      (await sb.kubectl(["get", "svc", name, "-o", "jsonpath={.spec.clusterIP}"])).trim();
    const local = await vip("svc-local");
    const remote = await vip("svc-remote");
    assert.match(local, /^10\.96\./);
    await tcp("cli-node1", local, "srv-node1");
    await udp("cli-node1", local, 53, "srv-node1");
    say(`cli-node1 -> svc-local ${local} (backend srv-node1, same node): HTTP :80, UDP :53`);
    await tcp("cli-node1", remote, "srv-node3");
    await udp("cli-node1", remote, 53, "srv-node3");
    say(`cli-node1 -> svc-remote ${remote} (backend srv-node3, other node): HTTP :80, UDP :53`);
  });

  await step(
    "pod deleted -> its logical port, OVS port, namespace and address are gone",
    async () => {
      const gone = pods.get("cli-node3")!;
      assert.ok((await sb.lsps()).includes("default_cli-node3"));
      assert.ok((await sb.ifaceIds("node3")).includes("default_cli-node3"));
      await sb.kubectl(["delete", "pod", "cli-node3"]);
      await until(
        "cli-node3's logical port removed from NB",
        async () => !(await sb.lsps()).includes("default_cli-node3"),
      );
      await until(
        "cli-node3's OVS port removed on node3",
        async () => !(await sb.ifaceIds("node3")).includes("default_cli-node3"),
      );
      await until(
        "cli-node3's namespace deleted",
        async () =>
          !(await sb.namespaces()).some((n) => n.endsWith(gone.uid.replace(/-/g, "").slice(0, 8))),
      );
      const p = await sb.exec("cli-node1", ["ping", "-c2", "-i0.2", "-W1", "-q", gone.ip]);
      assert.notEqual(p.code, 0, `${gone.ip} still answers after the pod was deleted`);
      say(`cli-node3 (${gone.ip}) deleted: no LSP, no OVS interface, no netns, no ping answer`);
    },
  );

  await step("a pod recreated under the same name works", async () => {
    const old = pods.get("srv-node2")!;
    await sb.kubectl(["delete", "pod", "srv-node2"]);
    await sb.apply([
      podManifest("srv-node2", {
        node: "node2",
        labels: { role: "srv", node: "node2" },
        command: SERVE,
      }),
    ]);
    pods = await until("srv-node2 recreated", async () => {
      const all = await sb.waitRunning(["srv-node2"]);
      return all.get("srv-node2")!.uid !== old.uid ? all : undefined;
    });
    await tcp("cli-node1", `${ip("srv-node2")}:8080`, "srv-node2");
    await ping("cli-node2", ip("srv-node2"));
    const ids = (await sb.ifaceIds("node2")).filter((i) => i === "default_srv-node2");
    assert.equal(ids.length, 1, "one OVS interface for the recreated pod");
    assert.equal((await sb.lsps()).filter((l) => l === "default_srv-node2").length, 1);
    say(
      `srv-node2 recreated (uid changed, IP ${old.ip} -> ${ip("srv-node2")}): reachable, one port`,
    );
  });

  await step("watcher restarted in the middle of a burst of 100 pods", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `burst-${i}`);
    // The first half, then the master's unit (the watcher runs inside it) is stopped and
    // the second half created while it is down and coming back (Restart=always, 1 s).
    await sb.apply(names.slice(0, 50).map((n) => podManifest(n, { labels: { role: "burst" } })));
    await until(
      "a few burst pods running",
      async () => (await sb.pods("role=burst")).filter((p) => p.phase === "Running").length >= 5,
    );
    const pidFile = `${sb.dir}/nodes/node1/run.pid`;
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    const before = (await sb.pods("role=burst")).filter((p) => p.phase === "Running").length;
    Deno.kill(pid, "SIGTERM");
    await sb.apply(names.slice(50).map((n) => podManifest(n, { labels: { role: "burst" } })));
    await until("the master's run restarted", async () => {
      const now = Number((await Deno.readTextFile(pidFile).catch(() => "0")).trim());
      return now !== 0 && now !== pid;
    });
    say(
      `killed the master's run (pid ${pid}) with ${before}/100 burst pods running, ` +
        "created the other 50 while it was down; it came back",
    );
    const all = await sb.waitRunning(names, 300_000);
    const burst = names.map((n) => all.get(n)!);
    const everyIp = [...all.values()].map((p) => p.ip);
    assert.equal(new Set(everyIp).size, everyIp.length, "no duplicate pod IP");
    const lsps = (await sb.lsps()).filter((l) => l.startsWith("default_burst-"));
    assert.equal(lsps.length, 100, "one logical port per burst pod, none leaked");
    for (const n of NODES) {
      const here = burst.filter((p) => p.node === n).length;
      const ports = (await sb.ifaceIds(n)).filter((i) => i.startsWith("default_burst-")).length;
      assert.equal(ports, here, `${n}: OVS ports of burst pods = pods scheduled there`);
    }
    const ips = burst.map((p) => p.ip);
    const r = await sb.exec("cli-node1", [
      "sh",
      "-c",
      'for ip in "$@"; do ping -c1 -W2 -q "$ip" >/dev/null || ping -c1 -W2 -q "$ip" >/dev/null || echo "FAIL $ip"; done',
      "sh",
      ...ips,
    ]);
    assert.equal(r.stdout.trim(), "", `unreachable burst pods:\n${r.stdout}`);
    say("100 pods Running, 100 distinct IPs, 100 LSPs, OVS ports match per node, all pingable");
    await sb.kubectl(["delete", "pods", "-l", "role=burst"]);
    await until(
      "burst ports removed from NB",
      async () => !(await sb.lsps()).some((l) => l.startsWith("default_burst-")),
      120_000,
    );
    await until("burst OVS ports removed", async () => {
      for (const n of NODES) {
        if ((await sb.ifaceIds(n)).some((i) => i.startsWith("default_burst-"))) return false;
      }
      return true;
    }, 120_000);
    say("burst deleted: no logical or OVS port left");
  });

  await step("CNI DEL twice, as a runtime may call it, succeeds both times", async () => {
    const rec = JSON.parse(
      await Deno.readTextFile(`${sb.dir}/pods/default_cli-node2.json`),
    ) as PodRecord;
    const node = sb.lab.node(rec.node);
    const cniDir = `${sb.dir}/nodes/${rec.node}/cni`;
    const config = (await loadNetworkConfig(`${cniDir}/net.d`))!;
    const del = () =>
      runCni(new ProcessRunner(), {
        nodeNetns: node.netns,
        env: node.env,
        config,
        call: {
          command: "DEL",
          containerId: rec.containerId,
          netnsPath: `/run/netns/${rec.netns}`,
          ifname: "eth0",
          podNamespace: rec.namespace,
          podName: rec.name,
          podUid: rec.uid,
        },
        binDirs: [`${cniDir}/bin`],
      });
    await del();
    assert.ok(!(await sb.ifaceIds(rec.node)).includes("default_cli-node2"), "port gone after DEL");
    const link = await sh(["ip", "netns", "exec", rec.netns, "ip", "link", "show", "eth0"]);
    assert.notEqual(link.code, 0, "eth0 gone from the pod after DEL");
    await del();
    say(
      `DEL twice for ${rec.name} (${
        rec.containerId.slice(0, 12)
      }): both exit 0, port and eth0 gone`,
    );
    await sb.kubectl(["delete", "pod", "cli-node2"]);
    await until(
      "cli-node2 record removed",
      async () =>
        !(await Deno.stat(`${sb.dir}/pods/default_cli-node2.json`).then(() => true, () => false)),
    );
  });

  await step("down leaves no process, namespace, link or file", async () => {
    const t1 = performance.now();
    const r = await sb.down();
    assert.equal(r.code, 0, r.stderr);
    const downS = ((performance.now() - t1) / 1000).toFixed(1);
    assert.deepEqual(await sb.namespaces(), []);
    const links = await sh(["ip", "-o", "link", "show"]);
    assert.ok(!links.stdout.includes(`${prefix}-`), "no link named after the sandbox");
    assert.equal(await Deno.stat(sb.dir).then(() => true, () => false), false);
    const ps = await sh(["ps", "-eo", "args"]);
    assert.ok(!ps.stdout.includes(sb.dir), "no process mentions the state directory");
    say(`down in ${downS} s: no namespace, link, process or file of the sandbox left`);
  });
});

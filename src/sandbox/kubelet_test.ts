import assert from "node:assert/strict";
import { FakeRunner } from "../daemons/_testing.ts";
import { pollUntil } from "../daemons/mod.ts";
import { startEmulator } from "../k8s/emulator/mod.ts";
import { KubeHttp } from "../k8s/http.ts";
import { makeConnection } from "../k8s/connection_info.ts";
import { silentLogger } from "../log/mod.ts";
import {
  Kubelet,
  newContainerId,
  nodeReadyCondition,
  podNetnsName,
  type PodSpawner,
  podStatusPatch,
} from "./kubelet.ts";
import { Scheduler } from "./scheduler.ts";

Deno.test("podNetnsName(), newContainerId() and podStatusPatch() give what runtime and API expect", () => {
  assert.equal(podNetnsName("sb", "1234abcd-ef56-7890"), "sb-p-1234abcd");
  const a = newContainerId();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a.slice(0, 15), newContainerId().slice(0, 15));
  const p = podStatusPatch({
    ip: "10.244.1.5",
    hostIp: "172.31.1.11",
    container: "web",
    image: "x",
    containerId: "c",
    startedAt: "2026-01-01T00:00:00Z",
    ready: true,
  }).status as Record<string, unknown>;
  assert.equal(p.phase, "Running");
  assert.deepEqual(p.podIPs, [{ ip: "10.244.1.5" }]);
  const ready = (p.conditions as Array<{ type: string; status: string }>).find((c) =>
    c.type === "Ready"
  );
  assert.equal(ready?.status, "True");
  assert.deepEqual(
    [nodeReadyCondition(false).status, nodeReadyCondition(false).reason],
    ["False", "NetworkPluginNotReady"],
  );
});

/** A CNI config directory `DIR/net.d` naming plugin `fakecni`, found in `DIR/bin`. */
async function writeFakeCni(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/net.d`);
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeTextFile(`${dir}/bin/fakecni`, "");
  await Deno.writeTextFile(
    `${dir}/net.d/10-net.conf`,
    '{"cniVersion":"1.0.0","name":"n","type":"fakecni"}',
  );
}

Deno.test("Kubelet calls CNI ADD for its node's pods, reports IP and phase, runs the command, and DEL on deletion", async () => {
  const dir = await Deno.makeTempDir();
  await using emu = await startEmulator({});
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const ac = new AbortController();
  try {
    await writeFakeCni(dir);
    let next = 10;
    const runner = new FakeRunner([{
      match: "fakecni",
      fn: (_argv, o) =>
        o.env?.CNI_COMMAND === "ADD"
          ? {
            stdout: JSON.stringify({
              cniVersion: "1.0.0",
              ips: [{ address: `10.244.1.${next++}/24` }],
            }),
          }
          : {},
    }]);
    const spawned: Array<{ argv: string[]; netns: string; env: Record<string, string> }> = [];
    const killed: string[] = [];
    const spawn: PodSpawner = (argv, o) => {
      spawned.push({ argv, netns: o.netns, env: o.env });
      return { pid: 4242, status: new Promise<number>(() => {}), kill: () => {} };
    };
    const kubelet = new Kubelet({
      node: {
        name: "node1",
        netns: "t-node1",
        ip: "172.31.1.11",
        env: { OVS_RUNDIR: "/r" },
        cniConfDir: `${dir}/net.d`,
        cniBinDir: `${dir}/bin`,
      },
      http,
      runner,
      prefix: "t",
      podDir: `${dir}/pods`,
      log: silentLogger,
      spawn,
      killNetns: (ns) => Promise.resolve(void killed.push(ns)),
    });
    await http.request("POST", "/api/v1/nodes", {
      body: { apiVersion: "v1", kind: "Node", metadata: { name: "node1" } },
    });
    const running = kubelet.run(ac.signal);
    const scheduler = new Scheduler(http, ["node1"], silentLogger).run(ac.signal);
    const pod = (name: string, nodeName?: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        ...(nodeName ? { nodeName } : {}),
        containers: [{ name: "main", image: "i", command: ["serve"], args: ["--http=8080"] }],
      },
    });
    await http.request("POST", "/api/v1/namespaces/default/pods", { body: pod("web") });
    await http.request("POST", "/api/v1/namespaces/default/pods", { body: pod("other", "node2") });
    type P = { spec: { nodeName?: string }; status: { phase: string; podIP?: string } };
    const web = await pollUntil("web running", async () => {
      const p = await http.request<P>("GET", "/api/v1/namespaces/default/pods/web");
      return p.status.phase === "Running" ? p : undefined;
    }, { timeoutMs: 10_000 });
    assert.equal(web.spec.nodeName, "node1", "scheduled by the scheduler");
    assert.equal(web.status.podIP, "10.244.1.10");
    const add = runner.calls.findIndex((c) => c.at(-1) === `${dir}/bin/fakecni`);
    assert.deepEqual(runner.calls[add], ["ip", "netns", "exec", "t-node1", `${dir}/bin/fakecni`]);
    const env = runner.options[add]!.env!;
    assert.equal(env.CNI_COMMAND, "ADD");
    assert.match(env.CNI_NETNS!, /^\/run\/netns\/t-p-[0-9a-f]{8}$/);
    assert.match(env.CNI_ARGS!, /K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;/);
    assert.equal(env.OVS_RUNDIR, "/r");
    assert.deepEqual(spawned.map((s) => s.argv), [["serve", "--http=8080"]]);
    assert.equal(spawned[0]!.env.POD_IP, "10.244.1.10");
    type N = { status?: { conditions?: Array<{ type: string; status: string; reason: string }> } };
    const ready = await pollUntil("node1 Ready", async () => {
      const n = await http.request<N>("GET", "/api/v1/nodes/node1");
      const c = n.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "True" ? c : undefined;
    }, { timeoutMs: 5000 });
    assert.equal(ready.reason, "KubeletReady");
    const record = JSON.parse(await Deno.readTextFile(`${dir}/pods/default_web.json`));
    assert.equal(record.ip, "10.244.1.10");
    assert.equal(runner.callsWith("other").length, 0, "a pod of another node is not touched");

    await http.request("DELETE", "/api/v1/namespaces/default/pods/web");
    await pollUntil("CNI DEL", () =>
      Promise.resolve(
        runner.options.some((o) => o.env?.CNI_COMMAND === "DEL") &&
          runner.callsWith("ip netns delete").length === 1,
      ), { timeoutMs: 10_000 });
    assert.deepEqual(killed, [record.netns]);
    assert.deepEqual(runner.callsWith("ip netns delete")[0], [
      "ip",
      "netns",
      "delete",
      record.netns,
    ]);
    await pollUntil(
      "record removed",
      async () => !(await Deno.stat(`${dir}/pods/default_web.json`).then(() => true, () => false)),
      {
        timeoutMs: 5000,
      },
    );
    ac.abort();
    await running;
    await scheduler;
  } finally {
    ac.abort();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Kubelet sets up a pod re-created under a deleted pod's name only after the old one's CNI DEL", async () => {
  const dir = await Deno.makeTempDir();
  await using emu = await startEmulator({});
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const ac = new AbortController();
  try {
    await writeFakeCni(dir);
    const events: string[] = [];
    let next = 10;
    const runner = new FakeRunner([{
      match: "fakecni",
      fn: (_argv, o) => {
        events.push(`${o.env?.CNI_COMMAND} ${o.env?.CNI_NETNS}`);
        return o.env?.CNI_COMMAND === "ADD"
          ? {
            stdout: JSON.stringify({
              cniVersion: "1.0.0",
              ips: [{ address: `10.0.0.${next++}/24` }],
            }),
          }
          : {};
      },
    }]);
    // The old pod's teardown is held in its first step until the test lets it go.
    let letGo = () => {};
    const held = new Promise<void>((r) => letGo = r);
    const kubelet = new Kubelet({
      node: {
        name: "node1",
        netns: "t-node1",
        ip: "172.31.1.11",
        env: {},
        cniConfDir: `${dir}/net.d`,
        cniBinDir: `${dir}/bin`,
      },
      http,
      runner,
      prefix: "t",
      podDir: `${dir}/pods`,
      log: silentLogger,
      spawn: () => ({ pid: 1, status: new Promise<number>(() => {}), kill: () => {} }),
      killNetns: () => held,
    });
    const running = kubelet.run(ac.signal);
    const body = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { nodeName: "node1", containers: [{ name: "main", image: "i" }] },
    };
    type P = { metadata: { uid: string }; status?: { phase?: string } };
    const path = "/api/v1/namespaces/default/pods";
    const old = await http.request<P>("POST", path, { body });
    await pollUntil("the first web running", async () => {
      const p = await http.request<P>("GET", `${path}/web`);
      return p.status?.phase === "Running";
    }, { timeoutMs: 10_000 });
    await http.request("DELETE", `${path}/web`);
    const fresh = await http.request<P>("POST", path, { body });
    await pollUntil(
      "the kubelet to see the new web",
      () => Promise.resolve(kubelet.pods.get("default/web")?.uid === fresh.metadata.uid),
      { timeoutMs: 10_000 },
    );
    // Time for a premature ADD of the new pod to happen (it would need one file read).
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(events.map((e) => e.split(" ")[0]), ["ADD"], "nothing until the old DEL");
    letGo();
    await pollUntil("the new web running", async () => {
      const p = await http.request<P>("GET", `${path}/web`);
      return p.status?.phase === "Running";
    }, { timeoutMs: 10_000 });
    const ns = (uid: string) => `/run/netns/${podNetnsName("t", uid)}`;
    assert.deepEqual(events, [
      `ADD ${ns(old.metadata.uid)}`,
      `DEL ${ns(old.metadata.uid)}`,
      `ADD ${ns(fresh.metadata.uid)}`,
    ]);
    ac.abort();
    await running;
  } finally {
    ac.abort();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Kubelet runs a pod's command with its log directory made, and reports its exit after Running", async () => {
  const dir = await Deno.makeTempDir();
  await using emu = await startEmulator({});
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const ac = new AbortController();
  try {
    await writeFakeCni(dir);
    const runner = new FakeRunner([{
      match: "fakecni",
      fn: (_argv, o) =>
        o.env?.CNI_COMMAND === "ADD"
          ? { stdout: JSON.stringify({ cniVersion: "1.0.0", ips: [{ address: "10.0.0.9/24" }] }) }
          : {},
    }]);
    const logDirs: boolean[] = [];
    const kubelet = new Kubelet({
      node: {
        name: "node1",
        netns: "t-node1",
        ip: "172.31.1.11",
        env: {},
        cniConfDir: `${dir}/net.d`,
        cniBinDir: `${dir}/bin`,
      },
      http,
      runner,
      prefix: "t",
      podDir: `${dir}/pods`,
      log: silentLogger,
      // The command fails at once, as `sh` does when its log file cannot be created.
      spawn: (_argv, o) => {
        logDirs.push(Deno.statSync(o.logFile.slice(0, o.logFile.lastIndexOf("/"))).isDirectory);
        return { pid: 1, status: Promise.resolve(2), kill: () => {} };
      },
      killNetns: () => Promise.resolve(),
    });
    const running = kubelet.run(ac.signal);
    await http.request("POST", "/api/v1/namespaces/default/pods", {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "quits" },
        spec: { nodeName: "node1", containers: [{ name: "main", image: "i", command: ["x"] }] },
      },
    });
    type S = { status?: { containerStatuses?: Array<{ ready: boolean; state: unknown }> } };
    const st = await pollUntil("the exit in the pod's status", async () => {
      const p = await http.request<S>("GET", "/api/v1/namespaces/default/pods/quits");
      const c = p.status?.containerStatuses?.[0];
      return c && JSON.stringify(c.state).includes('"exitCode":2') ? c : undefined;
    }, { timeoutMs: 10_000 });
    assert.equal(st.ready, false);
    assert.deepEqual(logDirs, [true], "the log directory exists when the command starts");
    ac.abort();
    await running;
  } finally {
    ac.abort();
    await Deno.remove(dir, { recursive: true });
  }
});

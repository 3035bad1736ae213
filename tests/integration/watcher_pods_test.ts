/**
 * The watcher's pod controller on a real NB ovsdb-server with the API emulator:
 * add/update/delete, hostNetwork and unscheduled pods, a pod that moves node or is
 * recreated under its name, a full node subnet (Event, others unaffected, address on
 * release), and restarts: stale rows deleted while it was down, and zero NB
 * transactions and zero API writes when nothing changed. Needs ovsdb-server.
 */
import assert from "node:assert/strict";
import { findResource } from "../../src/k8s/resources.ts";
import { addNodes, annotationOf, PODS, queueIdle, startWatcherEnv, until } from "./watcher_env.ts";

const EVENTS = findResource("events")!;

const NODES_2 = [
  { name: "node1", subnet: "10.244.1.0/24" },
  { name: "node2", subnet: "10.244.2.0/24" },
];

Deno.test("watcher: pods get ports and annotations; updates and deletes follow", async () => {
  await using env = await startWatcherEnv(NODES_2);
  await using w = await env.startWatcher();

  env.createPod("default", "web", "node1");
  env.createPod("default", "db", "node2");
  env.createPod("kube-system", "hostnet", "node1", { hostNetwork: true });
  env.createPod("default", "pending"); // not scheduled

  const web = await until("web annotated", () => annotationOf(env.pod("default", "web")));
  assert.deepEqual(web, {
    ip_address: "10.244.1.3/24",
    mac_address: "0a:58:0a:f4:01:03",
    gateway_ip: "10.244.1.1",
  });
  const db = await until("db annotated", () => annotationOf(env.pod("default", "db")));
  assert.equal(db.ip_address, "10.244.2.3/24");
  // the annotation is a JSON string with the original's keys, in its order
  assert.equal(
    env.pod("default", "web")!.metadata.annotations!["ovn"],
    '{"ip_address":"10.244.1.3/24","mac_address":"0a:58:0a:f4:01:03","gateway_ip":"10.244.1.1"}',
  );

  const port = await until("port default_web", () => env.port("default_web"));
  assert.deepEqual(port.addresses, ["0a:58:0a:f4:01:03 10.244.1.3"]);
  assert.deepEqual(port.port_security, ["0a:58:0a:f4:01:03 10.244.1.3"]);
  assert.equal(port.external_ids["namespace"], "default");
  assert.equal(port.external_ids["pod"], "true");
  assert.equal(port.external_ids["ovn-k8s-owner"], "watcher");
  assert.equal(port.external_ids["ovn-k8s-key"], "default/web");
  assert.equal(port.external_ids["ovn-k8s-pod-uid"], env.pod("default", "web")!.metadata.uid);
  assert.equal(env.switchOf(port._uuid), "node1");
  // Latencies on /metrics: committed and annotated; "up" once northd would set
  // Logical_Switch_Port.up (written here directly: no ovn-controller binds ports in this test).
  // The annotated latency is observed when the watcher has the PATCH's response, which
  // may come after the store (that the test reads) took the patch: polled.
  const text = await until(
    "committed and annotated latencies observed",
    () => {
      const t = w.metrics.render();
      return /^ovnk8s_pod_port_committed_seconds_count [1-9]/m.test(t) &&
        /^ovnk8s_pod_annotated_seconds_count [1-9]/m.test(t) && t;
    },
  );
  assert.doesNotMatch(text, /^ovnk8s_pod_port_up_seconds_count [1-9]/m);
  await env.nb.transact([{
    op: "update",
    table: "Logical_Switch_Port",
    where: [["_uuid", "==", port._uuid]],
    row: { up: [true] },
  }]);
  await until(
    "port up observed",
    () => /^ovnk8s_pod_port_up_seconds_count 1$/m.test(w.metrics.render()),
  );
  assert.equal(env.port("kube-system_hostnet"), undefined, "hostNetwork pods get no port");
  assert.equal(env.port("default_pending"), undefined, "unscheduled pods get no port");

  // Scheduling the pending pod (an update) gives it a port.
  env.emu.store.patch(
    PODS,
    "default",
    "pending",
    "application/merge-patch+json",
    { spec: { nodeName: "node2" } },
  );
  await until("pending annotated", () => annotationOf(env.pod("default", "pending")));
  // The test's own NB monitor may show the port after the annotation (another session).
  const pending = await until("port default_pending", () => env.port("default_pending"));
  assert.equal(env.switchOf(pending._uuid), "node2");

  // Delete: port removed, address released (the next pod gets it back).
  env.deletePod("default", "web");
  await until("default_web removed", () => !env.port("default_web"));
  env.createPod("default", "web2", "node1");
  const web2 = await until("web2 annotated", () => annotationOf(env.pod("default", "web2")));
  assert.equal(web2.ip_address, "10.244.1.3/24", "the released address is handed out again");

  // Moved to another node (deleted and recreated under the same name elsewhere).
  env.deletePod("default", "db");
  env.createPod("default", "db", "node1");
  await until("db on node1", () => {
    const p = env.port("default_db");
    return p && env.switchOf(p._uuid) === "node1" &&
      annotationOf(env.pod("default", "db"))?.ip_address === "10.244.1.4/24";
  });
  assert.equal(env.podPorts().filter((p) => p.name === "default_db").length, 1);

  // Recreated under the same name on the same node: same address, new uid on the port.
  const oldUid = env.pod("default", "web2")!.metadata.uid;
  env.deletePod("default", "web2");
  env.createPod("default", "web2", "node1");
  const newUid = env.pod("default", "web2")!.metadata.uid;
  assert.notEqual(oldUid, newUid);
  await until(
    "web2 re-annotated with its uid on the port",
    () =>
      annotationOf(env.pod("default", "web2")) &&
      env.port("default_web2")?.external_ids["ovn-k8s-pod-uid"] === newUid,
  );

  // Every pod port has a distinct address.
  const ips = env.podPorts().map((p) => p.addresses[0]!.split(" ")[1]);
  assert.equal(new Set(ips).size, ips.length);
});

Deno.test("watcher: a full node subnet leaves the pod without port, with an Event", async () => {
  await using env = await startWatcherEnv([
    { name: "small", subnet: "10.244.9.0/29" }, // .3 .. .6: four pod addresses
    { name: "big", subnet: "10.244.2.0/24" },
  ]);
  await using _w = await env.startWatcher(); // real Events, posted to the emulator
  for (let i = 0; i < 5; i++) env.createPod("default", `p${i}`, "small");
  env.createPod("default", "other", "big");
  await until(
    "4 pods annotated",
    () => [0, 1, 2, 3, 4].filter((i) => annotationOf(env.pod("default", `p${i}`))).length === 4,
  );
  await until("other annotated", () => annotationOf(env.pod("default", "other")));
  const ev = await until("an Event", () => env.emu.store.list(EVENTS, "default").items[0]);
  const left = [0, 1, 2, 3, 4].find((i) => !annotationOf(env.pod("default", `p${i}`)))!;
  assert.equal(ev["reason"], "AddressAllocationFailed");
  assert.equal(ev["type"], "Warning");
  const involved = ev["involvedObject"] as { kind: string; name: string; uid: string };
  assert.equal(involved.kind, "Pod");
  assert.equal(involved.name, `p${left}`);
  assert.equal(involved.uid, env.pod("default", `p${left}`)!.metadata.uid);
  assert.match(String(ev["message"]), /10\.244\.9\.0\/29 is full/);
  assert.equal(
    env.emu.store.list(EVENTS, "default").items.length,
    1,
    "one Event, not one per retry",
  );
  assert.equal(env.port(`default_p${left}`), undefined);
  const ips = [0, 1, 2, 3, 4].flatMap((i) => {
    const a = annotationOf(env.pod("default", `p${i}`));
    return a ? [a.ip_address] : [];
  }).sort();
  assert.deepEqual(ips, ["10.244.9.3/29", "10.244.9.4/29", "10.244.9.5/29", "10.244.9.6/29"]);

  // Releasing one address gives the waiting pod its port.
  const victim = [0, 1, 2, 3, 4].find((i) => i !== left)!;
  env.deletePod("default", `p${victim}`);
  await until("waiting pod annotated", () => annotationOf(env.pod("default", `p${left}`)));
  await until(`port default_p${left}`, () => env.port(`default_p${left}`));
});

Deno.test("watcher: restart deletes stale ports, then a restart with nothing changed writes nothing", async () => {
  await using env = await startWatcherEnv(NODES_2);
  const w1 = await env.startWatcher();
  for (let i = 0; i < 20; i++) env.createPod("default", `p${i}`, i % 2 ? "node1" : "node2");
  await until("20 annotated", () =>
    env.podPorts().length === 20 &&
    Array.from({ length: 20 }, (_, i) => annotationOf(env.pod("default", `p${i}`))).every(Boolean));
  await w1.stop();

  // While it is down: 3 pods deleted, 2 added.
  for (const i of [0, 1, 2]) env.deletePod("default", `p${i}`);
  env.createPod("default", "n1", "node1");
  env.createPod("default", "n2", "node2");
  const w2 = await env.startWatcher();
  await until(
    "stale ports gone and new ones there",
    () =>
      !env.port("default_p0") && !env.port("default_p1") && !env.port("default_p2") &&
      annotationOf(env.pod("default", "n1")) && annotationOf(env.pod("default", "n2")) &&
      env.port("default_n1") && env.port("default_n2"),
  );
  assert.equal(env.podPorts().length, 19);
  await w2.stop();

  // Nothing changed: no NB transaction, no API write, no row version change.
  const rv = env.emu.store.resourceVersion;
  const versions = JSON.stringify(env.podPorts().map((p) => [p._uuid, p.addresses]));
  const w3 = await env.startWatcher();
  // the workers reconcile every pod: wait until they drained the queue
  await until("pod queue drained", () => queueIdle(w3.metrics, "pods", 19));
  assert.equal(w3.writer.transactions, 0, "zero NB transactions");
  assert.equal(env.emu.store.resourceVersion, rv, "zero API writes");
  assert.equal(JSON.stringify(env.podPorts().map((p) => [p._uuid, p.addresses])), versions);
  await w3.stop();
});

Deno.test("watcher: a pod waits for its node's switch; a port deleted behind its back comes back", async () => {
  await using env = await startWatcherEnv(NODES_2);
  await using _w = await env.startWatcher();
  env.createPod("default", "early", "node3"); // node3 has no switch yet
  env.createPod("default", "web", "node1");
  const web = await until("web annotated", () => annotationOf(env.pod("default", "web")));
  assert.equal(env.port("default_early"), undefined);
  assert.equal(annotationOf(env.pod("default", "early")), undefined);

  // minion-init of node3 creates its switch: the waiting pod gets its port.
  await addNodes(env.nb, [{ name: "node3", subnet: "10.244.3.0/24" }]);
  const early = await until("early annotated", () => annotationOf(env.pod("default", "early")));
  assert.equal(early.ip_address, "10.244.3.3/24");

  // Someone deletes the web port in NB: it is recreated with the same address.
  const port = env.port("default_web")!;
  const sw = env.nb.cache.table("Logical_Switch").find((s) => s.ports.includes(port._uuid))!;
  await env.nb.transact([
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", sw._uuid]],
      mutations: [["ports", "delete", [port._uuid]]],
    },
    { op: "delete", table: "Logical_Switch_Port", where: [["_uuid", "==", port._uuid]] },
  ]);
  const back = await until("web port back", () => {
    const p = env.port("default_web");
    return p && p._uuid !== port._uuid ? p : undefined;
  });
  assert.equal(back.addresses[0], `${web.mac_address} ${web.ip_address!.split("/")[0]}`);
});

/**
 * The node controller on a real NB with the API emulator: the switch (and router port)
 * of a deleted Kubernetes Node is removed, at runtime and by the repair pass after a
 * restart; switches of existing nodes, and every switch when the API has no Node object
 * at all, are kept. Needs ovsdb-server.
 */
import assert from "node:assert/strict";
import { annotationOf, NODES, startWatcherEnv, until } from "./watcher_env.ts";

const THREE = [
  { name: "node1", subnet: "10.244.1.0/24" },
  { name: "node2", subnet: "10.244.2.0/24" },
  { name: "node3", subnet: "10.244.3.0/24" },
];

function switches(env: Awaited<ReturnType<typeof startWatcherEnv>>): string[] {
  return env.nb.cache.table("Logical_Switch").all().map((s) => s.name).filter((n) =>
    n.startsWith("node")
  )
    .sort();
}

Deno.test("watcher: without Node objects every node switch is kept", async () => {
  await using env = await startWatcherEnv(THREE);
  await using w = await env.startWatcher();
  env.createPod("default", "p", "node3");
  await until("p annotated", () => annotationOf(env.pod("default", "p")));
  // The monitor stream is in commit order: once it shows p's port, it showed any switch
  // deletion the repair made before it.
  await until("port default_p", () => env.port("default_p"));
  assert.deepEqual(switches(env), ["node1", "node2", "node3"]);
  void w;
});

Deno.test("watcher: the switch of a deleted Node goes, at runtime and on restart", async () => {
  await using env = await startWatcherEnv(THREE);
  for (const n of THREE) env.emu.store.create(NODES, undefined, { metadata: { name: n.name } });
  const w1 = await env.startWatcher();
  env.createPod("default", "p3", "node3");
  await until("p3 annotated", () => annotationOf(env.pod("default", "p3")));

  env.emu.store.delete(NODES, undefined, "node3");
  await until("node3 switch gone", () => !switches(env).includes("node3"));
  assert.equal(env.port("default_p3"), undefined, "its ports went with it");
  await w1.stop();

  // Deleted while the watcher is down: the repair pass removes it.
  env.emu.store.delete(NODES, undefined, "node2");
  await using _w2 = await env.startWatcher();
  await until("node2 switch gone", () => !switches(env).includes("node2"));
  assert.deepEqual(switches(env), ["node1"]);
  const routerPorts = (await env.nb.transact([{
    op: "select",
    table: "Logical_Router_Port",
    where: [],
    columns: ["name"],
  }]))[0]!.rows!.map((r) => r.name as string).sort();
  assert.deepEqual(routerPorts.filter((n) => n.startsWith("rtos-")), ["rtos-node1"]);
});

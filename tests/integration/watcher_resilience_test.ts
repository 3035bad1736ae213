/**
 * The watcher under faults: the NB server killed and restarted in the middle of a burst
 * of pods (no lost or duplicated port, no duplicate address, annotations agree with
 * NB), and the API server's watch connections cut mid-burst (every pod still gets its
 * port and annotation). Needs ovsdb-server.
 */
import assert from "node:assert/strict";
import { annotationOf, startWatcherEnv, until, type WatcherEnv } from "./watcher_env.ts";

const NODES = [
  { name: "node1", subnet: "10.244.1.0/24" },
  { name: "node2", subnet: "10.244.2.0/24" },
  { name: "node3", subnet: "10.244.3.0/24" },
];

/** Checks that every pod has exactly one port, distinct addresses, matching annotations. */
function assertConsistent(env: WatcherEnv, names: string[]): void {
  const ports = env.podPorts();
  assert.equal(ports.length, names.length, "one port per pod");
  assert.equal(new Set(ports.map((p) => p.name)).size, ports.length, "no duplicated port");
  const ips = ports.map((p) => p.addresses[0]!.split(" ")[1]);
  assert.equal(new Set(ips).size, ips.length, "no duplicate address");
  for (const n of names) {
    const port = env.port(`default_${n}`)!;
    const a = annotationOf(env.pod("default", n))!;
    assert.equal(
      a.ip_address!.split("/")[0],
      port.addresses[0]!.split(" ")[1],
      `${n}: annotation = NB`,
    );
    assert.equal(a.mac_address, port.addresses[0]!.split(" ")[0]);
    const sw = env.switchOf(port._uuid);
    assert.equal(
      sw,
      env.pod("default", n)!.spec && (env.pod("default", n)!.spec as { nodeName: string }).nodeName,
    );
  }
}

async function allAnnotated(env: WatcherEnv, names: string[], timeoutMs = 60_000) {
  await until(
    `${names.length} pods annotated with ports`,
    () => names.every((n) => annotationOf(env.pod("default", n)) && env.port(`default_${n}`)),
    timeoutMs,
  );
}

Deno.test("watcher: NB server killed and restarted under load loses and duplicates nothing", async () => {
  await using env = await startWatcherEnv(NODES);
  await using _w = await env.startWatcher({ batchSize: 50 });
  const names: string[] = [];
  for (let i = 0; i < 300; i++) {
    const n = `p${i}`;
    names.push(n);
    env.createPod("default", n, NODES[i % 3]!.name);
    if (i === 100) {
      await until("some pods done", () => env.podPorts().length > 20);
      await env.nbServer.kill(0);
      await new Promise((r) => setTimeout(r, 500)); // pods keep coming while NB is down
    }
    if (i === 200) await env.nbServer.restart(0);
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
  }
  await allAnnotated(env, names);
  assertConsistent(env, names);
  // Deletes after the restart work too.
  for (const n of names.slice(0, 50)) env.deletePod("default", n);
  await until("50 ports gone", () => env.podPorts().length === 250);
  assertConsistent(env, names.slice(50));
});

Deno.test("watcher: API watch connections cut mid-burst; every pod is still served", async () => {
  await using env = await startWatcherEnv(NODES);
  await using _w = await env.startWatcher({ batchSize: 50 });
  const names: string[] = [];
  for (let i = 0; i < 300; i++) {
    const n = `p${i}`;
    names.push(n);
    env.createPod("default", n, NODES[i % 3]!.name);
    if (i === 100) await env.emu.dropConnections();
    if (i === 200) env.emu.closeWatches();
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
  }
  // A delete while the watch is being re-established.
  await env.emu.dropConnections();
  env.deletePod("default", "p0");
  await allAnnotated(env, names.slice(1));
  await until("p0's port removed", () => !env.port("default_p0"));
  assertConsistent(env, names.slice(1));
});

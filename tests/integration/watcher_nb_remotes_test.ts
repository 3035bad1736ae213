/**
 * The watcher reaches NB the ways `external_ids:ovn-nb` may say (the original only took
 * the local unix socket): `ssl:` with mutual TLS (key, certificate and CA files), and a
 * RAFT cluster's comma-separated member list, where it keeps working after the leader is
 * killed; and, with no flag at all, from the local Open_vSwitch row's `external_ids`
 * (`ovn-nb`, `k8s-api-server`), as `ovn-k8s run` starts it. Real processes
 * (`main.ts watcher`). Needs ovsdb-server and openssl.
 */
import assert from "node:assert/strict";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import { spawnOvnK8s } from "../helpers/ovn_k8s_process.ts";
import { startOvsdbServer } from "../helpers/ovsdb_server.ts";
import { annotationOf, startWatcherEnv, until, type WatcherEnv } from "./watcher_env.ts";

async function drained(child: Deno.ChildProcess): Promise<() => string> {
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s.pipeThrough(new TextDecoderStream())) out += c;
  };
  void drain(child.stdout);
  void drain(child.stderr);
  return await Promise.resolve(() => out);
}

async function withWatcher(
  env: WatcherEnv,
  nbArgs: string[],
  body: (output: () => string) => Promise<void>,
  apiArgs: string[] = ["--k8s-api-server", env.emu.url],
): Promise<void> {
  const child = spawnOvnK8s([
    "watcher",
    ...nbArgs,
    ...apiArgs,
    "--no-leader-election",
    "--metrics-address",
    "off",
  ]);
  const output = await drained(child);
  try {
    await until("watcher working", () => output().includes("watcher working"), 60_000);
    await body(output);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nwatcher output:\n${output().slice(-3000)}`);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  }
}

Deno.test("watcher: NB over ssl: with key, certificate and CA files", async () => {
  await using env = await startWatcherEnv([{ name: "node1", subnet: "10.244.1.0/24" }]);
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-watcher-tls-" });
  try {
    await Deno.writeTextFile(`${dir}/key.pem`, env.nbServer.tls.key);
    await Deno.writeTextFile(`${dir}/cert.pem`, env.nbServer.tls.cert);
    await Deno.writeTextFile(`${dir}/ca.pem`, env.nbServer.tls.caCert);
    await withWatcher(env, [
      "--nb",
      env.nbServer.remotes("ssl"),
      "--nb-privkey",
      `${dir}/key.pem`,
      "--nb-cert",
      `${dir}/cert.pem`,
      "--nb-cacert",
      `${dir}/ca.pem`,
    ], async () => {
      env.createPod("default", "tls", "node1");
      await until("tls annotated", () => annotationOf(env.pod("default", "tls")), 60_000);
      // The test's own NB monitor (another session) may show the port after the annotation.
      await until("port default_tls", () => env.port("default_tls"), 30_000);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watcher: NB as a RAFT member list; the NB leader killed, pods still served", async () => {
  await using env = await startWatcherEnv([{ name: "node1", subnet: "10.244.1.0/24" }], {
    members: 3,
  });
  await withWatcher(env, ["--nb", env.nbServer.remotes("tcp")], async () => {
    for (let i = 0; i < 5; i++) env.createPod("default", `a${i}`, "node1");
    await until(
      "a* annotated",
      () => [0, 1, 2, 3, 4].every((i) => annotationOf(env.pod("default", `a${i}`))),
      60_000,
    );
    await env.nbServer.kill(await env.nbServer.leader());
    for (let i = 0; i < 5; i++) env.createPod("default", `b${i}`, "node1");
    await until(
      "b* annotated",
      () => [0, 1, 2, 3, 4].every((i) => annotationOf(env.pod("default", `b${i}`))),
      60_000,
    );
    await until("10 ports", () => env.podPorts().length === 10, 30_000);
    const ips = env.podPorts().map((p) => p.addresses[0]!.split(" ")[1]);
    assert.equal(new Set(ips).size, 10, "no address handed out twice across the failover");
  });
});

Deno.test("watcher: NB and API server from the local Open_vSwitch external_ids", async () => {
  await using env = await startWatcherEnv([{ name: "node1", subnet: "10.244.1.0/24" }]);
  await using ovs = await startOvsdbServer({ schema: "/usr/share/openvswitch/vswitch.ovsschema" });
  {
    await using db = await OvsdbClient.connect({
      remotes: ovs.remotes("unix"),
      database: "Open_vSwitch",
      timeoutMs: 10_000,
    });
    await db.transact([{
      op: "insert",
      table: "Open_vSwitch",
      row: {
        external_ids: {
          "ovn-nb": env.nbServer.remotes("tcp"),
          // host:port, as the original's setup wrote it
          "k8s-api-server": env.emu.url.replace(/^http:\/\//, ""),
        },
      },
    }]);
  }
  await withWatcher(env, ["--ovs-db", ovs.remotes("unix")], async (output) => {
    assert.match(
      output(),
      /watcher starting nb=tcp:127\.0\.0\.1:\d+ api=http:\/\/127\.0\.0\.1:\d+ apiFrom="OVS external_ids"/,
    );
    env.createPod("default", "fromovs", "node1");
    await until("fromovs annotated", () => annotationOf(env.pod("default", "fromovs")), 60_000);
  }, []);
});

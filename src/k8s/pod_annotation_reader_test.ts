import assert from "node:assert/strict";
import { makeConnection } from "./connection_info.ts";
import { startEmulator } from "./emulator/server.ts";
import { KubeHttp } from "./http.ts";
import { readPodAnnotations, waitForPodAnnotation } from "./pod_annotation_reader.ts";
import { findResource } from "./resources.ts";

const PODS = findResource("pods")!;

Deno.test("readPodAnnotations() returns annotations, {} when none, undefined for a missing pod", async () => {
  await using emu = await startEmulator();
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  emu.store.create(PODS, "default", { metadata: { name: "a", annotations: { ovn: "{}" } } });
  emu.store.create(PODS, "default", { metadata: { name: "b" } });
  assert.deepEqual(await readPodAnnotations(http, "default", "a"), { ovn: "{}" });
  assert.deepEqual(await readPodAnnotations(http, "default", "b"), {});
  assert.equal(await readPodAnnotations(http, "default", "zz"), undefined);
});

Deno.test("waitForPodAnnotation() waits for the annotation and names pod and key on timeout", async () => {
  await using emu = await startEmulator();
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  emu.store.create(PODS, "default", { metadata: { name: "a" } });
  const waiting = waitForPodAnnotation(http, "default", "a", "ovn", {
    intervalMs: 20,
    timeoutMs: 20_000,
  });
  setTimeout(() =>
    emu.store.patch(PODS, "default", "a", "application/merge-patch+json", {
      metadata: { annotations: { ovn: '{"ip_address":"10.0.0.5/24"}' } },
    }), 100);
  assert.equal(await waiting, '{"ip_address":"10.0.0.5/24"}');
  await assert.rejects(
    waitForPodAnnotation(http, "default", "a", "other", { intervalMs: 10, timeoutMs: 50 }),
    /Cannot read annotation "other" of pod default\/a: not set after 50 ms/,
  );
  await assert.rejects(
    waitForPodAnnotation(http, "default", "gone", "ovn", { intervalMs: 10, timeoutMs: 50 }),
    /pod default\/gone: the pod does not exist/,
  );
});

Deno.test("pod_annotation_reader.ts does not load @kubernetes/client-node or undici", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("./pod_annotation_reader.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const specs = info.modules.map((m) => m.specifier);
  assert.ok(specs.some((s) => s.endsWith("/http.ts")), "the graph was read");
  assert.deepEqual(specs.filter((s) => !s.startsWith("file:") && !s.startsWith("node:")), []);
  assert.deepEqual(specs.filter((s) => /kubeconfig|client\.ts|informers\.ts/.test(s)), []);
});

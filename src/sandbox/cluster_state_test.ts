import assert from "node:assert/strict";
import { loadKubeconfig } from "../cni/kubeconfig.ts";
import { clusterPaths, renderKubeconfig } from "./cluster_state.ts";

Deno.test("renderKubeconfig() gives server, embedded CA and token that a kubeconfig reader finds", async () => {
  const ca = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  const text = renderKubeconfig({ server: "https://172.31.5.1:6443", caPem: ca, token: "t0k" });
  const access = await loadKubeconfig("/x/kubeconfig", () => Promise.resolve(text));
  assert.equal(access.server, "https://172.31.5.1:6443");
  assert.equal(access.caPem, ca);
  assert.equal(access.token, "t0k");
});

Deno.test("clusterPaths() keeps every file under the state directory", () => {
  const p = clusterPaths("/run/s");
  const n = p.node("node2");
  for (const f of [p.state, p.token, p.kubeconfig, p.supervisorPid, p.pods, n.cniBin, n.runPid]) {
    assert.ok(f.startsWith("/run/s/"), f);
  }
  assert.equal(n.cniConf, "/run/s/nodes/node2/cni/net.d");
});

import assert from "node:assert/strict";
import { makeConnection } from "./connection_info.ts";
import { startEmulator } from "./emulator/server.ts";
import { isNotFound, K8sApiError, K8sIdleTimeoutError } from "./errors.ts";
import { KubeHttp } from "./http.ts";

Deno.test("KubeHttp.request() reports 401 naming the token's source, never the token", async () => {
  await using emu = await startEmulator({ token: "right-token" });
  using bad = new KubeHttp(
    makeConnection({ server: emu.url, token: "wrong-s3cret", source: "OVS external_ids" }),
  );
  const err = await bad.request("GET", "/api/v1/pods").catch((e) => e);
  assert.ok(err instanceof K8sApiError);
  assert.equal(err.code, 401);
  assert.match(
    err.message,
    /rejected the credentials \(401 Unauthorized\); check the token from OVS external_ids/,
  );
  assert.doesNotMatch(err.message + String(err.stack), /wrong-s3cret|right-token/);
  using good = new KubeHttp(
    makeConnection({ server: emu.url, token: "right-token", source: "test" }),
  );
  const list = await good.request<{ kind: string }>("GET", "/api/v1/pods");
  assert.equal(list.kind, "PodList");
});

Deno.test("KubeHttp.request() maps 404 to K8sApiError and names the source when unreachable", async () => {
  const emu = await startEmulator();
  const url = emu.url;
  using http = new KubeHttp(makeConnection({ server: url, source: "flags" }));
  const nf = await http.request("GET", "/api/v1/namespaces/default/pods/none").catch((e) => e);
  assert.ok(isNotFound(nf));
  await emu.close();
  http.close();
  await assert.rejects(
    http.request("GET", "/api/v1/pods"),
    new RegExp(`^Error: Cannot GET /api/v1/pods at ${url} \\(server from flags\\): .*refused`, "i"),
  );
});

Deno.test("KubeHttp.watch() ends with K8sIdleTimeoutError when the stream goes quiet", async () => {
  await using emu = await startEmulator({ bookmarkIntervalMs: 60_000 });
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const ev of http.watch("/api/v1/namespaces", {}, { idleTimeoutMs: 300 })) {
        seen.push(ev.type);
      }
    })(),
    K8sIdleTimeoutError,
  );
  assert.deepEqual(
    seen,
    ["ADDED", "ADDED", "ADDED", "ADDED"],
    "the four initial namespaces came first",
  );
});

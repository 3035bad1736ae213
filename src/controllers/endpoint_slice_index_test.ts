import assert from "node:assert/strict";
import { EndpointSliceIndex, sliceServiceKey } from "./endpoint_slice_index.ts";

const slice = (name: string, svc?: string, ns = "default") => ({
  metadata: { name, namespace: ns, labels: svc ? { "kubernetes.io/service-name": svc } : {} },
});

Deno.test("EndpointSliceIndex groups slices by service and follows label moves", () => {
  const ix = new EndpointSliceIndex();
  assert.deepEqual(ix.upsert(slice("web-b", "web")), ["default/web"]);
  ix.upsert(slice("web-a", "web"));
  ix.upsert(slice("api-a", "api"));
  assert.deepEqual(ix.slicesOf("default/web").map((s) => s.metadata?.name), ["web-a", "web-b"]);
  assert.deepEqual(ix.upsert(slice("web-a", "api"), slice("web-a", "web")), [
    "default/web",
    "default/api",
  ]);
  assert.deepEqual(ix.slicesOf("default/web").map((s) => s.metadata?.name), ["web-b"]);
  ix.remove(slice("web-b", "web"));
  assert.equal(ix.has("default/web"), false);
  assert.deepEqual(ix.slicesOf("default/api").length, 2);
});

Deno.test("sliceServiceKey() needs the service label and a namespace", () => {
  assert.equal(sliceServiceKey(slice("x")), undefined);
  assert.equal(sliceServiceKey(slice("x", "web", "prod")), "prod/web");
});

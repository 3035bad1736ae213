import assert from "node:assert/strict";
import type { KubeObject } from "../resources.ts";
import { buildEndpoints, buildEndpointSlices, podIpOf } from "./endpoints.ts";

const svc: KubeObject = {
  metadata: { name: "web", namespace: "ns", uid: "u1" },
  spec: {
    selector: { app: "web" },
    ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
  },
};

function pod(
  name: string,
  extra: Partial<KubeObject> & { ip?: string; ann?: string; phase?: string },
): KubeObject {
  return {
    metadata: {
      name,
      namespace: "ns",
      uid: `uid-${name}`,
      labels: { app: "web" },
      ...(extra.ann ? { annotations: { ovn: extra.ann } } : {}),
    },
    spec: { nodeName: "n1", containers: [{ ports: [{ name: "http", containerPort: 8080 }] }] },
    status: { phase: extra.phase ?? "Running", ...(extra.ip ? { podIP: extra.ip } : {}) },
  };
}

Deno.test("podIpOf() prefers status.podIP, else the ovn annotation without prefix", () => {
  assert.equal(
    podIpOf(pod("a", { ip: "10.0.0.5", ann: '{"ip_address":"10.0.0.9/24"}' }) as never),
    "10.0.0.5",
  );
  assert.equal(podIpOf(pod("a", { ann: '{"ip_address":"10.0.0.9/24"}' }) as never), "10.0.0.9");
  assert.equal(podIpOf(pod("a", { ann: "not json" }) as never), undefined);
});

Deno.test("buildEndpoints() lists ready and not-ready pods with resolved named ports", () => {
  const pods = [
    pod("a", { ip: "10.0.0.5" }),
    pod("b", { ann: '{"ip_address":"10.0.0.6/24"}', phase: "Pending" }),
    pod("c", {}),
    {
      ...pod("d", { ip: "10.0.0.8" }),
      metadata: { name: "d", namespace: "ns", labels: { app: "other" } },
    },
  ];
  const ep = buildEndpoints(svc as never, pods as never);
  assert.deepEqual(ep["subsets"], [{
    addresses: [{
      ip: "10.0.0.5",
      nodeName: "n1",
      targetRef: { kind: "Pod", namespace: "ns", name: "a", uid: "uid-a" },
    }],
    notReadyAddresses: [{
      ip: "10.0.0.6",
      nodeName: "n1",
      targetRef: { kind: "Pod", namespace: "ns", name: "b", uid: "uid-b" },
    }],
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  }]);
});

Deno.test("buildEndpointSlices() splits address families and keeps an empty IPv4 slice", () => {
  assert.deepEqual(
    buildEndpointSlices(svc as never, []).map((s) => [s.metadata.name, s["endpoints"]]),
    [
      ["web-ipv4", []],
    ],
  );
  const slices = buildEndpointSlices(
    svc as never,
    [pod("a", { ip: "10.0.0.5" }), pod("b", { ip: "fd00::5" })] as never,
  );
  assert.deepEqual(
    slices.map((
      s,
    ) => [s["addressType"], (s["endpoints"] as { addresses: string[] }[])[0]!.addresses]),
    [
      ["IPv4", ["10.0.0.5"]],
      ["IPv6", ["fd00::5"]],
    ],
  );
  assert.equal(slices[0]!.metadata.labels?.["kubernetes.io/service-name"], "web");
});

import assert from "node:assert/strict";
import {
  buildServiceLbSpec,
  compareBackends,
  type EndpointSliceLike,
  readyBackends,
  type ServiceLike,
} from "./service_lbs.ts";

const svc = (spec: ServiceLike["spec"]): ServiceLike => ({
  metadata: { namespace: "default", name: "web" },
  spec,
});

const slice = (
  ports: EndpointSliceLike["ports"],
  eps: [string, boolean | undefined][],
  addressType = "IPv4",
): EndpointSliceLike => ({
  addressType,
  ports,
  endpoints: eps.map(([ip, ready]) => ({
    addresses: [ip],
    ...(ready === undefined ? {} : { conditions: { ready } }),
  })),
});

Deno.test("buildServiceLbSpec() maps a ClusterIP port to ready slice endpoints", () => {
  const { spec, warnings } = buildServiceLbSpec(
    svc({ clusterIP: "10.96.0.10", ports: [{ port: 80, targetPort: 8080 }] }),
    {
      slices: [slice([{ port: 8080 }], [["10.244.2.3", true], ["10.244.1.4", undefined], [
        "10.244.1.9",
        false,
      ]])],
    },
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(spec, {
    service: "default/web",
    protocols: {
      tcp: {
        vips: { "10.96.0.10:80": "10.244.1.4:8080,10.244.2.3:8080" },
        nodePorts: {},
        externalVips: {},
        affinityTimeout: 0,
      },
    },
  });
});

Deno.test("buildServiceLbSpec() resolves named target ports from slice port names", () => {
  const { spec } = buildServiceLbSpec(
    svc({
      clusterIP: "10.96.0.10",
      ports: [
        { name: "http", port: 80, targetPort: "web" },
        { name: "dns", port: 53, targetPort: "dns", protocol: "UDP" },
      ],
    }),
    {
      slices: [
        slice([{ name: "http", port: 8080 }, { name: "dns", port: 5353, protocol: "UDP" }], [[
          "10.244.1.4",
          true,
        ]]),
        // another pod resolves the same name to another number
        slice([{ name: "http", port: 9090 }], [["10.244.2.3", true]]),
      ],
    },
  );
  assert.equal(spec?.protocols.tcp?.vips["10.96.0.10:80"], "10.244.1.4:8080,10.244.2.3:9090");
  assert.equal(spec?.protocols.udp?.vips["10.96.0.10:53"], "10.244.1.4:5353");
});

Deno.test("buildServiceLbSpec() uses Endpoints only when there are no slices", () => {
  const endpoints = {
    subsets: [{ addresses: [{ ip: "10.244.3.3" }], ports: [{ name: "http", port: 8080 }] }],
  };
  const s = svc({ clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80 }] });
  const fromEp = buildServiceLbSpec(s, { slices: [], endpoints }).spec;
  assert.equal(fromEp?.protocols.tcp?.vips["10.96.0.10:80"], "10.244.3.3:8080");
  const fromSlices = buildServiceLbSpec(s, {
    slices: [slice([{ name: "http", port: 81 }], [["10.244.9.9", true]])],
    endpoints,
  }).spec;
  assert.equal(fromSlices?.protocols.tcp?.vips["10.96.0.10:80"], "10.244.9.9:81");
});

Deno.test("buildServiceLbSpec() keeps a VIP without endpoints with empty backends", () => {
  const { spec } = buildServiceLbSpec(
    svc({ clusterIP: "10.96.0.10", ports: [{ port: 80 }] }),
    { slices: [slice([{ port: 80 }], [["10.244.1.4", false]])] },
  );
  assert.deepEqual(spec?.protocols.tcp?.vips, { "10.96.0.10:80": "" });
});

Deno.test("buildServiceLbSpec() adds nodePorts and every external IP for NodePort", () => {
  const { spec } = buildServiceLbSpec(
    svc({
      type: "NodePort",
      clusterIP: "10.96.0.10",
      externalIPs: ["1.2.3.4", "1.2.3.5", "fd00::1"],
      ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }, {
        port: 5000,
        nodePort: 30500,
        protocol: "SCTP",
      }],
    }),
    { slices: [slice([{ port: 80 }, { port: 5000, protocol: "SCTP" }], [["10.244.1.4", true]])] },
  );
  assert.deepEqual(spec?.protocols.tcp, {
    vips: {
      "10.96.0.10:80": "10.244.1.4:80",
      "1.2.3.4:80": "10.244.1.4:80",
      "1.2.3.5:80": "10.244.1.4:80",
    },
    nodePorts: { "30080": "10.244.1.4:80" },
    externalVips: { "1.2.3.4:80": "10.244.1.4:80", "1.2.3.5:80": "10.244.1.4:80" },
    affinityTimeout: 0,
  });
  assert.deepEqual(spec?.protocols.sctp?.nodePorts, { "30500": "10.244.1.4:5000" });
});

Deno.test("buildServiceLbSpec() ignores nodePorts of a ClusterIP service", () => {
  const { spec } = buildServiceLbSpec(
    svc({ type: "ClusterIP", clusterIP: "10.96.0.10", ports: [{ port: 80, nodePort: 30080 }] }),
    { slices: [] },
  );
  assert.deepEqual(spec?.protocols.tcp?.nodePorts, {});
});

Deno.test("buildServiceLbSpec() gives nothing for ExternalName and headless services", () => {
  assert.equal(
    buildServiceLbSpec(svc({ type: "ExternalName", ports: [{ port: 80 }] }), { slices: [] }).spec,
    undefined,
  );
  assert.equal(
    buildServiceLbSpec(svc({ clusterIP: "None", ports: [{ port: 80 }] }), { slices: [] }).spec,
    undefined,
  );
});

Deno.test("buildServiceLbSpec() sets ClientIP affinity and caps it with a warning", () => {
  const base = { clusterIP: "10.96.0.10", ports: [{ port: 80 }], sessionAffinity: "ClientIP" };
  assert.equal(
    buildServiceLbSpec(svc(base), { slices: [] }).spec?.protocols.tcp?.affinityTimeout,
    10800,
  );
  const capped = buildServiceLbSpec(
    svc({ ...base, sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } } }),
    { slices: [] },
  );
  assert.equal(capped.spec?.protocols.tcp?.affinityTimeout, 65535);
  assert.equal(capped.warnings.length, 1);
});

Deno.test("buildServiceLbSpec() skips unknown protocols with a warning", () => {
  const r = buildServiceLbSpec(
    svc({ clusterIP: "10.96.0.10", ports: [{ port: 80, protocol: "QUIC" }] }),
    { slices: [] },
  );
  assert.equal(r.spec, undefined);
  assert.match(r.warnings[0]!, /unsupported protocol QUIC/);
});

Deno.test("readyBackends() skips IPv6 slices and ports of another protocol", () => {
  const got = readyBackends({ port: 53, protocol: "UDP" }, [
    slice([{ port: 53, protocol: "UDP" }], [["fd00::5", true]], "IPv6"),
    slice([{ port: 53, protocol: "TCP" }], [["10.244.1.1", true]]),
    slice([{ port: 53, protocol: "UDP" }], [["10.244.1.2", true], ["10.244.1.2", true]]),
  ]);
  assert.deepEqual(got, ["10.244.1.2:53"]);
});

Deno.test("compareBackends() orders by address numerically", () => {
  assert.deepEqual(
    ["10.244.10.1:80", "10.244.2.1:80", "10.244.2.1:8"].sort(compareBackends),
    ["10.244.2.1:8", "10.244.2.1:80", "10.244.10.1:80"],
  );
});

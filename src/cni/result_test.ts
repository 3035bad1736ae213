import assert from "node:assert/strict";
import type { PodNetwork } from "./annotation.ts";
import { type Attachment, parsePrevResult, renderResult } from "./result.ts";

const v4: PodNetwork = {
  ip: "10.244.1.5",
  prefixLength: 24,
  family: 4,
  mac: "0a:58:0a:f4:01:05",
  gateway: "10.244.1.1",
};
const att = (network: PodNetwork): Attachment => ({
  host: { name: "3f2a9c0d1e5b7a8", mac: "02:11:22:33:44:55" },
  pod: { name: "eth0", mac: network.mac, sandbox: "/var/run/netns/p" },
  network,
});

Deno.test("renderResult() renders a 1.0.0 result with interface index and gateway", () => {
  assert.deepEqual(renderResult(att(v4), "1.0.0"), {
    cniVersion: "1.0.0",
    interfaces: [
      { name: "3f2a9c0d1e5b7a8", mac: "02:11:22:33:44:55" },
      { name: "eth0", mac: "0a:58:0a:f4:01:05", sandbox: "/var/run/netns/p" },
    ],
    ips: [{ address: "10.244.1.5/24", gateway: "10.244.1.1", interface: 1 }],
    routes: [{ dst: "0.0.0.0/0", gw: "10.244.1.1" }],
    dns: {},
  });
});

Deno.test("renderResult() adds ips[].version for 0.3.1 and 0.4.0", () => {
  for (const v of ["0.3.0", "0.3.1", "0.4.0"]) {
    const r = renderResult(att(v4), v) as { cniVersion: string; ips: { version?: string }[] };
    assert.equal(r.cniVersion, v);
    assert.equal(r.ips[0]!.version, "4");
  }
});

Deno.test("renderResult() renders ip4/ip6 for 0.1.0 and 0.2.0", () => {
  assert.deepEqual(renderResult(att(v4), "0.2.0"), {
    cniVersion: "0.2.0",
    ip4: {
      ip: "10.244.1.5/24",
      gateway: "10.244.1.1",
      routes: [{ dst: "0.0.0.0/0", gw: "10.244.1.1" }],
    },
    dns: {},
  });
  const v6: PodNetwork = { ...v4, ip: "fd00::5", prefixLength: 64, family: 6, gateway: "fd00::1" };
  const r = renderResult(att(v6), "0.1.0") as { ip6?: { ip: string; routes?: unknown[] } };
  assert.equal(r.ip6?.ip, "fd00::5/64");
  assert.deepEqual(r.ip6?.routes, [{ dst: "::/0", gw: "fd00::1" }]);
});

Deno.test("parsePrevResult() reads back what renderResult() wrote", () => {
  const r = renderResult(att(v4), "0.4.0");
  const p = parsePrevResult(JSON.parse(JSON.stringify(r)));
  assert.equal(p.interfaces[1]!.sandbox, "/var/run/netns/p");
  assert.deepEqual(p.ips, [{ address: "10.244.1.5/24", gateway: "10.244.1.1", interface: 1 }]);
  assert.deepEqual(p.routes, [{ dst: "0.0.0.0/0", gw: "10.244.1.1" }]);
});

Deno.test("parsePrevResult() rejects malformed results with code 7", () => {
  for (const bad of [null, "x", { interfaces: {} }, { interfaces: [{}] }, { ips: [{}] }]) {
    assert.throws(
      () => parsePrevResult(bad),
      (e: Error & { code?: number }) => e.code === 7 && /Cannot read prevResult/.test(e.message),
    );
  }
});

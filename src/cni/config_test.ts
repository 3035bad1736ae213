import assert from "node:assert/strict";
import { parseNetConf } from "./config.ts";
import { CniError } from "./errors.ts";

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CniError, String(err));
    return err.code;
  }
  throw new Error("did not throw");
}

Deno.test("parseNetConf() applies defaults", () => {
  const c = parseNetConf('{"cniVersion":"1.0.0","name":"ovn","type":"ovn-k8s"}');
  assert.equal(c.cniVersion, "1.0.0");
  assert.equal(c.bridge, "br-int");
  assert.equal(c.mtu, 1400);
  assert.equal(c.annotationTimeoutMs, 30_000);
  assert.equal(c.ovnInstalledTimeoutMs, 30_000);
  assert.equal(c.ovsdb, undefined);
  assert.equal(c.prevResult, undefined);
});

Deno.test("parseNetConf() reads the original minion-init file as 0.1.0", () => {
  const c = parseNetConf(
    '{"name":"net","type":"ovn_cni","bridge":"br-int","isGateway":"true","ipMasq":"false",' +
      '"ipam":{"type":"host-local","subnet":"10.244.1.0/24"}}',
  );
  assert.equal(c.cniVersion, "0.1.0");
  assert.equal(c.type, "ovn_cni");
});

Deno.test("parseNetConf() reads our fields", () => {
  const c = parseNetConf(JSON.stringify({
    cniVersion: "0.4.0",
    mtu: 1300,
    bridge: "br-x",
    ovsdb: "unix:/tmp/db.sock",
    kubeconfig: "/etc/k.conf",
    annotationTimeoutSeconds: 0.5,
    ovnInstalledTimeoutSeconds: 0,
    logFile: "/tmp/cni.log",
    logLevel: "debug",
    prevResult: { interfaces: [] },
  }));
  assert.equal(c.mtu, 1300);
  assert.equal(c.bridge, "br-x");
  assert.equal(c.ovsdb, "unix:/tmp/db.sock");
  assert.equal(c.kubeconfig, "/etc/k.conf");
  assert.equal(c.annotationTimeoutMs, 500);
  assert.equal(c.ovnInstalledTimeoutMs, 0);
  assert.equal(c.logLevel, "debug");
  assert.deepEqual(c.prevResult, { interfaces: [] });
});

Deno.test("parseNetConf() maps bad input to the spec's codes", () => {
  assert.equal(code(() => parseNetConf("{")), 6);
  assert.equal(code(() => parseNetConf("[]")), 6);
  assert.equal(code(() => parseNetConf('{"cniVersion":"9.9.9"}')), 1);
  assert.equal(code(() => parseNetConf('{"cniVersion":"1.0.0","mtu":"1400"}')), 7);
  assert.equal(code(() => parseNetConf('{"cniVersion":"1.0.0","mtu":100}')), 7);
  assert.equal(code(() => parseNetConf('{"cniVersion":"1.0.0","bridge":"a b"}')), 7);
  assert.equal(code(() => parseNetConf('{"annotationTimeoutSeconds":-1}')), 7);
  assert.equal(code(() => parseNetConf('{"logLevel":"loud"}')), 7);
});

Deno.test("parseNetConf() names the field and value in its message", () => {
  assert.throws(
    () => parseNetConf('{"mtu":"big"}'),
    /Cannot use network config field "mtu" = "big": expected an integer/,
  );
});

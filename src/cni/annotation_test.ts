import assert from "node:assert/strict";
import { isIPv4, isIPv6, parseOvnAnnotation } from "./annotation.ts";

Deno.test("parseOvnAnnotation() reads the watcher's JSON", () => {
  const n = parseOvnAnnotation(
    '{"ip_address":"10.244.1.5/24","mac_address":"0A:58:0A:F4:01:05","gateway_ip":"10.244.1.1"}',
    "default/p",
  );
  assert.deepEqual(n, {
    ip: "10.244.1.5",
    prefixLength: 24,
    family: 4,
    mac: "0a:58:0a:f4:01:05",
    gateway: "10.244.1.1",
  });
});

Deno.test("parseOvnAnnotation() reads the pre-2017 Python repr", () => {
  const n = parseOvnAnnotation(
    "{u'ip_address': u'10.244.2.3/24', u'mac_address': u'0a:00:00:00:00:05', " +
      "u'gateway_ip': u'10.244.2.1'}",
    "default/p",
  );
  assert.equal(n.ip, "10.244.2.3");
  assert.equal(n.gateway, "10.244.2.1");
});

Deno.test("parseOvnAnnotation() reads IPv6", () => {
  const n = parseOvnAnnotation(
    '{"ip_address":"fd00::5/64","mac_address":"0a:58:00:00:00:05","gateway_ip":"fd00::1"}',
    "ns/p",
  );
  assert.equal(n.family, 6);
  assert.equal(n.prefixLength, 64);
});

Deno.test("parseOvnAnnotation() names the pod and the bad field", () => {
  const cases: [string, RegExp][] = [
    ["nope", /not JSON/],
    ['{"mac_address":"0a:58:00:00:00:05","gateway_ip":"10.0.0.1"}', /"ip_address" is missing/],
    [
      '{"ip_address":"10.0.0.300/24","mac_address":"0a:58:00:00:00:05","gateway_ip":"10.0.0.1"}',
      /not an IP address/,
    ],
    [
      '{"ip_address":"10.0.0.3/33","mac_address":"0a:58:00:00:00:05","gateway_ip":"10.0.0.1"}',
      /bad prefix length/,
    ],
    ['{"ip_address":"10.0.0.3/24","mac_address":"0a:58","gateway_ip":"10.0.0.1"}', /not a MAC/],
    [
      '{"ip_address":"10.0.0.3/24","mac_address":"0a:58:00:00:00:05","gateway_ip":"fd00::1"}',
      /not an IPv4 address/,
    ],
  ];
  for (const [value, re] of cases) {
    assert.throws(
      () => parseOvnAnnotation(value, "kube-system/dns-1"),
      (err: Error & { code?: number }) =>
        err.code === 102 && re.test(err.message) && err.message.includes("kube-system/dns-1"),
      value,
    );
  }
});

Deno.test("isIPv4() and isIPv6() accept only addresses", () => {
  assert.ok(isIPv4("10.0.0.1"));
  assert.ok(!isIPv4("10.0.0.256"));
  assert.ok(!isIPv4("010.0.0.1"));
  assert.ok(isIPv6("fe80::1"));
  assert.ok(!isIPv6("fe80::g"));
  assert.ok(!isIPv6("10.0.0.1"));
});

import assert from "node:assert/strict";
import { formatIpv4, isIpv4, parseIpv4 } from "./ipv4.ts";

Deno.test("parseIpv4() accepts dotted quads and rejects other forms", () => {
  assert.equal(parseIpv4("192.168.1.2"), 0xc0a80102);
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  for (const bad of ["10.1", "010.0.0.1", "256.0.0.1", "1.2.3.4.5", "a.b.c.d", "", " 1.2.3.4"]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

Deno.test("formatIpv4() round-trips and rejects out-of-range numbers", () => {
  assert.equal(formatIpv4(0xc0a80102), "192.168.1.2");
  assert.equal(formatIpv4(parseIpv4("10.244.255.1")!), "10.244.255.1");
  assert.throws(() => formatIpv4(2 ** 32), RangeError);
  assert.equal(isIpv4("1.2.3.4"), true);
  assert.equal(isIpv4("1.2.3"), false);
});

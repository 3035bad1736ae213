import assert from "node:assert/strict";
import { isUsableMac, macFromIpv4, parseMac } from "./mac.ts";
import { parseIpv4 } from "./ipv4.ts";

Deno.test("parseMac() canonicalises case and separators", () => {
  assert.equal(parseMac("00:00:00:A1:34:D6"), "00:00:00:a1:34:d6");
  assert.equal(parseMac("0A-58-C0-A8-01-02"), "0a:58:c0:a8:01:02");
  for (
    const bad of [
      "00:00:00:a1:34",
      "00:00:00:a1:34:d6:00",
      "zz:00:00:00:00:00",
      "00:00-00:00:00:00",
    ]
  ) {
    assert.equal(parseMac(bad), undefined, bad);
  }
});

Deno.test("macFromIpv4() derives 0a:58 plus the address octets", () => {
  assert.equal(macFromIpv4(parseIpv4("192.168.1.2")!), "0a:58:c0:a8:01:02");
  assert.equal(macFromIpv4(parseIpv4("10.244.0.255")!), "0a:58:0a:f4:00:ff");
});

Deno.test("isUsableMac() rejects zero and multicast MACs", () => {
  assert.equal(isUsableMac("0a:58:c0:a8:01:02"), true);
  assert.equal(isUsableMac("00:00:00:00:00:00"), false);
  assert.equal(isUsableMac("01:00:5e:00:00:01"), false);
});

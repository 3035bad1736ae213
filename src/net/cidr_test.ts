import assert from "node:assert/strict";
import { Ipv4Cidr, maskOf, tryParseCidr } from "./cidr.ts";
import { formatIpv4 } from "./ipv4.ts";

Deno.test("Ipv4Cidr.parse() parses and formats a network", () => {
  const c = Ipv4Cidr.parse("192.168.0.0/16");
  assert.equal(c.toString(), "192.168.0.0/16");
  assert.equal(c.size, 65536);
  assert.equal(formatIpv4(c.host(1)), "192.168.0.1");
  assert.equal(formatIpv4(c.last), "192.168.255.255");
  assert.equal(Ipv4Cidr.parse("0.0.0.0/0").size, 2 ** 32);
});

Deno.test("Ipv4Cidr.parse() rejects non-CIDRs with SyntaxError naming the input", () => {
  for (const bad of ["192.168.0.0", "192.168.0/16", "10.0.0.0/33", "x/8", "10.0.0.0/-1"]) {
    assert.throws(() => Ipv4Cidr.parse(bad), (e: unknown) => {
      return e instanceof SyntaxError && e.message.includes(`"${bad}"`);
    });
  }
});

Deno.test("Ipv4Cidr.parse() rejects host bits and suggests the network", () => {
  assert.throws(() => Ipv4Cidr.parse("10.0.0.5/8"), /did you mean 10\.0\.0\.0\/8/);
  assert.equal(tryParseCidr("10.0.0.5/8"), undefined);
  assert.equal(tryParseCidr("10.0.0.0/8")?.prefix, 8);
});

Deno.test("Ipv4Cidr.parseInterface() keeps the address and derives the network", () => {
  const { address, cidr } = Ipv4Cidr.parseInterface("192.168.1.1/24");
  assert.equal(formatIpv4(address), "192.168.1.1");
  assert.equal(cidr.toString(), "192.168.1.0/24");
});

Deno.test("Ipv4Cidr.contains() and overlaps() compare blocks", () => {
  const cluster = Ipv4Cidr.parse("192.168.0.0/16");
  const node = Ipv4Cidr.parse("192.168.2.0/24");
  assert.equal(cluster.contains(node), true);
  assert.equal(node.contains(cluster), false);
  assert.equal(cluster.contains(Ipv4Cidr.parse("10.0.0.0/24")), false);
  assert.equal(node.overlaps(Ipv4Cidr.parse("192.168.2.128/25")), true);
  assert.equal(node.overlaps(Ipv4Cidr.parse("192.168.3.0/24")), false);
  assert.equal(node.contains(node.host(255)), true);
  assert.equal(node.contains(node.host(255) + 1), false);
  assert.equal(node.equals(Ipv4Cidr.parse("192.168.2.0/24")), true);
});

Deno.test("Ipv4Cidr.host() rejects offsets outside the block", () => {
  assert.throws(() => Ipv4Cidr.parse("10.0.0.0/30").host(4), RangeError);
  assert.equal(maskOf(24), 0xffffff00);
  assert.equal(maskOf(0), 0);
});

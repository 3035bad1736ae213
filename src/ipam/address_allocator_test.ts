import assert from "node:assert/strict";
import { formatIpv4, Ipv4Cidr, parseIpv4 } from "../net/mod.ts";
import { AddressAllocator } from "./address_allocator.ts";

const ip = (s: string) => parseIpv4(s)!;

Deno.test("AddressAllocator.allocate() skips .0, .1 router, .2 management and broadcast", () => {
  const a = new AddressAllocator(Ipv4Cidr.parse("10.244.1.0/29"));
  const got: string[] = [];
  for (let x = a.allocate(); x !== undefined; x = a.allocate()) got.push(formatIpv4(x));
  assert.deepEqual(got, ["10.244.1.3", "10.244.1.4", "10.244.1.5", "10.244.1.6"]);
  assert.equal(a.free, 0);
});

Deno.test("AddressAllocator.reserve() marks addresses found in NB", () => {
  const a = new AddressAllocator(Ipv4Cidr.parse("10.244.1.0/24"));
  assert.equal(a.reserve(ip("10.244.1.3")), true);
  assert.equal(a.reserve(ip("10.244.1.3")), false);
  assert.equal(a.reserve(ip("10.244.1.2")), false);
  assert.equal(a.reserve(ip("10.244.2.3")), false);
  assert.equal(formatIpv4(a.allocate()!), "10.244.1.4");
  assert.equal(a.free, 250);
});

Deno.test("AddressAllocator.release() frees pod addresses but never reserved ones", () => {
  const a = new AddressAllocator(Ipv4Cidr.parse("10.244.1.0/24"));
  const x = a.allocate()!;
  assert.equal(a.release(ip("10.244.1.1")), false);
  assert.equal(a.release(x), true);
  assert.equal(a.release(x), false);
  assert.equal(a.isUsed(x), false);
  assert.equal(a.allocate(), x);
  assert.throws(() => new AddressAllocator(Ipv4Cidr.parse("10.0.0.0/30")), RangeError);
});

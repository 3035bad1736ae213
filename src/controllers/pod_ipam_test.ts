import assert from "node:assert/strict";
import { Ipv4Cidr, parseIpv4 } from "../net/mod.ts";
import { PodIpam } from "./pod_ipam.ts";

const ip = (s: string) => parseIpv4(s)!;

Deno.test("PodIpam.assign() skips .1 and .2, keeps a pod's address, never gives one twice", () => {
  const ipam = new PodIpam();
  ipam.setSwitch("n1", "sw1", Ipv4Cidr.parse("10.244.1.0/24"));
  assert.equal(ipam.assign("ns/a", "n1"), ip("10.244.1.3"));
  assert.equal(ipam.assign("ns/b", "n1"), ip("10.244.1.4"));
  assert.equal(ipam.assign("ns/a", "n1"), ip("10.244.1.3"), "same pod, same address");
  assert.equal(ipam.holder("n1", "10.244.1.4"), "ns/b");
  assert.equal(ipam.holder("n1", "10.244.1.2"), "", "management address is taken");
  assert.equal(ipam.assign("ns/x", "nope"), undefined, "no switch");
});

Deno.test("PodIpam.observe() rebuilds from NB; preferred addresses are honoured when free", () => {
  const ipam = new PodIpam();
  ipam.setSwitch("n1", "sw1", Ipv4Cidr.parse("10.244.1.0/24"));
  assert.equal(ipam.observe("n1", ip("10.244.1.3"), "ns/a"), true);
  assert.equal(ipam.observe("n1", ip("10.244.1.9")), true, "a non-pod port's address");
  assert.equal(ipam.observe("n1", ip("10.244.1.3"), "ns/b"), false, "held by a");
  assert.deepEqual(ipam.get("ns/a"), { node: "n1", ip: ip("10.244.1.3") });
  assert.equal(ipam.assign("ns/c", "n1", ip("10.244.1.9")), ip("10.244.1.4"), "9 is taken");
  assert.equal(ipam.assign("ns/d", "n1", ip("10.244.1.50")), ip("10.244.1.50"));
});

Deno.test("PodIpam reports a full subnet and reuses a released address", () => {
  const ipam = new PodIpam();
  ipam.setSwitch("s", "sw", Ipv4Cidr.parse("10.0.0.0/29"));
  const got = ["a", "b", "c", "d"].map((k) => ipam.assign(k, "s"));
  assert.deepEqual(got, [3, 4, 5, 6].map((n) => ip(`10.0.0.${n}`)));
  assert.equal(ipam.assign("e", "s"), undefined);
  assert.equal(ipam.node("s")!.free, 0);
  assert.deepEqual(ipam.release("b"), { node: "s", ip: ip("10.0.0.4") });
  assert.equal(ipam.assign("e", "s"), ip("10.0.0.4"));
});

Deno.test("PodIpam: a pod moving node keeps its old address taken until releaseIp()", () => {
  const ipam = new PodIpam();
  ipam.setSwitch("n1", "sw1", Ipv4Cidr.parse("10.244.1.0/24"));
  ipam.setSwitch("n2", "sw2", Ipv4Cidr.parse("10.244.2.0/24"));
  const old = ipam.assign("ns/a", "n1")!;
  const now = ipam.assign("ns/a", "n2")!;
  assert.equal(now, ip("10.244.2.3"));
  assert.equal(ipam.holder("n1", old), "ns/a", "old address still held");
  assert.equal(ipam.assign("ns/b", "n1"), ip("10.244.1.4"));
  assert.equal(ipam.releaseIp("n1", old, "ns/a"), true);
  assert.deepEqual(ipam.get("ns/a"), { node: "n2", ip: now });
  assert.equal(ipam.nodeOfSwitch("sw2"), "n2");
});

Deno.test("PodIpam.setSwitch() with a new subnet drops addresses outside it", () => {
  const ipam = new PodIpam();
  ipam.setSwitch("n1", "sw1", Ipv4Cidr.parse("10.244.1.0/24"));
  ipam.assign("ns/a", "n1");
  ipam.setSwitch("n1", "sw1", Ipv4Cidr.parse("10.244.7.0/24"));
  assert.equal(ipam.get("ns/a"), undefined);
  assert.equal(ipam.setSwitch("n9", "sw9", Ipv4Cidr.parse("10.0.0.0/30")), false, "too small");
  ipam.deleteSwitch("n1");
  assert.equal(ipam.node("n1"), undefined);
});

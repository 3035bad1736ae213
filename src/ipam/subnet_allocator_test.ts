import assert from "node:assert/strict";
import { Ipv4Cidr } from "../net/mod.ts";
import { findSubnetConflict, nextFreeSubnet } from "./subnet_allocator.ts";

const c = (s: string) => Ipv4Cidr.parse(s);

Deno.test("nextFreeSubnet() returns the lowest free block", () => {
  assert.equal(nextFreeSubnet(c("10.244.0.0/16"), 24, [])?.toString(), "10.244.0.0/24");
  const used = [c("10.244.0.0/24"), c("10.244.2.0/24")];
  assert.equal(nextFreeSubnet(c("10.244.0.0/16"), 24, used)?.toString(), "10.244.1.0/24");
  used.push(c("10.244.1.0/24"));
  assert.equal(nextFreeSubnet(c("10.244.0.0/16"), 24, used)?.toString(), "10.244.3.0/24");
});

Deno.test("nextFreeSubnet() skips past larger and misaligned used blocks", () => {
  const used = [c("10.0.0.0/23"), c("10.0.2.128/25"), c("192.168.0.0/16")];
  assert.equal(nextFreeSubnet(c("10.0.0.0/16"), 24, used)?.toString(), "10.0.3.0/24");
  assert.equal(nextFreeSubnet(c("10.0.0.0/16"), 25, used)?.toString(), "10.0.2.0/25");
});

Deno.test("nextFreeSubnet() returns undefined when exhausted", () => {
  const used = [c("10.0.0.0/25"), c("10.0.0.128/25")];
  assert.equal(nextFreeSubnet(c("10.0.0.0/24"), 25, used), undefined);
  assert.equal(nextFreeSubnet(c("10.0.0.0/24"), 26, [c("10.0.0.0/24")]), undefined);
});

Deno.test("nextFreeSubnet() rejects a block larger than the cluster", () => {
  assert.throws(() => nextFreeSubnet(c("10.0.0.0/24"), 16, []), /between \/24 and \/30/);
});

Deno.test("findSubnetConflict() reports outside, too small and overlapping subnets", () => {
  const cluster = c("192.168.0.0/16");
  assert.equal(findSubnetConflict(cluster, c("192.168.1.0/24"), new Map()), undefined);
  assert.equal(findSubnetConflict(cluster, c("10.0.0.0/24"), new Map())?.kind, "outside");
  assert.equal(
    findSubnetConflict(c("10.0.0.0/25"), c("10.0.0.0/24"), new Map())?.kind,
    "cluster-too-small",
  );
  assert.equal(findSubnetConflict(cluster, c("192.168.1.0/30"), new Map())?.kind, "too-small");
  const others = new Map([["b", c("192.168.4.0/22")], ["a", c("192.168.9.0/24")]]);
  assert.deepEqual(findSubnetConflict(cluster, c("192.168.5.0/24"), others), {
    kind: "overlap",
    owner: "b",
    subnet: c("192.168.4.0/22"),
  });
});

import assert from "node:assert/strict";
import { Ipv4Cidr } from "../net/mod.ts";
import {
  lockUnderlay,
  pickUnderlay,
  planUnderlay,
  UNDERLAY_POOL,
  underlayCollisions,
} from "./underlay.ts";

Deno.test("planUnderlay() puts root at .1, central at .2 and node i at .10+i", () => {
  const p = planUnderlay(Ipv4Cidr.parse("172.31.5.0/24"));
  assert.deepEqual([p.rootIp, p.centralIp, p.nodeIp(1), p.nodeIp(3)], [
    "172.31.5.1",
    "172.31.5.2",
    "172.31.5.11",
    "172.31.5.13",
  ]);
  assert.equal(p.prefix, 24);
});

Deno.test("underlayCollisions() names overlapping routes and addresses, ignoring default", () => {
  const cand = Ipv4Cidr.parse("172.31.5.0/24");
  const hits = underlayCollisions(cand, [
    { dst: "default", dev: "eth0", gateway: "192.0.2.1" },
    { dst: "172.16.0.0/12", dev: "vpn0" },
    { dst: "172.31.5.7", dev: "lo" },
    { dst: "10.0.0.0/8", dev: "eth1" },
  ], ["192.0.2.2/24", "172.31.5.200/16"]);
  assert.deepEqual(hits, [
    "route 172.16.0.0/12 dev vpn0",
    "route 172.31.5.7 dev lo",
    "address 172.31.5.200/16",
  ]);
});

Deno.test("pickUnderlay() skips taken /24s, is stable per seed, and differs between seeds", () => {
  const first = pickUnderlay([], [], "lab-a");
  assert.ok(UNDERLAY_POOL.contains(first));
  assert.equal(first.prefix, 24);
  assert.ok(pickUnderlay([], [], "lab-a").equals(first));
  const taken = pickUnderlay([{ dst: first.toString(), dev: "x" }], [], "lab-a");
  assert.ok(!taken.equals(first));
  assert.ok(!pickUnderlay([], [], "lab-b").equals(first));
});

Deno.test("pickUnderlay() fails with the fix when the whole pool is routed", () => {
  assert.throws(
    () => pickUnderlay([{ dst: "172.16.0.0/12", dev: "vpn0" }], [], "x"),
    /every \/24 of 172\.31\.0\.0\/16 collides .*pass --underlay/,
  );
});

Deno.test("lockUnderlay() lets one holder at a time pick, the next after release", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = dir; // a directory, as /run is
    const order: string[] = [];
    const release1 = await lockUnderlay(path);
    order.push("first locked");
    const second = lockUnderlay(path).then((release) => {
      order.push("second locked");
      return release;
    });
    // The second waits while the first holds it (a few turns of the event loop and a
    // blocking flock on another thread: it must still be waiting).
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(order, ["first locked"]);
    order.push("first released");
    release1();
    release1(); // idempotent
    const release2 = await second;
    assert.deepEqual(order, ["first locked", "first released", "second locked"]);
    release2();
    (await lockUnderlay(path))();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

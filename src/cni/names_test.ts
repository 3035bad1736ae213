import assert from "node:assert/strict";
import { fnv1a64, hostVethMac, hostVethName, podIfaceId } from "./names.ts";

Deno.test("hostVethName() keeps the original's first 15 characters of a container id", () => {
  const id = "3f2a9c0d1e5b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";
  assert.equal(hostVethName(id), "3f2a9c0d1e5b7a8");
});

Deno.test("hostVethName() hashes short or unusual ids into 15 characters", () => {
  for (const id of ["abc", "pod/with/slashes-and-more", "x y"]) {
    const n = hostVethName(id);
    assert.match(n, /^veth[0-9a-f]{11}$/);
    assert.equal(hostVethName(id), n, "deterministic");
  }
  assert.notEqual(hostVethName("abc"), hostVethName("abd"));
});

Deno.test("hostVethMac() is a deterministic locally administered unicast MAC", () => {
  const m = hostVethMac("c1");
  assert.match(m, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const first = parseInt(m.slice(0, 2), 16);
  assert.equal(first & 0x01, 0, "unicast");
  assert.equal(first & 0x02, 2, "locally administered");
  assert.equal(hostVethMac("c1"), m);
  assert.notEqual(hostVethMac("c2"), m);
});

Deno.test("fnv1a64() matches the reference vector", () => {
  assert.equal(fnv1a64(""), "cbf29ce484222325");
  assert.equal(fnv1a64("a"), "af63dc4c8601ec8c");
});

Deno.test("podIfaceId() joins namespace and name like the watcher", () => {
  assert.equal(podIfaceId("default", "web-1"), "default_web-1");
});

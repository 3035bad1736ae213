import assert from "node:assert/strict";
import { inNetns, netnsPath, parseNetnsList } from "./netns.ts";

Deno.test("inNetns() wraps an argv in ip netns exec, or leaves it alone", () => {
  assert.deepEqual(inNetns("lab-n1", ["ip", "link"]), [
    "ip",
    "netns",
    "exec",
    "lab-n1",
    "ip",
    "link",
  ]);
  assert.deepEqual(inNetns(undefined, ["ip", "link"]), ["ip", "link"]);
});

Deno.test("inNetns() enters a namespace given by path with nsenter", () => {
  assert.deepEqual(inNetns("/var/run/netns/cni-1", ["ip", "addr"]), [
    "nsenter",
    "--net=/var/run/netns/cni-1",
    "--",
    "ip",
    "addr",
  ]);
});

Deno.test("parseNetnsList() keeps names and drops ids and blank lines", () => {
  assert.deepEqual(parseNetnsList("a-n2 (id: 3)\na-n1\n\n  b (id: 0)\n"), ["a-n2", "a-n1", "b"]);
  assert.deepEqual(parseNetnsList(""), []);
});

Deno.test("netnsPath() is the ip netns bind mount", () => {
  assert.equal(netnsPath("x"), "/run/netns/x");
});

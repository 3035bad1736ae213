import assert from "node:assert/strict";
import { parseRemote, parseRemotes } from "./remote.ts";

Deno.test("parseRemote() reads tcp, ssl, unix and bracketed IPv6", () => {
  assert.deepEqual(parseRemote("tcp:127.0.0.1:6641"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 6641,
    text: "tcp:127.0.0.1:6641",
  });
  assert.deepEqual(parseRemote("ssl:[::1]:6642"), {
    kind: "ssl",
    host: "::1",
    port: 6642,
    text: "ssl:[::1]:6642",
  });
  assert.deepEqual(parseRemote("unix:/run/ovn/nb.sock"), {
    kind: "unix",
    path: "/run/ovn/nb.sock",
    text: "unix:/run/ovn/nb.sock",
  });
});

Deno.test("parseRemote() rejects malformed remotes naming the accepted forms", () => {
  for (const bad of ["tcp:1.2.3.4", "ptcp:6641", "tcp:h:0", "tcp:h:70000", "unix:", "h:1"]) {
    assert.throws(
      () => parseRemote(bad),
      (e: unknown) =>
        e instanceof TypeError && e.message.includes(bad) && e.message.includes("tcp:HOST:PORT"),
    );
  }
});

Deno.test("parseRemotes() splits comma-separated lists and arrays", () => {
  assert.deepEqual(
    parseRemotes("tcp:a:1, tcp:b:2,").map((r) => r.text),
    ["tcp:a:1", "tcp:b:2"],
  );
  assert.deepEqual(parseRemotes(["unix:/x", "tcp:c:3,tcp:d:4"]).length, 3);
  assert.throws(() => parseRemotes(" , "), /empty/);
});

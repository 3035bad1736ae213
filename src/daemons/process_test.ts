import assert from "node:assert/strict";
import { FakeProcesses } from "./_testing.ts";
import { isRunningStat, livePid, parsePid } from "./process.ts";

Deno.test("parsePid() accepts a positive integer and nothing else", () => {
  assert.equal(parsePid("1234\n"), 1234);
  assert.equal(parsePid(" 7 "), 7);
  for (const bad of [undefined, "", "0", "-3", "12a", "1.5"]) {
    assert.equal(parsePid(bad), undefined);
  }
});

Deno.test("isRunningStat() treats zombies as dead and survives parentheses in comm", () => {
  assert.equal(isRunningStat("42 (ovsdb-server) S 1 42 42 0"), true);
  assert.equal(isRunningStat("42 (ovs-vswitchd) Z 1 42"), false);
  assert.equal(isRunningStat("42 (a) b) R 1"), true);
  assert.equal(isRunningStat("garbage"), false);
});

Deno.test("livePid() only returns a live pid whose command line names the pidfile", async () => {
  const p = new FakeProcesses();
  p.spawn(10, "/r/nb.pid", ["ovsdb-server"]);
  assert.equal(await livePid(p, "/r/nb.pid"), 10);
  // A recycled pid: the pidfile names a process started for something else.
  p.files.set("/r/sb.pid", "11");
  p.procs.set(11, ["bash"]);
  assert.equal(await livePid(p, "/r/sb.pid"), undefined);
  // A stale pidfile.
  p.files.set("/r/northd.pid", "12");
  assert.equal(await livePid(p, "/r/northd.pid"), undefined);
  assert.equal(await livePid(p, "/r/missing.pid"), undefined);
});

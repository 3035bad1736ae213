import assert from "node:assert/strict";
import { splitDaemonFlags } from "./watcher.ts";

Deno.test("splitDaemonFlags() takes the original's OVS daemon flags out", () => {
  const { daemon, rest } = splitDaemonFlags([
    "--overlay",
    "--pidfile",
    "--log-file=/tmp/w.log",
    "-vfile:info",
    "-vconsole:emer",
    "--detach",
    "--nb",
    "tcp:1.2.3.4:6641",
  ]);
  assert.deepEqual(rest, ["--overlay", "--nb", "tcp:1.2.3.4:6641"]);
  assert.equal(daemon.pidfile, true);
  assert.equal(daemon.logFile, "/tmp/w.log");
  assert.deepEqual(daemon.ignored, ["-vfile:info", "-vconsole:emer", "--detach"]);
});

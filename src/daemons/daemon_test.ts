import assert from "node:assert/strict";
import { silentLogger } from "../log/mod.ts";
import { FakeProcesses, FakeRunner } from "./_testing.ts";
import { Daemon, type DaemonSpec } from "./daemon.ts";
import { superviseDaemons } from "./supervise.ts";

function spec(over: Partial<DaemonSpec> = {}): DaemonSpec {
  return {
    name: "nb",
    argv: ["ovsdb-server", "--detach", "--pidfile=/r/nb.pid", "/d/nb.db"],
    pidfile: "/r/nb.pid",
    ctl: "/r/nb.ctl",
    appctl: "ovs-appctl",
    health: { command: ["ovsdb-server/list-dbs"], ok: (o) => o.includes("OVN_Northbound") },
    ...over,
  };
}

function setup(over: Partial<DaemonSpec> = {}) {
  const procs = new FakeProcesses();
  let nextPid = 100;
  const runner = new FakeRunner([
    { match: "list-dbs", result: { stdout: "_Server\nOVN_Northbound" } },
    { match: "ovsdb-server --detach", fn: () => procs.spawn(++nextPid, "/r/nb.pid") },
  ]);
  const d = new Daemon(spec(over), { runner, procs, log: silentLogger });
  return { d, procs, runner };
}

Deno.test("Daemon.ensure() adopts a healthy daemon under its pidfile without starting one", async () => {
  const { d, procs, runner } = setup();
  procs.spawn(42, "/r/nb.pid");
  assert.equal(await d.ensure({ timeoutMs: 1000 }), "adopted");
  assert.equal(runner.callsWith("ovsdb-server --detach").length, 0);
  assert.deepEqual(runner.callsWith("list-dbs")[0], [
    "ovs-appctl",
    "--timeout=3",
    "-t",
    "/r/nb.ctl",
    "ovsdb-server/list-dbs",
  ]);
});

Deno.test("Daemon.ensure() starts the daemon in its namespace, with its environment, and waits until healthy", async () => {
  const { d, runner } = setup({ netns: "lab-central", env: { OVS_RUNDIR: "/r" } });
  assert.equal(await d.ensure({ timeoutMs: 1000 }), "started");
  const [start] = runner.callsWith("ovsdb-server --detach");
  assert.deepEqual(start!.slice(0, 4), ["ip", "netns", "exec", "lab-central"]);
  const i = runner.calls.indexOf(start!);
  assert.equal(runner.options[i]!.env?.OVS_RUNDIR, "/r");
  assert.equal(await d.pid(), 101);
});

Deno.test("Daemon.start() times out naming the daemon when it never answers", async () => {
  const { d } = setup({ health: { command: ["ovsdb-server/list-dbs"], ok: () => false } });
  await assert.rejects(
    d.start({ timeoutMs: 50 }),
    /Timed out after 50 ms waiting for nb to answer/,
  );
});

Deno.test("Daemon.stop() sends SIGTERM, then SIGKILL after the deadline; nothing when not running", async () => {
  const { d, procs } = setup();
  assert.equal(await d.stop(), false);
  procs.spawn(7, "/r/nb.pid");
  procs.termKills = false;
  assert.equal(await d.stop({ timeoutMs: 60 }), true);
  assert.deepEqual(procs.signals, [[7, "SIGTERM"], [7, "SIGKILL"]]);
  assert.equal(await procs.alive(7), false);
});

Deno.test("Daemon.appctl() refuses when the daemon is not running", async () => {
  const { d } = setup();
  await assert.rejects(d.appctl(["version"]), /Cannot query nb: it is not running/);
});

Deno.test("superviseDaemons() restarts a dead daemon until aborted", async () => {
  const { d, procs } = setup();
  procs.spawn(50, "/r/nb.pid");
  const ac = new AbortController();
  const restarts: number[] = [];
  const done = superviseDaemons([d], {
    signal: ac.signal,
    intervalMs: 5,
    log: silentLogger,
    onRestart: (_d, pid) => {
      restarts.push(pid);
      if (restarts.length === 2) ac.abort();
      else procs.kill(pid, "SIGKILL");
    },
  });
  procs.kill(50, "SIGKILL");
  await done;
  assert.deepEqual(restarts, [101, 102]);
});

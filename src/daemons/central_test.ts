import assert from "node:assert/strict";
import { silentLogger } from "../log/mod.ts";
import { FakeProcesses, FakeRunner } from "./_testing.ts";
import { Central, type CentralConfig, centralPaths } from "./central.ts";

const dirs = { dataDir: "/var/lib/x", runDir: "/run/x", logDir: "/log/x" };
const base: CentralConfig = { ...dirs, listenAddress: "0.0.0.0", nbPort: 6641, sbPort: 6642 };

Deno.test("centralPaths() uses the distribution's file names under the given directories", () => {
  const p = centralPaths(dirs);
  assert.equal(p.nb.dbFile, "/var/lib/x/ovnnb_db.db");
  assert.equal(p.sb.sock, "/run/x/ovnsb_db.sock");
  assert.equal(p.nb.pidfile, "/run/x/ovnnb_db.pid");
  assert.equal(p.northd.logFile, "/log/x/ovn-northd.log");
});

Deno.test("Central listens on ptcp by default and on pssl with the SSL files", () => {
  const deps = { runner: new FakeRunner(), log: silentLogger, procs: new FakeProcesses() };
  const plain = new Central(base, deps);
  assert.ok(plain.nb.spec.argv.includes("--remote=ptcp:6641:0.0.0.0"));
  assert.ok(plain.sb.spec.argv.includes("--remote=db:OVN_Southbound,SB_Global,connections"));
  assert.ok(plain.northd?.spec.argv.includes("--ovnsb-db=unix:/run/x/ovnsb_db.sock"));
  const ssl = new Central({ ...base, ssl: { key: "/k", cert: "/c", ca: "/ca" } }, deps);
  assert.ok(ssl.sb.spec.argv.includes("--remote=pssl:6642:0.0.0.0"));
  assert.ok(ssl.sb.spec.argv.includes("--ca-cert=/ca"));
  assert.equal(new Central({ ...base, northd: false }, deps).northd, undefined);
  const raftSsl = new Central({
    ...base,
    ssl: { key: "/k", cert: "/c", ca: "/ca" },
    raft: { localAddr: "10.0.0.2", remoteAddrs: ["10.0.0.1"], nbPort: 6643, sbPort: 6644 },
  }, deps);
  // RAFT traffic is ssl too, and northd reaches the members with the same files.
  assert.ok(raftSsl.northd?.spec.argv.includes("--ovnnb-db=ssl:10.0.0.2:6641,ssl:10.0.0.1:6641"));
  assert.ok(raftSsl.northd?.spec.argv.includes("--private-key=/k"));
});

Deno.test("Central advertises a wildcard listener by the host's first address", async () => {
  const deps = {
    runner: new FakeRunner(),
    log: silentLogger,
    procs: new FakeProcesses(),
    hostAddresses: () => Promise.resolve(["192.0.2.2", "10.0.0.1"]),
  };
  assert.deepEqual(await new Central(base, deps).remotes(), {
    nbRemote: "tcp:192.0.2.2:6641",
    sbRemote: "tcp:192.0.2.2:6642",
  });
  const one = new Central({
    ...base,
    listenAddress: "10.0.0.1",
    ssl: { key: "k", cert: "c", ca: "a" },
  }, deps);
  assert.deepEqual(await one.remotes(), {
    nbRemote: "ssl:10.0.0.1:6641",
    sbRemote: "ssl:10.0.0.1:6642",
  });
});

Deno.test("Central with RAFT joins through the remotes and hands clients every member", async () => {
  const procs = new FakeProcesses();
  const p = centralPaths(dirs);
  procs.spawn(10, p.nb.pidfile);
  procs.spawn(11, p.sb.pidfile);
  const members = (port: number) =>
    `Status: cluster member\nServers:\n    aaaa (aaaa at tcp:10.0.0.2:${port}) (self) x\n` +
    `    bbbb (bbbb at tcp:10.0.0.1:${port}) x\n    cccc (cccc at tcp:10.0.0.3:${port}) x\n`;
  const runner = new FakeRunner([
    { match: "cluster/status OVN_Northbound", result: { stdout: members(6643) } },
    { match: "cluster/status OVN_Southbound", result: { stdout: members(6644) } },
  ]);
  const c = new Central({
    ...base,
    raft: { localAddr: "10.0.0.2", remoteAddrs: ["10.0.0.1"], nbPort: 6643, sbPort: 6644 },
  }, { runner, log: silentLogger, procs });
  assert.equal(c.nb.spec.argv.at(-1), p.nb.dbFile);
  assert.deepEqual(await c.remotes(), {
    nbRemote: "tcp:10.0.0.2:6641,tcp:10.0.0.1:6641,tcp:10.0.0.3:6641",
    sbRemote: "tcp:10.0.0.2:6642,tcp:10.0.0.1:6642,tcp:10.0.0.3:6642",
  });
  await c.waitClusterMember({ timeoutMs: 500 });
});

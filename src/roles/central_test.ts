import assert from "node:assert/strict";
import { UsageError, ValidationError } from "../cli/mod.ts";
import { parseCentralArgs } from "./central.ts";

Deno.test("parseCentralArgs() defaults to the distribution's dirs, ptcp 6641/6642 on 0.0.0.0, foreground", () => {
  const r = parseCentralArgs([]);
  assert.equal(r.mode, "foreground");
  assert.equal(r.timeoutMs, 30_000);
  assert.deepEqual(r.config, {
    dataDir: "/var/lib/ovn",
    runDir: "/var/run/ovn",
    logDir: "/var/log/ovn",
    listenAddress: "0.0.0.0",
    nbPort: 6641,
    sbPort: 6642,
    northd: true,
  });
});

Deno.test("parseCentralArgs() takes SSL files, RAFT membership and one-shot mode", () => {
  const r = parseCentralArgs([
    "--one-shot",
    "--ssl-key=/k.pem",
    "--ssl-cert=/c.pem",
    "--ssl-ca=/ca.pem",
    "--cluster-local-addr=10.0.0.2",
    "--cluster-remote-addr=10.0.0.1",
    "--cluster-remote-addr=10.0.0.3",
    "--listen-address=::",
  ]);
  assert.equal(r.mode, "one-shot");
  assert.deepEqual(r.config.ssl, { key: "/k.pem", cert: "/c.pem", ca: "/ca.pem" });
  assert.deepEqual(r.config.raft, {
    localAddr: "10.0.0.2",
    remoteAddrs: ["10.0.0.1", "10.0.0.3"],
    nbPort: 6643,
    sbPort: 6644,
  });
  assert.equal(r.config.listenAddress, "::");
});

Deno.test("parseCentralArgs() rejects bad values naming the flag and the fix", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--listen-address=localhost"], /--listen-address "localhost": not an IP address; give/],
    [["--sb-port=0"], /--sb-port "0": give a TCP port 1-65535/],
    [["--ssl-cert=/c.pem", "--ssl-ca=/a.pem"], /give all three/],
    [["--cluster-local-addr=0.0.0.0"], /give this member's own address/],
    [
      ["--cluster-local-addr=10.0.0.1", "--cluster-remote-addr=10.0.0"],
      /--cluster-remote-addr "10\.0\.0"/,
    ],
    [["--nb-port=7000", "--sb-port=7000"], /same port twice \(7000, 7000\)/],
    [["--timeout=soon"], /--timeout "soon": give a number of seconds/],
    [["--one-shot", "--stop"], /--one-shot with --stop/],
    [["--data-dir="], /empty --data-dir/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseCentralArgs(args), (err: unknown) => {
      assert.ok(err instanceof ValidationError, `${args}: ${err}`);
      assert.match((err as Error).message, message);
      return true;
    });
  }
  assert.throws(() => parseCentralArgs(["--bogus"]), UsageError);
});

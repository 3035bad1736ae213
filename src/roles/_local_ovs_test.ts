import assert from "node:assert/strict";
import { exitCodeOf } from "../cli/mod.ts";
import { OvsdbError } from "../ovsdb/mod.ts";
import { connectNb, type DbConnector, DEFAULT_NB_SSL, resolveOvsDb } from "./_local_ovs.ts";

Deno.test("resolveOvsDb() prefers the flag, then OVS_RUNDIR, then the default", () => {
  assert.equal(resolveOvsDb("/x/db.sock", () => "/r"), "unix:/x/db.sock");
  assert.equal(resolveOvsDb("tcp:127.0.0.1:6640", () => "/r"), "tcp:127.0.0.1:6640");
  assert.equal(resolveOvsDb(undefined, () => "/r"), "unix:/r/db.sock");
  assert.equal(resolveOvsDb(undefined, () => undefined), "unix:/var/run/openvswitch/db.sock");
});

Deno.test("connectNb() reads the SSL files for ssl: remotes and passes the timeout", async () => {
  const seen: unknown[] = [];
  const connect: DbConnector = (o) => {
    seen.push(o);
    return Promise.resolve({ transact: () => Promise.resolve([]), close: () => {} });
  };
  const files: Record<string, string> = {
    [DEFAULT_NB_SSL.privkey]: "KEY",
    [DEFAULT_NB_SSL.cert]: "CERT",
    [DEFAULT_NB_SSL.cacert]: "CA",
  };
  const read = (p: string) =>
    files[p] ? Promise.resolve(files[p]) : Promise.reject(new Error("No such file"));
  await connectNb(connect, "ssl:10.0.0.1:6641,ssl:10.0.0.2:6641", DEFAULT_NB_SSL, 3000, read);
  assert.deepEqual(seen[0], {
    remotes: "ssl:10.0.0.1:6641,ssl:10.0.0.2:6641",
    database: "OVN_Northbound",
    timeoutMs: 3000,
    tls: { key: "KEY", cert: "CERT", caCert: "CA" },
  });
  await connectNb(
    connect,
    "unix:/run/ovn/ovnnb_db.sock",
    DEFAULT_NB_SSL,
    3000,
    () => Promise.reject(new Error("unused")),
  );
  assert.equal((seen[1] as { tls?: unknown }).tls, undefined);
});

Deno.test("connectNb() turns bad remotes, missing SSL files and timeouts into exit-2 messages", async () => {
  const never: DbConnector = () => Promise.reject(new OvsdbError("connect", "no server answered"));
  const read = () => Promise.reject(new Error("No such file"));
  const cases: [string, RegExp][] = [
    ["10.0.0.1:6641", /external_ids:ovn-nb "10\.0\.0\.1:6641".*setup-host --ovn-nb/],
    ["ssl:10.0.0.1:6641", /Cannot read --nb-privkey ".*ovncontroller-privkey\.pem"/],
    [
      "tcp:10.0.0.1:6641",
      /Cannot connect to OVN NB at tcp:10\.0\.0\.1:6641 within 2 s: no server answered/,
    ],
  ];
  for (const [remote, re] of cases) {
    const err = await connectNb(never, remote, DEFAULT_NB_SSL, 2000, read).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(exitCodeOf(err), 2, remote);
    assert.match(err.message, re);
  }
});

import assert from "node:assert/strict";
import { FakeRunner } from "./_testing.ts";
import {
  createDbArgv,
  createDbSteps,
  northdSpec,
  ovnControllerSpec,
  ovsdbServerSpec,
  rundirEnv,
  SCHEMAS,
  vswitchdSpec,
} from "./programs.ts";

const base = { dbFile: "/d/nb.db", schema: SCHEMAS.nb, dbName: "OVN_Northbound" };

Deno.test("createDbArgv() creates standalone, creates a cluster, or joins one", () => {
  assert.deepEqual(createDbArgv(base), ["ovsdb-tool", "create", "/d/nb.db", SCHEMAS.nb]);
  assert.deepEqual(
    createDbArgv({ ...base, raft: { local: "tcp:10.0.0.1:6643", remotes: [] } }),
    ["ovsdb-tool", "create-cluster", "/d/nb.db", SCHEMAS.nb, "tcp:10.0.0.1:6643"],
  );
  assert.deepEqual(
    createDbArgv({ ...base, raft: { local: "tcp:10.0.0.2:6643", remotes: ["tcp:10.0.0.1:6643"] } }),
    [
      "ovsdb-tool",
      "join-cluster",
      "/d/nb.db",
      "OVN_Northbound",
      "tcp:10.0.0.2:6643",
      "tcp:10.0.0.1:6643",
    ],
  );
});

Deno.test("ovsdbServerSpec() passes explicit paths, remotes and the SSL files", () => {
  const spec = ovsdbServerSpec({
    ...base,
    name: "nb",
    pidfile: "/r/nb.pid",
    ctl: "/r/nb.ctl",
    logFile: "/l/nb.log",
    remotes: ["punix:/r/nb.sock", "pssl:6641:0.0.0.0"],
    ssl: { key: "/k.pem", cert: "/c.pem", ca: "/ca.pem" },
    netns: "ns1",
  }, new FakeRunner());
  assert.deepEqual(spec.argv, [
    "ovsdb-server",
    "--detach",
    "--no-chdir",
    "-vconsole:off",
    "--pidfile=/r/nb.pid",
    "--log-file=/l/nb.log",
    "--unixctl=/r/nb.ctl",
    "--remote=punix:/r/nb.sock",
    "--remote=pssl:6641:0.0.0.0",
    "--private-key=/k.pem",
    "--certificate=/c.pem",
    "--ca-cert=/ca.pem",
    "/d/nb.db",
  ]);
  assert.equal(spec.netns, "ns1");
  assert.equal(spec.health.ok?.("_Server\nOVN_Northbound"), true);
  assert.equal(spec.health.ok?.("_Server"), false);
});

Deno.test("ovsdbServerSpec() prepare creates the database only when the file is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = new FakeRunner();
    const opts = {
      ...base,
      dbFile: `${dir}/nb.db`,
      name: "nb",
      pidfile: "p",
      ctl: "c",
      logFile: "l",
      remotes: [],
    };
    await ovsdbServerSpec(opts, r).prepare?.();
    assert.deepEqual(r.calls, [["ovsdb-tool", "create", `${dir}/nb.db`, SCHEMAS.nb]]);
    await Deno.writeTextFile(`${dir}/nb.db`, "x");
    await ovsdbServerSpec(opts, r).prepare?.();
    assert.equal(r.calls.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createDbSteps() seeds a standalone database or a new cluster, not a joining member", () => {
  const seed = [{ op: "insert", table: "SB_Global", row: {} }];
  const sb = { dbFile: "/d/sb.db", schema: SCHEMAS.sb, dbName: "OVN_Southbound" };
  assert.deepEqual(createDbSteps(sb, "/d/s.tmp"), [createDbArgv(sb)]);
  const txn = '["OVN_Southbound",{"op":"insert","table":"SB_Global","row":{}}]';
  assert.deepEqual(createDbSteps({ ...sb, seed }, "/d/s.tmp"), [
    ["ovsdb-tool", "create", "/d/s.tmp", SCHEMAS.sb],
    ["ovsdb-tool", "transact", "/d/s.tmp", txn],
  ]);
  assert.deepEqual(
    createDbSteps({ ...sb, seed, raft: { local: "tcp:10.0.0.1:6644", remotes: [] } }, "/d/s.tmp"),
    [
      ["ovsdb-tool", "create", "/d/s.tmp", SCHEMAS.sb],
      ["ovsdb-tool", "transact", "/d/s.tmp", txn],
      ["ovsdb-tool", "create-cluster", "/d/sb.db", "/d/s.tmp", "tcp:10.0.0.1:6644"],
    ],
  );
  const join = {
    ...sb,
    seed,
    raft: { local: "tcp:10.0.0.2:6644", remotes: ["tcp:10.0.0.1:6644"] },
  };
  assert.deepEqual(createDbSteps(join, "/d/s.tmp"), [createDbArgv(join)]);
});

Deno.test("ovsdbServerSpec() prepare builds a seeded database aside and renames it into place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // ovsdb-tool stand-in: "create" makes the file (and its lock file), "transact" appends.
    const r = new FakeRunner([
      {
        match: /^ovsdb-tool create /,
        fn: (a) => {
          Deno.writeTextFileSync(a[2]!, "created\n");
          Deno.writeTextFileSync(`${dir}/.sb.db.seed.tmp.~lock~`, "");
        },
      },
      {
        match: /^ovsdb-tool transact /,
        fn: (a) => Deno.writeTextFileSync(a[2]!, a[3]!, { append: true }),
      },
      { match: /^ovsdb-tool create-cluster /, result: { code: 1, stderr: "boom" } },
    ]);
    const opts = {
      dbFile: `${dir}/sb.db`,
      schema: SCHEMAS.sb,
      dbName: "OVN_Southbound",
      name: "sb",
      pidfile: "p",
      ctl: "c",
      logFile: "l",
      remotes: [],
      seed: [{ op: "insert", table: "SB_Global", row: {} }],
    };
    await ovsdbServerSpec(opts, r).prepare?.();
    assert.equal(
      await Deno.readTextFile(`${dir}/sb.db`),
      'created\n["OVN_Southbound",{"op":"insert","table":"SB_Global","row":{}}]',
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["sb.db"], "no side file left");
    // A failed step leaves no database file (the next start tries again) and no side file.
    await Deno.remove(`${dir}/sb.db`);
    const raft = { ...opts, raft: { local: "tcp:10.0.0.1:6644", remotes: [] } };
    await assert.rejects(ovsdbServerSpec(raft, r).prepare?.() ?? Promise.resolve());
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("northdSpec() is healthy when active, standby or paused", () => {
  const spec = northdSpec({
    nbDb: "unix:/r/nb.sock",
    sbDb: "unix:/r/sb.sock",
    pidfile: "p",
    ctl: "c",
    logFile: "l",
  });
  assert.ok(spec.argv.includes("--ovnnb-db=unix:/r/nb.sock"));
  assert.equal(spec.appctl, "ovn-appctl");
  for (const s of ["active", "standby", "paused"]) {
    assert.equal(spec.health.ok?.(`Status: ${s}`), true);
  }
  assert.equal(spec.health.ok?.("Status: starting"), false);
});

Deno.test("host daemon specs share one run directory and its environment", () => {
  const v = vswitchdSpec({ runDir: "/n1", netns: "lab-n1" });
  assert.ok(v.argv.includes("unix:/n1/db.sock"));
  assert.ok(v.argv.includes("--unixctl=/n1/ovs-vswitchd.ctl"));
  assert.equal(v.env?.OVS_RUNDIR, "/n1");
  const c = ovnControllerSpec({ runDir: "/n1" });
  assert.ok(
    !c.argv.some((a) => a.startsWith("--unixctl")),
    "ovn-controller 23.03 has no --unixctl",
  );
  assert.equal(typeof c.ctl === "function" && c.ctl(77), "/n1/ovn-controller.77.ctl");
  assert.deepEqual(Object.keys(rundirEnv("/x")).sort(), [
    "OVN_DBDIR",
    "OVN_LOGDIR",
    "OVN_RUNDIR",
    "OVS_DBDIR",
    "OVS_LOGDIR",
    "OVS_RUNDIR",
  ]);
});

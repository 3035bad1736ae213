/**
 * `ovn-k8s central` on real ovsdb-server and ovn-northd, run as a process from main.ts:
 * tcp and ssl remotes, adoption that writes nothing, foreground supervision, bad input.
 * Needs root, OVS and OVN, openssl.
 */
import assert from "node:assert/strict";
import { pidAlive, runCommand as run } from "../helpers/command.ts";
import { snapshotFiles } from "../helpers/fs_snapshot.ts";
import { runOvnK8s, spawnOvnK8s } from "../helpers/ovn_k8s_process.ts";
import { freePort } from "../helpers/ovsdb_server.ts";
import { makeTestPki } from "../helpers/pki.ts";

async function pollUntil(what: string, fn: () => Promise<boolean> | boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A private central: temp dirs, free ports, stopped and removed at dispose. */
async function centralDirs() {
  const root = await Deno.makeTempDir({ prefix: "ovn-k8s-central-test-" });
  const nbPort = freePort();
  const sbPort = freePort();
  const flags = [
    "--listen-address=127.0.0.1",
    `--nb-port=${nbPort}`,
    `--sb-port=${sbPort}`,
    `--data-dir=${root}/data`,
    `--run-dir=${root}/run`,
    `--log-dir=${root}/log`,
  ];
  const pids = () =>
    ["ovnnb_db", "ovnsb_db", "ovn-northd"].map((n) => {
      try {
        return Number(Deno.readTextFileSync(`${root}/run/${n}.pid`).trim());
      } catch {
        return 0;
      }
    });
  return {
    root,
    nbPort,
    sbPort,
    flags,
    pids,
    async [Symbol.asyncDispose]() {
      await runOvnK8s(["central", "--stop", ...flags]);
      for (const pid of pids()) if (pid && pidAlive(pid)) Deno.kill(pid, "SIGKILL");
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test("central starts NB, SB and northd on tcp remotes; a second run adopts and writes nothing", async () => {
  await using c = await centralDirs();
  const first = await runOvnK8s(["central", "--one-shot", ...c.flags]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /nb started, sb started, northd started/);
  assert.match(first.stdout, new RegExp(`^ovn-nb=tcp:127\\.0\\.0\\.1:${c.nbPort}$`, "m"));
  assert.match(first.stdout, new RegExp(`^ovn-remote=tcp:127\\.0\\.0\\.1:${c.sbPort}$`, "m"));

  const nb = await run(["ovsdb-client", "--timeout=10", "list-dbs", `tcp:127.0.0.1:${c.nbPort}`]);
  assert.match(nb.stdout, /OVN_Northbound/);
  const sb = await run(["ovsdb-client", "--timeout=10", "list-dbs", `tcp:127.0.0.1:${c.sbPort}`]);
  assert.match(sb.stdout, /OVN_Southbound/);
  // northd is alive: a write to NB reaches SB.
  const sync = await run([
    "ovn-nbctl",
    `--db=tcp:127.0.0.1:${c.nbPort}`,
    "--timeout=20",
    "--wait=sb",
    "ls-add",
    "sw0",
  ]);
  assert.equal(sync.code, 0, sync.stderr);
  const dp = await run([
    "ovn-sbctl",
    `--db=tcp:127.0.0.1:${c.sbPort}`,
    "--timeout=10",
    "--columns=external_ids",
    "list",
    "Datapath_Binding",
  ]);
  assert.match(dp.stdout, /name=sw0/);

  const pidsBefore = c.pids();
  const filesBefore = await snapshotWithoutLogs(c.root);
  const logsBefore = await logLines(c.root);
  const second = await runOvnK8s(["central", "--one-shot", ...c.flags]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /nb adopted, sb adopted, northd adopted/);
  assert.deepEqual(c.pids(), pidsBefore);
  assert.deepEqual(await snapshotWithoutLogs(c.root), filesBefore);
  assert.deepEqual(await logLines(c.root), logsBefore);
});

/** Every file but the logs (see {@linkcode logLines}), as `path size mtime`. */
async function snapshotWithoutLogs(root: string): Promise<string[]> {
  return (await snapshotFiles(root)).filter((l) => !l.startsWith(`${root}/log/`));
}

/**
 * The daemons' log lines, without the memory reports that ovsdb-server and ovn-northd
 * append on their own 10 s after they start (a size/mtime snapshot taken across that
 * moment differs although nobody did anything).
 */
async function logLines(root: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for await (const e of Deno.readDir(`${root}/log`)) {
    const text = await Deno.readTextFile(`${root}/log/${e.name}`);
    out[e.name] = text.split("\n").filter((l) => !/\|memory\|INFO\|/.test(l));
  }
  return out;
}

Deno.test("central's SB has an SB_Global row before northd writes (ovn-controller 23.03 dies without one)", async () => {
  await using c = await centralDirs();
  const r = await runOvnK8s(["central", "--one-shot", "--no-northd", ...c.flags]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /northd disabled/);
  const sel = await run([
    "ovsdb-client",
    "--timeout=10",
    "transact",
    `tcp:127.0.0.1:${c.sbPort}`,
    '["OVN_Southbound",{"op":"select","table":"SB_Global","where":[],"columns":["nb_cfg"]}]',
  ]);
  assert.equal(sel.code, 0, sel.stderr);
  assert.deepEqual(JSON.parse(sel.stdout), [{ rows: [{ nb_cfg: 0 }] }]);
  // Built aside and renamed into place: nothing but the databases and their lock files.
  assert.deepEqual([...Deno.readDirSync(`${c.root}/data`)].map((e) => e.name).sort(), [
    ".ovnnb_db.db.~lock~",
    ".ovnsb_db.db.~lock~",
    "ovnnb_db.db",
    "ovnsb_db.db",
  ]);
});

Deno.test("central listens on pssl with key, cert and CA; clients need a signed certificate", async () => {
  await using c = await centralDirs();
  const pkiDir = `${c.root}/pki`;
  await Deno.mkdir(pkiDir);
  const pki = await makeTestPki(pkiDir);
  const ssl = [`--ssl-key=${pki.serverKey}`, `--ssl-cert=${pki.serverCert}`, `--ssl-ca=${pki.ca}`];
  const first = await runOvnK8s(["central", "--one-shot", ...c.flags, ...ssl]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^ovn-nb=ssl:127\\.0\\.0\\.1:${c.nbPort}$`, "m"));
  assert.match(first.stdout, new RegExp(`^ovn-remote=ssl:127\\.0\\.0\\.1:${c.sbPort}$`, "m"));
  const client = [
    `--private-key=${pki.clientKey}`,
    `--certificate=${pki.clientCert}`,
    `--ca-cert=${pki.ca}`,
  ];
  for (const [port, db] of [[c.nbPort, "OVN_Northbound"], [c.sbPort, "OVN_Southbound"]] as const) {
    const r = await run([
      "ovsdb-client",
      "--timeout=10",
      ...client,
      "list-dbs",
      `ssl:127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(db));
  }
  // Plain TCP is not served on the ssl port.
  const plain = await run(["ovsdb-client", "--timeout=3", "list-dbs", `tcp:127.0.0.1:${c.nbPort}`]);
  assert.notEqual(plain.code, 0);

  // northd writes NB_Global and SB_Global once it has connected, which may come after
  // `central` returned: wait for it (nb_cfg through SB and back) before the snapshot.
  const sync = await run([
    "ovn-nbctl",
    `--db=unix:${c.root}/run/ovnnb_db.sock`,
    "--timeout=30",
    "--wait=sb",
    "sync",
  ]);
  assert.equal(sync.code, 0, sync.stderr);
  const filesBefore = await snapshotFiles(`${c.root}/data`);
  const second = await runOvnK8s(["central", "--one-shot", ...c.flags, ...ssl]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /nb adopted, sb adopted, northd adopted/);
  assert.deepEqual(await snapshotFiles(`${c.root}/data`), filesBefore);
});

Deno.test("central in the foreground restarts a killed daemon and stops all on SIGTERM", async () => {
  await using c = await centralDirs();
  const child = spawnOvnK8s(["central", ...c.flags]);
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const errText = new Response(child.stderr).text();
  try {
    let printed = "";
    while (!/ovn-remote=/.test(printed)) {
      const { value, done } = await stdout.read();
      if (done) throw new Error(`central exited early: ${await errText}`);
      printed += value;
    }
    const [nbPid, sbPid, northdPid] = c.pids();
    assert.ok(nbPid && sbPid && northdPid && pidAlive(nbPid));
    Deno.kill(sbPid, "SIGKILL");
    await pollUntil("the SB server to be restarted", () => {
      const pid = c.pids()[1]!;
      return pid !== sbPid && pid !== 0 && pidAlive(pid);
    });
    // ovsdb-server writes its pidfile before it opens its remotes: poll until it serves.
    let sb = { code: -1, stdout: "", stderr: "" };
    await pollUntil("the restarted SB server to serve on its tcp port", async () => {
      sb = await run(["ovsdb-client", "--timeout=10", "list-dbs", `tcp:127.0.0.1:${c.sbPort}`]);
      return sb.code === 0;
    }).catch((err) => {
      throw new Error(`${(err as Error).message}: ${sb.stderr}`);
    });
    assert.match(sb.stdout, /OVN_Southbound/);
    const restarted = c.pids();
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, await errText);
    await pollUntil("every daemon to exit", () => restarted.every((p) => !pidAlive(p)));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await stdout.cancel().catch(() => {});
    await errText.catch(() => {});
  }
});

Deno.test("central rejects bad input with exit 2, naming the input and the fix, and starts nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "ovn-k8s-central-bad-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const dirs = [`--data-dir=${root}/d`, `--run-dir=${root}/r`, `--log-dir=${root}/l`];
    const busyPort = (busy.addr as Deno.NetAddr).port;
    const cases: Array<[string[], RegExp]> = [
      [["--listen-address=1.2.3"], /--listen-address "1\.2\.3": not an IP address; give/],
      [
        ["--listen-address=203.0.113.77"],
        /"203\.0\.113\.77": it is not an address of this host; give one of/,
      ],
      [
        [
          "--ssl-key=/nonexistent/k.pem",
          "--ssl-cert=/nonexistent/c.pem",
          "--ssl-ca=/nonexistent/ca.pem",
        ],
        /Cannot read --ssl-key "\/nonexistent\/k\.pem": no such file; give the PEM file/,
      ],
      [["--ssl-key=/etc/hostname"], /only some of --ssl-key, --ssl-cert, --ssl-ca: give all three/],
      [
        ["--ssl-key=/etc/hostname", "--ssl-cert=/etc/hostname", "--ssl-ca=/etc/hostname"],
        /--ssl-key "\/etc\/hostname": not a PEM file/,
      ],
      [["--nb-port=70000"], /--nb-port "70000": give a TCP port 1-65535/],
      [
        ["--cluster-remote-addr=127.0.0.1"],
        /without --cluster-local-addr: give this member's address/,
      ],
      [
        ["--listen-address=127.0.0.1", `--nb-port=${busyPort}`],
        new RegExp(
          `127\\.0\\.0\\.1 port ${busyPort}: another program uses it; stop it or choose --nb-port`,
        ),
      ],
    ];
    for (const [flags, message] of cases) {
      const r = await runOvnK8s(["central", "--one-shot", ...dirs, ...flags]);
      assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.deepEqual([...Deno.readDirSync(root)], [], `${flags.join(" ")} created files`);
    }
  } finally {
    busy.close();
    await Deno.remove(root, { recursive: true });
  }
});

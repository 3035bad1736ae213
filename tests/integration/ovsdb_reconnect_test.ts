/**
 * Reconnection on real servers: a standalone ovsdb-server killed and restarted while a
 * client monitors it (the database also changes while the server is down), and a
 * 3-member RAFT OVN_Northbound cluster whose leader is killed.
 */
import assert from "node:assert/strict";
import type { NbTables } from "../../src/ovn/nb_models.ts";
import { ops, OvsdbClient, OvsdbError } from "../../src/ovsdb/mod.ts";
import { NB_SCHEMA, startOvsdbServer } from "../helpers/ovsdb_server.ts";

const nb = ops<NbTables>();
const DB = "OVN_Northbound";

async function poll(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Switch names and external_ids as the server has them (a fresh client, one select). */
async function truth(remotes: string): Promise<Record<string, unknown>> {
  await using db = await OvsdbClient.connect<NbTables>({
    remotes,
    database: DB,
    timeoutMs: 10_000,
  });
  const [sel] = await db.transact([
    nb.select("Logical_Switch", [], ["_uuid", "name", "external_ids"]),
  ]);
  return Object.fromEntries(
    sel!.rows!.map((r) => [r._uuid, { name: r.name, ids: r.external_ids }]),
  );
}

function mirror(db: OvsdbClient<NbTables>): Record<string, unknown> {
  return Object.fromEntries(
    db.cache.table("Logical_Switch").all().map((
      r,
    ) => [r._uuid, { name: r.name, ids: r.external_ids }]),
  );
}

Deno.test("OvsdbClient converges after its server is killed and restarted mid-monitor", async () => {
  await using srv = await startOvsdbServer({ schema: NB_SCHEMA });
  await using db = await OvsdbClient.connect<NbTables>({
    remotes: srv.remotes("tcp"),
    database: DB,
    timeoutMs: 10_000,
    maxBackoffMs: 400,
  });
  await db.monitor({ Logical_Switch: ["name", "external_ids"] });
  await db.transact(
    ["keep", "change", "gone"].map((name) => nb.insert("Logical_Switch", { name })),
  );
  const keep = db.cache.table("Logical_Switch").findBy("name", "keep")!;
  const changes: string[] = [];
  db.cache.onTable(
    "Logical_Switch",
    (c) => changes.push(`${c.kind} ${c.new?.name ?? c.old?.name}`),
  );
  const disconnects: OvsdbError[] = [];
  db.on("disconnect", (e) => disconnects.push(e));

  await srv.kill(0);
  await poll(() => !db.connected, "the client to notice the dead server");
  assert.equal(disconnects[0]?.kind, "disconnected");
  // The database changes while the server is down: the client misses these updates.
  const txn = JSON.stringify([
    DB,
    { op: "delete", table: "Logical_Switch", where: [["name", "==", "gone"]] },
    {
      op: "update",
      table: "Logical_Switch",
      where: [["name", "==", "change"]],
      row: { external_ids: ["map", [["v", "2"]]] },
    },
    { op: "insert", table: "Logical_Switch", row: { name: "offline" } },
  ]);
  const tool = await new Deno.Command("ovsdb-tool", {
    args: ["transact", srv.members[0]!.db, txn],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(tool.code, 0, new TextDecoder().decode(tool.stderr));
  // A write issued while disconnected waits for the next session and is not lost.
  const queued = db.transact([nb.insert("Logical_Switch", { name: "queued" })]);
  await srv.restart(0);
  const [q] = await queued;
  assert.ok(q!.uuid);
  await poll(() => db.cache.table("Logical_Switch").get(q!.uuid!) !== undefined, "queued row");

  assert.deepEqual(mirror(db), await truth(srv.remotes("unix")));
  assert.deepEqual(changes.sort(), [
    "delete gone",
    "insert offline",
    "insert queued",
    "update change",
  ]);
  assert.equal(
    db.cache.table("Logical_Switch").get(keep._uuid),
    keep,
    "unchanged rows stay as they were",
  );
  // And monitoring goes on as before.
  await db.transact([
    nb.update("Logical_Switch", [["name", "==", "keep"]], { external_ids: { x: "y" } }),
  ]);
  assert.deepEqual(db.cache.table("Logical_Switch").get(keep._uuid)?.external_ids, { x: "y" });
});

Deno.test("OvsdbClient follows a new RAFT leader after the leader is killed", async () => {
  await using srv = await startOvsdbServer({ schema: NB_SCHEMA, members: 3 });
  const leader = await srv.leader();
  const logs: string[] = [];
  const logger = {
    debug: (m: string, f?: Record<string, unknown>) => logs.push(`${m} ${JSON.stringify(f)}`),
    info() {},
    warn() {},
    error() {},
  };
  await using db = await OvsdbClient.connect<NbTables>({
    remotes: srv.remotes("tcp"),
    database: DB,
    timeoutMs: 15_000,
    maxBackoffMs: 500,
    logger,
  });
  assert.equal(db.remote, srv.members[leader]!.tcp, "the client prefers the leader");
  await db.monitor({ Logical_Switch: ["name"] });
  await db.transact([nb.insert("Logical_Switch", { name: "before" })]);
  const changes: string[] = [];
  db.cache.onTable(
    "Logical_Switch",
    (c) => changes.push(`${c.kind} ${c.new?.name ?? c.old?.name}`),
  );

  await srv.kill(leader);
  let result;
  for (let attempt = 0;; attempt++) {
    try {
      result = await db.transact([nb.insert("Logical_Switch", { name: "after" })]);
      break;
    } catch (err) {
      // Only a write sent to the dead leader before the client noticed may fail.
      if (!(err instanceof OvsdbError) || err.kind !== "disconnected" || attempt > 3) throw err;
    }
  }
  assert.ok(result[0]!.uuid);
  const newLeader = await srv.leader();
  assert.notEqual(newLeader, leader);
  assert.equal(db.remote, srv.members[newLeader]!.tcp, "the client follows the new leader");
  assert.deepEqual(
    db.cache.table("Logical_Switch").all().map((r) => r.name).sort(),
    ["after", "before"],
  );
  assert.deepEqual(changes, ["insert after"], "re-monitoring emitted no spurious changes");
  // The new leader knew our last transaction id: only the missed changes were sent.
  assert.ok(
    logs.some((l) => l.includes("monitor started") && l.includes('"incremental":true')),
    logs.join("\n"),
  );

  // A follower alone is refused while leaderOnly (the default), and accepted without it.
  // The deadline leaves room for the first attempt (whose error is reported) on a busy host.
  const follower = [0, 1, 2].find((i) => i !== leader && i !== newLeader)!;
  await assert.rejects(
    OvsdbClient.connect({ remotes: srv.members[follower]!.tcp, database: DB, timeoutMs: 5000 }),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "connect" && /not the leader/.test(e.message),
  );
  await using reader = await OvsdbClient.connect<NbTables>({
    remotes: srv.members[follower]!.tcp,
    database: DB,
    timeoutMs: 10_000,
    leaderOnly: false,
  });
  await reader.monitor({ Logical_Switch: ["name"] });
  await reader.cache.waitFor("Logical_Switch", (r) => r.name === "after", { timeoutMs: 10_000 });
});

/**
 * A monitor started right after a write, on a real ovsdb-server, while a second client
 * (playing ovn-controller) changes the new row as soon as it sees it: the CNI inserts an
 * Interface, starts a conditional monitor on it and waits for
 * `external_ids:ovn-installed=true`. The server sends the monitor's initial rows and,
 * when the other client's change commits right after, the update for it; both often
 * arrive in one read. The client once applied the (older) initial rows after the
 * update, so the cache kept the row without `ovn-installed` until its next change.
 * Each iteration checks the cache once everything the server sent has been read, so a
 * lost update fails at once instead of after a timeout.
 */
import assert from "node:assert/strict";
import type { OvsTables } from "../../src/ovs/vswitch_models.ts";
import { ops, OvsdbClient } from "../../src/ovsdb/mod.ts";
import { startOvsdbServer } from "../helpers/ovsdb_server.ts";

const VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";
const DB = "Open_vSwitch";
const ITERATIONS = 200;
const ovs = ops<OvsTables>();

Deno.test("OvsdbClient.monitor() right after an insert keeps the change another client makes at once", async () => {
  await using srv = await startOvsdbServer({ schema: VSWITCH_SCHEMA });
  const remotes = srv.remotes("unix");
  const connect = () =>
    OvsdbClient.connect<OvsTables>({ remotes, database: DB, timeoutMs: 10_000 });
  await using db = await connect();
  await using ctl = await connect();
  await db.transact([
    ovs.insert("Bridge", { name: "br-int" }, { uuidName: "br" }),
    ovs.insert("Open_vSwitch", { bridges: ["br"] }),
  ]);

  // The "ovn-controller": marks every new Interface installed as soon as it sees it.
  const marked = new Map<string, Promise<unknown>>();
  await ctl.monitor({ Interface: ["name"] });
  ctl.cache.onTable("Interface", (c) => {
    if (c.kind !== "insert" || !c.new) return;
    const mark = ctl.transact([
      ovs.mutate("Interface", [["_uuid", "==", c.uuid]], [
        ["external_ids", "insert", { "ovn-installed": "true" }],
      ]),
    ]);
    marked.set(c.new.name, mark);
  });

  let viaUpdate = 0;
  db.cache.onTable("Interface", (c) => {
    if (c.kind === "update" && c.new?.external_ids["ovn-installed"] === "true") viaUpdate++;
  });

  for (let i = 0; i < ITERATIONS; i++) {
    const name = `race${i}`;
    await db.transact([
      ovs.insert("Interface", { name, type: "internal" }, { uuidName: "iface" }),
      ovs.insert("Port", { name, interfaces: ["iface"] }, { uuidName: "port" }),
      ovs.mutate("Bridge", [["name", "==", "br-int"]], [["ports", "insert", ["port"]]]),
    ]);
    const mon = await db.monitor({
      Interface: { columns: ["name", "external_ids"], where: [["name", "==", name]] },
    });
    // The mark has committed (it is sent when ctl sees the insert, before our monitor
    // may even exist), and the echo's answer comes behind anything the server sent us.
    await waitUntil(() => marked.has(name), `ctl to see ${name}`);
    await marked.get(name);
    await db.echo();
    const row = db.cache.table("Interface").findBy("name", name);
    assert.equal(
      row?.external_ids["ovn-installed"],
      "true",
      `iteration ${i}: the cache lost the change made right after the monitor started ` +
        `(${viaUpdate} earlier iterations got it as an update): ${JSON.stringify(row)}`,
    );
    const found = await db.cache.waitFor(
      "Interface",
      (r) => r.name === name && r.external_ids["ovn-installed"] === "true",
      { timeoutMs: 1_000 },
    );
    assert.equal(found._uuid, row!._uuid);
    await mon.cancel();
    assert.equal(db.cache.table("Interface").size, 0, "cancel empties the monitored table");
  }
});

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

import assert from "node:assert/strict";
import {
  type FakeConn,
  type FakeRequest,
  SERVER_ROW_UUID,
  startFakeServer,
} from "./_fake_server.ts";
import { OvsdbClient } from "./client.ts";
import { OvsdbError } from "./errors.ts";

const U1 = "0b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const DB = "Test_DB";

type Method = "monitor_cond_since" | "monitor_cond" | "monitor";

/** The initial state a monitor reply carries: one switch, no external_ids yet. */
function initialReply(method: Method, txnId = "txn-1"): unknown {
  if (method === "monitor") {
    return { Switch: { [U1]: { new: { name: "p0", external_ids: ["map", []] } } } };
  }
  const updates = { Switch: { [U1]: { initial: { name: "p0", external_ids: ["map", []] } } } };
  return method === "monitor_cond_since" ? [false, txnId, updates] : updates;
}

/** The notification of the change committed right after the monitor's initial state. */
function installedUpdate(method: Method, monitorId: string, txnId = "txn-2"): unknown {
  const ids = ["map", [["ovn-installed", "true"]]];
  const params = method === "monitor"
    ? [monitorId, {
      Switch: {
        [U1]: { old: { external_ids: ["map", []] }, new: { name: "p0", external_ids: ids } },
      },
    }]
    : method === "monitor_cond"
    ? [monitorId, { Switch: { [U1]: { modify: { external_ids: ids } } } }]
    : [monitorId, txnId, { Switch: { [U1]: { modify: { external_ids: ids } } } }];
  const name =
    { monitor: "update", monitor_cond: "update2", monitor_cond_since: "update3" }[method];
  return { method: name, params, id: null };
}

/**
 * How the reply and the notification behind it reach the client; `applied` settles once
 * `monitor()` has returned (the reply is in the cache).
 */
type Deliver = (
  conn: FakeConn,
  reply: unknown,
  note: unknown,
  applied: Promise<void>,
) => Promise<void>;

const ORDERS: Record<string, Deliver> = {
  "in one chunk": (conn, reply, note) => conn.send(reply, note),
  "with the reply's tail in the notification's chunk": async (conn, reply, note) => {
    const text = JSON.stringify(reply);
    const cut = Math.floor(text.length / 2);
    await conn.writeRaw(text.slice(0, cut));
    await new Promise((r) => setTimeout(r, 20));
    await conn.writeRaw(text.slice(cut) + JSON.stringify(note));
  },
  "in a later read": async (conn, reply, note, applied) => {
    await conn.send(reply);
    await applied;
    await conn.send(note);
  },
};

async function poll(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function connect(remote: string): Promise<OvsdbClient> {
  return OvsdbClient.connect({
    remotes: remote,
    database: DB,
    timeoutMs: 5_000,
    probeIntervalMs: 0,
    maxBackoffMs: 100,
  });
}

for (const method of ["monitor_cond_since", "monitor_cond", "monitor"] as const) {
  for (const [order, deliver] of Object.entries(ORDERS)) {
    Deno.test(
      `OvsdbClient.monitor() keeps a ${method} change sent right behind the reply ${order}`,
      async () => {
        let monitored!: () => void;
        const applied = new Promise<void>((r) => monitored = r);
        await using srv = await startFakeServer({
          onRequest: async (req, conn) => {
            if (req.method !== method) return;
            const reply = { id: req.id, result: initialReply(method), error: null };
            await deliver(conn, reply, installedUpdate(method, String(req.params[1])), applied);
          },
        });
        await using db = await connect(srv.remote);
        const spec = method === "monitor"
          ? { Switch: ["name", "external_ids"] }
          : { Switch: { columns: ["name", "external_ids"], where: [["name", "==", "p0"]] } };
        await db.monitor(spec as never, { method });
        monitored();
        const row = await db.cache.waitFor(
          "Switch",
          (r) => (r.external_ids as Record<string, string>)["ovn-installed"] === "true",
          { timeoutMs: 5_000 },
        );
        assert.equal(row.name, "p0", "the initial columns stay");
        await db.echo(); // everything the server sent is read and applied by now
        assert.deepEqual(db.cache.table("Switch").get(U1)?.external_ids, {
          "ovn-installed": "true",
        });
        assert.equal(db.cache.table("Switch").size, 1);
      },
    );
  }
}

Deno.test("OvsdbClient.monitor() resumes monitor_cond_since from the update3 behind the reply", async () => {
  const since: unknown[] = [];
  await using srv = await startFakeServer({
    onRequest: async (req: FakeRequest, conn) => {
      if (req.method !== "monitor_cond_since") return;
      since.push(req.params[3]);
      if (since.length === 1) {
        const reply = { id: req.id, result: initialReply(req.method, "txn-1"), error: null };
        await conn.send(reply, installedUpdate(req.method, String(req.params[1]), "txn-2"));
      } else {
        await conn.send({ id: req.id, result: [true, "txn-2", {}], error: null });
      }
    },
  });
  await using db = await connect(srv.remote);
  await db.monitor({ Switch: ["name", "external_ids"] });
  await db.echo();
  const reconnected = new Promise((r) => db.on("connect", r));
  srv.conns[0]!.close();
  await reconnected;
  assert.deepEqual(since, ["00000000-0000-0000-0000-000000000000", "txn-2"]);
  assert.deepEqual(db.cache.table("Switch").get(U1)?.external_ids, { "ovn-installed": "true" });
});

Deno.test("OvsdbClient.monitor() keeps another monitor's updates around a new monitor's reply", async () => {
  await using srv = await startFakeServer({
    onRequest: async (req, conn) => {
      if (req.method !== "monitor_cond_since") return;
      const tables = Object.keys(req.params[2] as object);
      if (tables.includes("Switch")) {
        await conn.send({ id: req.id, result: initialReply(req.method), error: null });
        return;
      }
      const first = conn.received.find((r) => r.method === "monitor_cond_since")!;
      await conn.send(
        installedUpdate(req.method, String(first.params[1]), "txn-2"),
        {
          id: req.id,
          result: [false, "txn-2", { Port: { [U1]: { initial: { name: "port" } } } }],
          error: null,
        },
        {
          method: "update3",
          params: [req.params[1], "txn-3", { Port: { [U1]: { modify: { name: "port2" } } } }],
          id: null,
        },
      );
    },
  });
  await using db = await connect(srv.remote);
  await db.monitor({ Switch: ["name", "external_ids"] });
  await db.monitor({ Port: ["name"] });
  await db.echo();
  assert.deepEqual(db.cache.table("Switch").get(U1)?.external_ids, { "ovn-installed": "true" });
  assert.equal(db.cache.table("Port").get(U1)?.name, "port2");
});

Deno.test("OvsdbClient.monitor() that timed out leaves a late reply out of the cache", async () => {
  let pending: { req: FakeRequest; conn: FakeConn } | undefined;
  await using srv = await startFakeServer({
    onRequest: (req, conn) => {
      if (req.method === "monitor_cond_since") pending = { req, conn };
    },
  });
  await using db = await connect(srv.remote);
  const err = await db.monitor({ Switch: ["name"] }, { timeoutMs: 100 }).catch((e) => e);
  assert.ok(err instanceof OvsdbError && err.kind === "timeout", String(err));
  await poll(() => pending !== undefined, "the monitor request");
  const { req, conn } = pending!;
  await conn.send({ id: req.id, result: initialReply(req.method as Method), error: null });
  await db.echo();
  assert.equal(db.cache.table("Switch").size, 0);
  assert.ok(
    conn.received.some((r) => r.method === "monitor_cancel" && r.params[0] === req.params[1]),
    "the orphaned monitor is canceled on the server",
  );
  const again = await db.monitor({ Switch: ["name"] }, { timeoutMs: 100 }).catch((e) => e);
  assert.ok(again instanceof OvsdbError && again.kind === "timeout", `monitored again: ${again}`);
});

Deno.test("OvsdbClient.connect() sees a leader change sent right behind the _Server reply", async () => {
  await using srv = await startFakeServer({
    onRequest: () => {},
    serverRow: { name: DB, model: "clustered", connected: true, leader: true },
    afterServerReply: [{
      method: "update2",
      params: ["_Server", { Database: { [SERVER_ROW_UUID]: { modify: { leader: false } } } }],
      id: null,
    }],
  });
  const err = await OvsdbClient.connect({
    remotes: srv.remote,
    database: DB,
    timeoutMs: 600,
    maxBackoffMs: 100,
  }).catch((e) => e);
  if (err instanceof OvsdbClient) err.close();
  assert.ok(err instanceof OvsdbError, `connect() should fail, got ${err}`);
  assert.equal(err.kind, "connect");
  assert.match(err.message, /not the leader/);
});

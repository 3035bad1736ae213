/**
 * The OVSDB client against tiny fake servers (a TCP listener speaking just enough
 * JSON-RPC), for what a real ovsdb-server will not do on demand: malformed, truncated or
 * garbage-prefixed output (a clear error naming the remote, then a reconnect), a server
 * that stops being the RAFT leader, a peer that stops answering echo, and echo requests
 * from the server.
 */
import assert from "node:assert/strict";
import { JsonFramer, op, OvsdbClient, OvsdbError } from "../../src/ovsdb/mod.ts";
import { TEST_SCHEMA_JSON } from "../../src/ovsdb/_test_schema.ts";

const U = "0b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const DBROW = "9b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const enc = new TextEncoder();

type Fault = "malformed" | "truncated" | "garbage" | "none";

interface FakeOptions {
  /** Connection N answers transact with faults[N-1] (then "none"). */
  faults?: Fault[];
  /** Serve `_Server` as a clustered member; `leader` is read at each new connection. */
  cluster?: { leader: boolean };
  /** Do not answer the client's echo requests. */
  mute?: boolean;
}

type Msg = { method?: string; params?: unknown[]; id?: unknown; result?: unknown };

/** A fake OVSDB server for database Test_DB. */
function fakeServer(opts: FakeOptions = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const received: Msg[] = [];
  let accepted = 0;
  const serve = async (conn: Deno.Conn, fault: Fault) => {
    const framer = new JsonFramer();
    const buf = new Uint8Array(65536);
    const send = (text: string) => conn.write(enc.encode(text));
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        for (const m of framer.push(buf.subarray(0, n)) as Msg[]) {
          received.push(m);
          const reply = (result: unknown, error: unknown = null) =>
            send(JSON.stringify({ id: m.id, result, error }));
          const p = m.params ?? [];
          if (m.method === "monitor_cond" && p[0] === "_Server") {
            if (!opts.cluster) await reply(null, { error: "unknown database", details: "_Server" });
            else {
              const row = {
                name: "Test_DB",
                model: "clustered",
                connected: true,
                leader: opts.cluster.leader,
              };
              await reply({ Database: { [DBROW]: { initial: row } } });
            }
          } else if (m.method === "list_dbs") await reply(["Test_DB"]);
          else if (m.method === "get_schema") await reply(TEST_SCHEMA_JSON);
          else if (m.method === "echo") {
            if (!opts.mute) await reply(m.params);
          } else if (m.method === "transact") {
            const good = JSON.stringify({ id: m.id, result: [{ uuid: ["uuid", U] }], error: null });
            if (fault === "malformed") await send(good.replace(`"uuid",`, `"uuid" `));
            else if (fault === "garbage") await send(`hello ${good}`);
            else if (fault === "truncated") {
              await send(good.slice(0, 20));
              conn.close();
              return;
            } else await send(good);
          }
        }
      }
    } catch {
      // connection closed by the client
    } finally {
      conns.delete(conn);
    }
  };
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const fault = opts.faults?.[accepted] ?? "none";
      accepted++;
      serve(conn, fault);
    }
  })().catch(() => {});
  return {
    remote: `tcp:127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    received,
    get accepted() {
      return accepted;
    },
    /** Sends raw text to every open connection. */
    async broadcast(text: string) {
      for (const c of conns) await c.write(enc.encode(text));
    },
    [Symbol.dispose]() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

async function poll(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("OvsdbClient reports malformed, truncated and garbage output clearly and recovers", async () => {
  using srv = fakeServer({ faults: ["malformed", "truncated", "garbage"] });
  await using db = await OvsdbClient.connect({
    remotes: srv.remote,
    database: "Test_DB",
    timeoutMs: 5000,
    maxBackoffMs: 200,
    probeIntervalMs: 0,
  });
  const insert = [op.insert("Port", { name: "p" })];
  const protocolError = (re: RegExp) => (e: unknown) =>
    e instanceof OvsdbError && e.kind === "protocol" && e.message.includes(srv.remote) &&
    re.test(e.message);

  await assert.rejects(db.transact(insert), protocolError(/malformed JSON/));
  await assert.rejects(db.transact(insert), protocolError(/closed in the middle of a message/));
  await assert.rejects(db.transact(insert), protocolError(/unexpected "h" between messages/));
  const [res] = await db.transact(insert);
  assert.equal(res!.uuid, U);
  assert.equal(srv.accepted, 4, "one new connection after each fault");
  assert.equal(db.connected, true);
});

Deno.test("OvsdbClient leaves a server that stops being the leader for the new leader", async () => {
  using a = fakeServer({ cluster: { leader: true } });
  const bState = { leader: false };
  using b = fakeServer({ cluster: bState });
  await using db = await OvsdbClient.connect({
    remotes: `${b.remote},${a.remote}`,
    database: "Test_DB",
    timeoutMs: 5000,
    maxBackoffMs: 100,
    probeIntervalMs: 0,
  });
  assert.equal(db.remote, a.remote, "the follower b was skipped");
  const connects: string[] = [];
  db.on("connect", (r) => connects.push(r));
  // Leadership moves from a to b.
  bState.leader = true;
  await a.broadcast(JSON.stringify({
    method: "update2",
    params: ["_Server", { Database: { [DBROW]: { modify: { leader: false } } } }],
    id: null,
  }));
  await poll(() => connects.includes(b.remote), "a connection to the new leader");
  assert.equal(db.remote, b.remote);
  const [res] = await db.transact([op.insert("Port", { name: "p" })]);
  assert.equal(res!.uuid, U);
});

Deno.test("OvsdbClient answers the server's echo and drops a peer that ignores its own", async () => {
  using srv = fakeServer({ mute: true });
  await using db = await OvsdbClient.connect({
    remotes: srv.remote,
    database: "Test_DB",
    timeoutMs: 5000,
    maxBackoffMs: 100,
    probeIntervalMs: 100,
  });
  const reasons: string[] = [];
  db.on("disconnect", (e) => reasons.push(e.message));
  await srv.broadcast(JSON.stringify({ method: "echo", params: ["ping"], id: "srv-echo" }));
  await poll(() => srv.received.some((m) => m.id === "srv-echo"), "the echo reply");
  assert.deepEqual(
    srv.received.find((m) => m.id === "srv-echo"),
    { id: "srv-echo", result: ["ping"], error: null },
  );
  // The fake never answers our probes: the client gives up after two intervals, reconnects.
  await poll(() => reasons.some((r) => r.includes("inactivity probe")), "the probe to fail");
  assert.ok(srv.received.some((m) => m.method === "echo"), "the client sent echo probes");
  await poll(() => srv.accepted >= 2 && db.connected, "a reconnection");
});

Deno.test("OvsdbClient.connect() times out clearly when nothing listens", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  // The deadline must leave room for the first attempt to fail (its error is reported).
  await assert.rejects(
    OvsdbClient.connect({ remotes: `tcp:127.0.0.1:${port}`, database: "Test_DB", timeoutMs: 2000 }),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "connect" && e.message.includes(`127.0.0.1:${port}`) &&
      /refused/i.test(e.message),
  );
});

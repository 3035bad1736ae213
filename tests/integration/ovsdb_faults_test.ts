/**
 * The OVSDB client against a tiny fake server that answers a transaction with malformed,
 * truncated or garbage-prefixed output: each gives a clear error naming the remote, and
 * the client reconnects and works again.
 */
import assert from "node:assert/strict";
import { JsonFramer, op, OvsdbClient, OvsdbError } from "../../src/ovsdb/mod.ts";
import { TEST_SCHEMA_JSON } from "../../src/ovsdb/_test_schema.ts";

const U = "0b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const enc = new TextEncoder();

type Fault = "malformed" | "truncated" | "garbage" | "none";

/** A fake OVSDB server for database Test_DB; connection N answers transact with faults[N-1]. */
function fakeServer(faults: Fault[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const serve = async (conn: Deno.Conn, fault: Fault) => {
    const framer = new JsonFramer();
    const buf = new Uint8Array(65536);
    const send = (text: string) => conn.write(enc.encode(text));
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        for (
          const m of framer.push(buf.subarray(0, n)) as {
            method: string;
            params: unknown[];
            id: unknown;
          }[]
        ) {
          const reply = (result: unknown, error: unknown = null) =>
            send(JSON.stringify({ id: m.id, result, error }));
          if (m.method === "monitor_cond" && m.params[0] === "_Server") {
            await reply(null, { error: "unknown database", details: "_Server" });
          } else if (m.method === "list_dbs") await reply(["Test_DB"]);
          else if (m.method === "get_schema") await reply(TEST_SCHEMA_JSON);
          else if (m.method === "echo") await reply(m.params);
          else if (m.method === "transact") {
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
      serve(conn, faults[accepted++] ?? "none");
    }
  })().catch(() => {});
  return {
    remote: `tcp:127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    get accepted() {
      return accepted;
    },
    [Symbol.dispose]() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

Deno.test("OvsdbClient reports malformed, truncated and garbage output clearly and recovers", async () => {
  using srv = fakeServer(["malformed", "truncated", "garbage"]);
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

Deno.test("OvsdbClient.connect() times out clearly when nothing listens", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    OvsdbClient.connect({
      remotes: `tcp:127.0.0.1:${port}`,
      database: "Test_DB",
      timeoutMs: 500,
    }),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "connect" && e.message.includes(`127.0.0.1:${port}`) &&
      /refused/i.test(e.message),
  );
});

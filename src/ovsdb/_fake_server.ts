/**
 * Test helper: a scripted OVSDB peer on a unix socket in a temporary directory. It answers
 * the connect sequence of {@linkcode OvsdbClient} by itself (the `_Server` monitor with a
 * standalone `Database` row, `get_schema` with the test schema, `echo`) and hands every
 * other request to the test, which chooses the exact bytes and their chunking: several
 * messages written in one `write` arrive in one read on the client, the way a busy
 * server's reply and the notification right behind it do.
 *
 * @module
 */
import { JsonFramer } from "./framer.ts";
import { TEST_SCHEMA_JSON } from "./_test_schema.ts";

/** A request the client sent. */
export interface FakeRequest {
  /** Method name. */
  method: string;
  /** Params array. */
  params: unknown[];
  /** Request id (null for notifications such as `cancel`). */
  id: unknown;
}

/** One accepted client connection. */
export class FakeConn {
  readonly #conn: Deno.Conn;
  readonly #enc = new TextEncoder();
  /** Every request received on this connection, in order. */
  readonly received: FakeRequest[] = [];

  /** @param conn the accepted connection */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Writes raw text in one `write` call.
   *
   * @param text bytes to send (JSON texts back to back)
   */
  async writeRaw(text: string): Promise<void> {
    const data = this.#enc.encode(text);
    let off = 0;
    while (off < data.length) off += await this.#conn.write(data.subarray(off));
  }

  /**
   * Writes messages back to back in one `write` call (one chunk for the client).
   *
   * @param msgs JSON-RPC messages
   */
  async send(...msgs: unknown[]): Promise<void> {
    await this.writeRaw(msgs.map((m) => JSON.stringify(m)).join(""));
  }

  /** Closes the connection (the client sees the server go away). */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/** Answers a request the built-in handling does not cover; the default ignores it. */
export type FakeHandler = (req: FakeRequest, conn: FakeConn) => void | Promise<void>;

/** Options of {@linkcode startFakeServer}. */
export interface FakeServerOptions {
  /** Handles monitors, transactions and anything else. */
  onRequest: FakeHandler;
  /** The `_Server.Database` row sent in reply to the client's leader check. */
  serverRow?: Record<string, unknown>;
  /** Messages written in the same chunk right behind the `_Server` monitor reply. */
  afterServerReply?: unknown[];
}

/** A running fake server. */
export interface FakeServer extends AsyncDisposable {
  /** `unix:PATH` for the client's `remotes`. */
  readonly remote: string;
  /** Accepted connections, oldest first. */
  readonly conns: FakeConn[];
}

/** The `_Server` row id used in replies. */
export const SERVER_ROW_UUID = "00000000-0000-4000-8000-00000000aaaa";

/**
 * Starts a fake server. Needs `--allow-read --allow-write` (temp dir, socket).
 *
 * @param opts request handler and `_Server` behaviour
 * @returns the server; dispose it to close the listener, every connection and the dir
 */
export async function startFakeServer(opts: FakeServerOptions): Promise<FakeServer> {
  const dir = await Deno.makeTempDir({ prefix: "ovsdb-fake-" });
  const path = `${dir}/db.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const conns: FakeConn[] = [];
  const serving: Promise<void>[] = [];
  const row = opts.serverRow ??
    { name: TEST_SCHEMA_JSON.name, model: "standalone", connected: true, leader: true };

  const serve = async (conn: Deno.Conn) => {
    const fc = new FakeConn(conn);
    conns.push(fc);
    const framer = new JsonFramer({ peer: "fake client" });
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        for (const raw of framer.push(buf.subarray(0, n))) {
          const req = raw as FakeRequest;
          fc.received.push(req);
          if (req.method === "monitor_cond" && req.params[0] === "_Server") {
            await fc.send(
              { id: req.id, result: { Database: { [SERVER_ROW_UUID]: { initial: row } } } },
              ...(opts.afterServerReply ?? []),
            );
          } else if (req.method === "get_schema") {
            await fc.send({ id: req.id, result: TEST_SCHEMA_JSON, error: null });
          } else if (req.method === "echo") {
            await fc.send({ id: req.id, result: req.params, error: null });
          } else {
            await opts.onRequest(req, fc);
          }
        }
      }
    } catch {
      // The client (or the test) closed the connection.
    } finally {
      fc.close();
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) serving.push(serve(conn));
    } catch { /* listener closed */ }
  })();

  return {
    remote: `unix:${path}`,
    conns,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) c.close();
      await accepting;
      await Promise.all(serving);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

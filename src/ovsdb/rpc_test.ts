import assert from "node:assert/strict";
import { OvsdbError } from "./errors.ts";
import { type ByteStream, RpcSession } from "./rpc.ts";

/** An in-memory stream: the test plays the server. */
class FakeStream implements ByteStream {
  writes: string[] = [];
  closed = false;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  feed(text: string | Uint8Array): void {
    this.#chunks.push(typeof text === "string" ? new TextEncoder().encode(text) : text);
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0 && !this.#ended) {
      await new Promise<void>((r) => this.#wake = r);
    }
    const c = this.#chunks.shift();
    if (!c) return null;
    const n = Math.min(c.length, p.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return n;
  }
  write(p: Uint8Array): Promise<number> {
    this.writes.push(new TextDecoder().decode(p));
    return Promise.resolve(p.length);
  }
  close(): void {
    this.closed = true;
    this.end();
  }
  sent(): unknown[] {
    return JSON.parse(`[${this.writes.join("").replaceAll("}{", "},{")}]`);
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("RpcSession.request() matches responses to requests by id", async () => {
  const s = new FakeStream();
  const rpc = new RpcSession(s, { peer: "fake" });
  const a = rpc.request("list_dbs", []);
  const b = rpc.request("get_schema", ["X"]);
  await tick();
  assert.equal(s.writes.length, 1, "requests of one tick go out in one write");
  assert.deepEqual(s.sent(), [
    { method: "list_dbs", params: [], id: 1 },
    { method: "get_schema", params: ["X"], id: 2 },
  ]);
  s.feed('{"id":2,"result":{"name":"X"},"error":null}{"id":1,"result":["X"],"error":null}');
  assert.deepEqual(await a, ["X"]);
  assert.deepEqual(await b, { name: "X" });
  rpc.close();
});

Deno.test("RpcSession answers the server's echo and passes notifications on", async () => {
  const s = new FakeStream();
  const got: unknown[] = [];
  const rpc = new RpcSession(s, { peer: "fake", onNotification: (m, p) => got.push([m, p]) });
  s.feed(
    '{"method":"echo","params":[],"id":"echo"}{"method":"update2","params":["m",{}],"id":null}',
  );
  await tick();
  await tick();
  assert.deepEqual(s.sent(), [{ id: "echo", result: [], error: null }]);
  assert.deepEqual(got, [["update2", ["m", {}]]]);
  rpc.close();
});

Deno.test("RpcSession.request() rejects with the server's error", async () => {
  const s = new FakeStream();
  const rpc = new RpcSession(s, { peer: "fake" });
  const p = rpc.request("monitor_cond_since", []);
  s.feed('{"id":1,"result":null,"error":{"error":"unknown method","details":"x"}}');
  await assert.rejects(
    p,
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "rpc" && e.error === "unknown method" &&
      e.details === "x" && e.message.includes("monitor_cond_since"),
  );
  rpc.close();
});

Deno.test("RpcSession closes on malformed input and fails pending requests clearly", async () => {
  const s = new FakeStream();
  const rpc = new RpcSession(s, { peer: "fake" });
  const p = rpc.request("transact", ["X"]);
  s.feed('{"id":1,"result":[1,]}');
  await assert.rejects(
    p,
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "protocol" && e.message.includes("malformed JSON") &&
      e.message.includes("may or may not have been committed"),
  );
  assert.equal((await rpc.closed).kind, "protocol");
  assert.equal(s.closed, true);
  await assert.rejects(rpc.request("echo", []), OvsdbError);
});

Deno.test("RpcSession reports a message truncated by the peer closing", async () => {
  const s = new FakeStream();
  const rpc = new RpcSession(s, { peer: "fake" });
  const p = rpc.request("transact", ["X"]);
  s.feed('{"id":1,"result":[{"uuid"');
  s.end();
  await assert.rejects(p, /closed in the middle of a message \(\d+ bytes received\)/);
  assert.equal((await rpc.closed).kind, "protocol");
});

Deno.test("RpcSession reports a clean close as disconnected", async () => {
  const s = new FakeStream();
  const rpc = new RpcSession(s, { peer: "fake" });
  s.end();
  const why = await rpc.closed;
  assert.equal(why.kind, "disconnected");
  assert.match(why.message, /closed by the server/);
});

Deno.test("RpcSession probes an idle peer with echo and gives up when it stays silent", async () => {
  const s = new FakeStream();
  const rpc = new RpcSession(s, { peer: "fake", probeIntervalMs: 20 });
  const why = await rpc.closed;
  assert.match(why.message, /inactivity probe/);
  const sent = s.sent() as { method?: string }[];
  assert.equal(sent.some((m) => m.method === "echo"), true);
});

Deno.test("RpcSession.request() runs onResult before the notifications behind the response", async () => {
  const s = new FakeStream();
  const seen: string[] = [];
  const rpc = new RpcSession(s, {
    peer: "fake",
    onNotification: (m) => seen.push(`notification ${m}`),
  });
  const a = rpc.request("monitor_cond", [], { onResult: (r) => seen.push(`result ${r}`) });
  const b = rpc.request("monitor", [], {
    onResult: () => {
      throw new RangeError("bad reply");
    },
  });
  const c = rpc.request("echo", []);
  s.feed(
    '{"id":1,"result":"initial","error":null}{"method":"update2","params":[],"id":null}' +
      '{"id":2,"result":{},"error":null}{"id":3,"result":[],"error":null}',
  );
  assert.equal(await a, "initial");
  await assert.rejects(b, RangeError, "what onResult throws rejects the request");
  assert.deepEqual(await c, [], "the session goes on");
  assert.deepEqual(seen, ["result initial", "notification update2"]);
  rpc.close();
});

import assert from "node:assert/strict";
import { OvsdbError } from "./errors.ts";
import { JsonFramer } from "./framer.ts";

const enc = new TextEncoder();

function feedInChunks(text: string, size: number): unknown[] {
  const bytes = enc.encode(text);
  const f = new JsonFramer();
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...f.push(bytes.slice(i, i + size)));
  assert.equal(f.pendingBytes, 0);
  return out;
}

Deno.test("JsonFramer.push() splits back-to-back values whatever the chunking", () => {
  const msgs = [
    { id: 1, result: ["a", { "b": "}{][" }] },
    { method: "update2", params: ["m", { T: { u: { modify: { s: 'quote \\" and \\\\' } } } }] },
    [1, 2, [3]],
    { s: "héllo → 世界 🎉", e: "\u0000\n" },
  ];
  const text = msgs.map((m) => JSON.stringify(m)).join("\n ") + "  ";
  for (const size of [1, 2, 3, 7, 64, 100000]) {
    assert.deepEqual(feedInChunks(text, size), msgs, `chunk size ${size}`);
  }
});

Deno.test("JsonFramer.push() keeps an incomplete value until it completes", () => {
  const f = new JsonFramer();
  assert.deepEqual(f.push(enc.encode('{"a":"\\"}')), []);
  assert.equal(f.pendingBytes > 0, true);
  assert.deepEqual(f.push(enc.encode('"}{"b":1')), [{ a: '"}' }]);
  assert.deepEqual(f.push(enc.encode("}")), [{ b: 1 }]);
  assert.equal(f.pendingBytes, 0);
});

Deno.test("JsonFramer.push() rejects bytes between messages with a clear error", () => {
  const f = new JsonFramer({ peer: "tcp:x:1" });
  assert.throws(
    () => f.push(enc.encode('{"a":1} garbage')),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "protocol" &&
      /tcp:x:1.*between messages/.test(e.message),
  );
});

Deno.test("JsonFramer.push() rejects malformed JSON and invalid UTF-8", () => {
  assert.throws(
    () => new JsonFramer().push(enc.encode('{"a":}')),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "protocol" && e.message.includes("malformed JSON"),
  );
  assert.throws(
    () => new JsonFramer().push(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    OvsdbError,
  );
});

Deno.test("JsonFramer.push() enforces the message size limit", () => {
  const f = new JsonFramer({ maxMessageBytes: 10 });
  assert.throws(() => f.push(enc.encode('{"a":"0123456789')), /larger than 10 bytes/);
});

Deno.test("JsonFramer.push() rejects mismatched brackets at once", () => {
  assert.throws(
    () => new JsonFramer().push(enc.encode('{"id":1,"result":[}')),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "protocol" && e.message.includes("mismatched"),
  );
});

Deno.test("JsonFramer.push() handles nesting deeper than its initial stack", () => {
  const deep = "[".repeat(200) + "1" + "]".repeat(200);
  assert.equal(new JsonFramer().push(enc.encode(deep)).length, 1);
});

Deno.test("JsonFramer.push() reads a value split in two at every byte", () => {
  // Boundaries inside strings, right after a backslash, inside \u escapes and inside
  // multi-byte UTF-8 sequences, with a second message in the same chunk.
  const msgs = [
    { id: 7, result: [{ s: 'a\\"b\\\\', t: '\\u00e9 é\\\\"', u: "世界🎉", e: "]}\\" }] },
    { method: "update3", params: ["m", "x", {}] },
  ];
  const bytes = enc.encode(msgs.map((m) => JSON.stringify(m)).join(""));
  for (let cut = 0; cut <= bytes.length; cut++) {
    const f = new JsonFramer();
    const got = [...f.push(bytes.slice(0, cut)), ...f.push(bytes.slice(cut))];
    assert.deepEqual(got, msgs, `cut at ${cut}`);
    assert.equal(f.pendingBytes, 0);
  }
});

Deno.test("JsonFramer.push() reads a multi-megabyte value in many chunks", () => {
  const rows: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) {
    rows[`uuid-${i}`] = {
      initial: {
        name: `ns_pod${i} "q" \\ é世`,
        external_ids: ["map", [["k", `v${i}]}`], ["path", "C:\\dir\\"]]],
      },
    };
  }
  const big = { id: 3, result: [false, "txn", { Logical_Switch_Port: rows }], error: null };
  const small = { id: null, method: "update3", params: ["m", "t", {}] };
  const text = JSON.stringify(big) + JSON.stringify(small) + JSON.stringify(small);
  assert.ok(enc.encode(text).length > 2_000_000);
  for (const size of [65_536, 4_093, 262_144]) {
    assert.deepEqual(feedInChunks(text, size), [big, small, small], `chunk size ${size}`);
  }
});

Deno.test("JsonFramer.push() accepts U+FFFD sent as such and rejects it from invalid bytes", () => {
  const ok = { s: "a\uFFFDb", t: "\\ufffd" };
  assert.deepEqual(new JsonFramer().push(enc.encode(JSON.stringify(ok))), [ok]);
  const bad = new Uint8Array([...enc.encode('{"s":"\uFFFD'), 0xc3, ...enc.encode('"}')]);
  assert.throws(
    () => new JsonFramer().push(bad),
    (e: unknown) => e instanceof OvsdbError && e.kind === "protocol",
  );
});

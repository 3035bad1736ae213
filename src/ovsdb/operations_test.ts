import assert from "node:assert/strict";
import { OvsdbError } from "./errors.ts";
import { decodeResults, encodeOperation, op, type Operation, ops } from "./operations.ts";
import { TEST_SCHEMA } from "./_test_schema.ts";

const U1 = "0b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";

type Tables = {
  Switch: { _uuid: string; name: string; ports: string[]; external_ids: Record<string, string> };
  Port: { _uuid: string; name: string; addresses: string[]; tag: number[] };
};

Deno.test("ops() builds every operation without I/O", () => {
  const t = ops<Tables>();
  assert.deepEqual(t.insert("Port", { name: "p" }, { uuidName: "p1" }), {
    op: "insert",
    table: "Port",
    row: { name: "p" },
    uuidName: "p1",
  });
  assert.throws(() => t.insert("Port", {}, { uuidName: "p-1" }), TypeError);
  assert.deepEqual(t.select("Switch", [["name", "==", "a"]], ["name"]).columns, ["name"]);
  assert.deepEqual(t.wait("Port", [], ["name"], "==", [{ name: "x" }], 5).timeout, 5);
  assert.deepEqual(op.commit(true), { op: "commit", durable: true });
  assert.deepEqual(op.abort(), { op: "abort" });
  assert.deepEqual(op.comment("hi"), { op: "comment", comment: "hi" });
  assert.deepEqual(op.assert("lk"), { op: "assert", lock: "lk" });
});

Deno.test("encodeOperation() encodes rows, conditions and mutations by the schema", () => {
  const t = ops<Tables>();
  assert.deepEqual(
    encodeOperation(
      TEST_SCHEMA,
      t.insert("Port", { name: "p", addresses: ["m ip"] }, { uuidName: "p1" }),
    ),
    {
      op: "insert",
      table: "Port",
      row: { name: "p", addresses: ["set", ["m ip"]] },
      "uuid-name": "p1",
    },
  );
  assert.deepEqual(
    encodeOperation(
      TEST_SCHEMA,
      t.mutate("Switch", [["name", "==", "sw"], ["ports", "includes", U1]], [
        ["ports", "insert", ["p1"]],
        ["external_ids", "delete", ["k"]],
        ["external_ids", "insert", { k: "v" }],
      ]),
    ),
    {
      op: "mutate",
      table: "Switch",
      where: [["name", "==", "sw"], ["ports", "includes", ["set", [["uuid", U1]]]]],
      mutations: [
        ["ports", "insert", ["set", [["named-uuid", "p1"]]]],
        ["external_ids", "delete", ["set", ["k"]]],
        ["external_ids", "insert", ["map", [["k", "v"]]]],
      ],
    },
  );
  assert.deepEqual(
    encodeOperation(TEST_SCHEMA, op.update("Port", [["_uuid", "==", U1], true], { tag: [7] })),
    {
      op: "update",
      table: "Port",
      where: [["_uuid", "==", ["uuid", U1]], true],
      row: { tag: ["set", [7]] },
    },
  );
  assert.deepEqual(
    encodeOperation(TEST_SCHEMA, op.mutate("Port", [["tag", "<", 9]], [["tag", "+=", 1]])),
    { op: "mutate", table: "Port", where: [["tag", "<", 9]], mutations: [["tag", "+=", 1]] },
  );
  assert.deepEqual(encodeOperation(TEST_SCHEMA, op.delete("Port", [["name", "!=", "x"]])), {
    op: "delete",
    table: "Port",
    where: [["name", "!=", "x"]],
  });
  assert.deepEqual(
    encodeOperation(TEST_SCHEMA, op.wait("Port", [], ["name"], "!=", [{ name: "x" }])),
    { op: "wait", table: "Port", where: [], columns: ["name"], until: "!=", rows: [{ name: "x" }] },
  );
});

Deno.test("encodeOperation() fails before sending on unknown tables, columns or bad values", () => {
  const isSchema = (e: unknown) => e instanceof OvsdbError && e.kind === "schema";
  assert.throws(() => encodeOperation(TEST_SCHEMA, op.insert("Nope", {})), isSchema);
  assert.throws(
    () => encodeOperation(TEST_SCHEMA, op.select("Port", [["bad", "==", 1]])),
    isSchema,
  );
  assert.throws(() => encodeOperation(TEST_SCHEMA, op.select("Port", [], ["bad"])), isSchema);
  assert.throws(() => encodeOperation(TEST_SCHEMA, op.insert("Port", { tag: ["x"] })), isSchema);
});

Deno.test("decodeResults() reports the failed operation's index, error and details", () => {
  const sent: Operation[] = [op.insert("Port", { name: "a" }), op.delete("Switch", [true])];
  const err = (() => {
    try {
      decodeResults(TEST_SCHEMA, sent, [{ uuid: ["uuid", U1] }, {
        error: "referential integrity violation",
        details: "cannot delete Switch row",
      }]);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof OvsdbError);
  assert.equal(err.kind, "operation");
  assert.equal(err.index, 1);
  assert.equal(err.error, "referential integrity violation");
  assert.equal(err.details, "cannot delete Switch row");
  assert.deepEqual(err.operation, sent[1]);
  assert.match(err.message, /operation 1 \(delete Switch\) failed: referential integrity/);
});

Deno.test("decodeResults() reports a commit failure after the last operation", () => {
  const sent: Operation[] = [op.insert("Switch", { name: "a" })];
  assert.throws(
    () =>
      decodeResults(TEST_SCHEMA, sent, [{ uuid: ["uuid", U1] }, {
        error: "constraint violation",
        details: "duplicate name",
      }]),
    (e: unknown) =>
      e instanceof OvsdbError && e.index === 1 && e.operation === undefined &&
      /the commit \(after 1 operations\) failed: constraint violation: duplicate name/.test(
        e.message,
      ),
  );
});

Deno.test("decodeResults() decodes uuids, counts and selected rows", () => {
  const sent: Operation[] = [
    op.insert("Port", { name: "a" }),
    op.update("Port", [], { name: "b" }),
    op.select("Port", [], ["name", "tag", "_uuid"]),
    op.comment("c"),
  ];
  assert.deepEqual(
    decodeResults(TEST_SCHEMA, sent, [
      { uuid: ["uuid", U1] },
      { count: 2 },
      { rows: [{ name: "b", tag: ["set", []], _uuid: ["uuid", U1] }] },
      {},
    ]),
    [{ uuid: U1 }, { count: 2 }, { rows: [{ name: "b", tag: [], _uuid: U1 }] }, {}],
  );
});

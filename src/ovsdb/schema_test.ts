import assert from "node:assert/strict";
import { OvsdbError } from "./errors.ts";
import { checkSchema, columnType, missingFromSchema, parseColumnType } from "./schema.ts";
import { TEST_SCHEMA } from "./_test_schema.ts";

Deno.test("parseColumnType() normalizes the short and long forms", () => {
  assert.deepEqual(parseColumnType("string"), { key: { type: "string" }, min: 1, max: 1 });
  assert.deepEqual(parseColumnType({ key: "integer", min: 0, max: "unlimited" }), {
    key: { type: "integer" },
    min: 0,
    max: Infinity,
  });
  assert.deepEqual(parseColumnType({ key: { type: "string", enum: "x" } }).key.enum, ["x"]);
  assert.deepEqual(
    parseColumnType({ key: { type: "string", enum: ["set", ["a", "b"]] } }).key.enum,
    ["a", "b"],
  );
  assert.throws(() => parseColumnType("float"), OvsdbError);
});

Deno.test("columnType() names the missing table or column and the fix", () => {
  assert.deepEqual(columnType(TEST_SCHEMA, "Port", "_uuid").key.type, "uuid");
  assert.throws(
    () => columnType(TEST_SCHEMA, "Nope", "x"),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "schema" && e.message.includes('"Nope"') &&
      e.message.includes("gen-models"),
  );
  assert.throws(() => columnType(TEST_SCHEMA, "Port", "nope"), /"Port.nope".*Test_DB/);
});

Deno.test("checkSchema() lists every missing table and column", () => {
  const expect = {
    name: "Test_DB",
    version: "9.9.9",
    tables: { Switch: ["name", "ghost"], Gone: ["x"], Port: ["name"] },
  };
  assert.deepEqual(missingFromSchema(TEST_SCHEMA, expect), ["Switch.ghost", "Gone"]);
  assert.throws(
    () => checkSchema(TEST_SCHEMA, expect),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "schema" && e.message.includes("Switch.ghost, Gone") &&
      e.message.includes("9.9.9") && e.message.includes("1.2.3"),
  );
  assert.throws(() => checkSchema(TEST_SCHEMA, { name: "Other", tables: {} }), /wrong database/);
  checkSchema(TEST_SCHEMA, { name: "Test_DB", tables: { Port: ["name", "tag"] } });
});

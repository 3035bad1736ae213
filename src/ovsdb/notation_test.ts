import assert from "node:assert/strict";
import { OvsdbError } from "./errors.ts";
import {
  applyDiff,
  atomToWire,
  defaultValue,
  isNamedUuid,
  isUuid,
  namedUuid,
  rowFromWire,
  rowToWire,
  valueFromWire,
  valuesEqual,
  valueToWire,
  ZERO_UUID,
} from "./notation.ts";
import { columnType } from "./schema.ts";
import { TEST_SCHEMA } from "./_test_schema.ts";

const U1 = "0b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const U2 = "1b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const type = (t: string, c: string) => columnType(TEST_SCHEMA, t, c);

Deno.test("isUuid() and isNamedUuid() tell uuids from uuid-names", () => {
  assert.equal(isUuid(U1), true);
  assert.equal(isUuid("lsp0"), false);
  assert.equal(isNamedUuid("lsp0"), true);
  assert.equal(isNamedUuid(U1), false);
  assert.equal(isNamedUuid("0abc"), false);
  assert.throws(() => namedUuid("bad-name"), TypeError);
});

Deno.test("atomToWire() encodes uuids and named uuids by their form", () => {
  assert.deepEqual(atomToWire(U1, { type: "uuid" }, "x"), ["uuid", U1]);
  assert.deepEqual(atomToWire("p1", { type: "uuid" }, "x"), ["named-uuid", "p1"]);
  assert.throws(
    () => atomToWire("not a uuid", { type: "uuid" }, "T.c"),
    (e: unknown) => e instanceof OvsdbError && e.kind === "schema" && e.message.includes("T.c"),
  );
  assert.throws(() => atomToWire(1.5, { type: "integer" }, "x"), OvsdbError);
  assert.throws(() => atomToWire("1", { type: "boolean" }, "x"), OvsdbError);
  assert.equal(atomToWire(2, { type: "real" }, "x"), 2);
});

Deno.test("valueToWire() writes scalars, sets and maps as RFC 7047 §5.1 says", () => {
  assert.equal(valueToWire("sw0", type("Switch", "name"), "n"), "sw0");
  assert.deepEqual(valueToWire([U1, "p2"], type("Switch", "ports"), "p"), [
    "set",
    [["uuid", U1], ["named-uuid", "p2"]],
  ]);
  assert.deepEqual(valueToWire("a b", type("Port", "addresses"), "a"), ["set", ["a b"]]);
  assert.deepEqual(valueToWire(undefined, type("Port", "tag"), "t"), ["set", []]);
  assert.deepEqual(valueToWire({ k: "v" }, type("Switch", "external_ids"), "e"), [
    "map",
    [["k", "v"]],
  ]);
  assert.deepEqual(valueToWire({ 10: U1 }, type("Switch", "vlans"), "v"), [
    "map",
    [[10, ["uuid", U1]]],
  ]);
  assert.deepEqual(valueToWire(new Map([[7, "p"]]), type("Switch", "vlans"), "v"), [
    "map",
    [[7, ["named-uuid", "p"]]],
  ]);
  assert.throws(() => valueToWire(["x"], type("Switch", "external_ids"), "e"), OvsdbError);
});

Deno.test("valueFromWire() reads bare atoms and sets into arrays, maps into objects", () => {
  assert.deepEqual(valueFromWire(["uuid", U1], type("Switch", "ports"), "p"), [U1]);
  assert.deepEqual(
    valueFromWire(["set", [["uuid", U1], ["uuid", U2]]], type("Switch", "ports"), "p"),
    [U1, U2],
  );
  assert.deepEqual(valueFromWire(["set", []], type("Port", "tag"), "t"), []);
  assert.equal(valueFromWire(["set", [true]], type("Port", "enabled"), "e"), true);
  assert.deepEqual(valueFromWire(["map", [[4, ["uuid", U1]]]], type("Switch", "vlans"), "v"), {
    4: U1,
  });
  assert.throws(() => valueFromWire(["map", [[1]]], type("Switch", "vlans"), "v"), OvsdbError);
  assert.throws(() => valueFromWire("x", type("Port", "enabled"), "e"), OvsdbError);
});

Deno.test("rowToWire() and rowFromWire() round-trip and fill defaults", () => {
  const ts = TEST_SCHEMA.tables.Port!;
  const row = {
    name: "p",
    addresses: ["a"],
    tag: [5],
    up: [],
    enabled: true,
    weight: 0.5,
    kind: "a",
  };
  const wire = rowToWire({ ...row, _uuid: U1, skipped: undefined }, ts, "Port");
  assert.equal("_uuid" in wire, false);
  assert.deepEqual(rowFromWire(wire, ts, "Port"), row);
  assert.deepEqual(rowFromWire({ name: "q" }, ts, "Port", ["name", "tag", "enabled", "weight"]), {
    name: "q",
    tag: [],
    enabled: false,
    weight: 0,
  });
  assert.throws(
    () => rowToWire({ nope: 1 }, ts, "Port"),
    (e: unknown) =>
      e instanceof OvsdbError && e.kind === "schema" && e.message.includes("Port.nope"),
  );
});

Deno.test("defaultValue() gives the type's default", () => {
  assert.equal(defaultValue(type("Switch", "name")), "");
  assert.deepEqual(defaultValue(type("Switch", "ports")), []);
  assert.deepEqual(defaultValue(type("Switch", "external_ids")), {});
  assert.equal(defaultValue({ key: { type: "uuid" }, min: 1, max: 1 }), ZERO_UUID);
});

Deno.test("applyDiff() follows update2 modify semantics for sets, maps and scalars", () => {
  assert.deepEqual(
    applyDiff([U1], ["set", [["uuid", U1], ["uuid", U2]]], type("Switch", "ports"), "p"),
    [U2],
  );
  assert.deepEqual(
    applyDiff(
      { a: "1", b: "2" },
      ["map", [["a", "1"], ["b", "3"], ["c", "4"]]],
      type("Switch", "external_ids"),
      "e",
    ),
    { b: "3", c: "4" },
  );
  assert.equal(applyDiff("old", "new", type("Switch", "name"), "n"), "new");
  assert.deepEqual(applyDiff([], 7, type("Port", "tag"), "t"), [7]);
  // Optional values are replaced, as ovsdb-server sends them (cleared: an empty set).
  assert.deepEqual(applyDiff([5], 7, type("Port", "tag"), "t"), [7]);
  assert.deepEqual(applyDiff([5], ["set", []], type("Port", "tag"), "t"), []);
});

Deno.test("applyDiff() toggles set members of a large set, keeping the others in order", () => {
  const uuids = Array.from(
    { length: 10_000 },
    (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
  );
  const gone = [uuids[0]!, uuids[5_000]!, uuids[9_999]!];
  const added = "ffffffff-0000-4000-8000-000000000000";
  const out = applyDiff(
    uuids,
    ["set", [...gone, added].map((u) => ["uuid", u])],
    type("Switch", "ports"),
    "p",
  ) as string[];
  assert.equal(out.length, 9_998);
  assert.deepEqual(out.slice(0, 2), [uuids[1], uuids[2]]);
  assert.equal(out.at(-1), added);
  for (const g of gone) assert.equal(out.includes(g), false);
  assert.equal(uuids.length, 10_000, "the old value is not changed");
});

Deno.test("valuesEqual() compares sets regardless of order", () => {
  assert.equal(valuesEqual([1, 2], [2, 1]), true);
  assert.equal(valuesEqual([1, 2], [1, 3]), false);
  assert.equal(valuesEqual({ a: [1], b: "x" }, { b: "x", a: [1] }), true);
  assert.equal(valuesEqual({ a: "1" }, { a: "1", b: "2" }), false);
  assert.equal(valuesEqual([], {}), false);
});

Deno.test("rowFromWire() reads every wire form as valueFromWire() does", () => {
  const cases: Record<string, Record<string, unknown[]>> = {
    Switch: {
      name: ["a", ["set", ["b"]]],
      ports: [["uuid", U1], ["set", []], ["set", [["uuid", U1], ["uuid", U2]]], [
        "named-uuid",
        "p1",
      ]],
      external_ids: [["map", []], ["map", [["k", "v"], ["a.b/c", ""]]]],
      vlans: [["map", [[4, ["uuid", U1]]]]],
    },
    Port: {
      addresses: ["x y", ["set", ["a", "b"]], ["set", []]],
      tag: [5, ["set", [7]], ["set", []]],
      up: [true, ["set", [false]]],
      enabled: [false, ["set", [true]]],
      weight: [1.5],
      kind: ["a"],
    },
  };
  for (const [table, columns] of Object.entries(cases)) {
    const ts = TEST_SCHEMA.tables[table]!;
    const list = Object.keys(columns);
    for (const [col, wires] of Object.entries(columns)) {
      for (const w of wires) {
        const got = rowFromWire({ [col]: w, _uuid: ["uuid", U2] }, ts, table, list);
        assert.deepEqual(got[col], valueFromWire(w, type(table, col), "x"), `${col} ${show(w)}`);
        assert.equal(got._uuid, U2);
      }
    }
  }
});

Deno.test("rowFromWire() rejects malformed values naming the column", () => {
  const ts = TEST_SCHEMA.tables.Port!;
  const list = ["name", "addresses", "tag"];
  for (const bad of [{ name: 1 }, { addresses: ["set", [1]] }, { tag: "x" }, { tag: ["set", 3] }]) {
    assert.throws(
      () => rowFromWire(bad, ts, "Port", list),
      (e: unknown) =>
        e instanceof OvsdbError && e.kind === "protocol" &&
        e.message.includes(`Port.${Object.keys(bad)[0]}`),
      show(bad),
    );
  }
  const sw = TEST_SCHEMA.tables.Switch!;
  assert.throws(
    () => rowFromWire({ external_ids: ["map", [["k", 1]]] }, sw, "Switch", ["external_ids"]),
    /Switch\.external_ids/,
  );
});

Deno.test("rowFromWire() fills defaults per row and skips unknown columns", () => {
  const ts = TEST_SCHEMA.tables.Port!;
  const list = ["name", "addresses", "up"];
  const a = rowFromWire({ name: "a", newer: 1 }, ts, "Port", list);
  const b = rowFromWire({ addresses: "m ip" }, ts, "Port", list);
  assert.deepEqual(a, { name: "a", addresses: [], up: [] });
  assert.deepEqual(b, { name: "", addresses: ["m ip"], up: [] });
  assert.notEqual(a.up, b.up, "defaults are not shared between rows");
  assert.deepEqual(rowFromWire({ weight: 2, _version: ["uuid", U1] }, ts, "Port"), {
    weight: 2,
    _version: U1,
  });
});

function show(v: unknown): string {
  return JSON.stringify(v);
}

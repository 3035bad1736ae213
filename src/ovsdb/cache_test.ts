import assert from "node:assert/strict";
import { OvsdbError } from "./errors.ts";
import { type CachedRow, OvsdbCache, type RowChange } from "./cache.ts";
import { TEST_SCHEMA } from "./_test_schema.ts";

const U1 = "0b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const U2 = "1b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const U3 = "2b1e4b5a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const COLS = new Map([["Switch", ["name", "ports", "external_ids"]]]);

function withLog(cache: OvsdbCache) {
  const log: string[] = [];
  cache.on(
    "change",
    (c: RowChange<CachedRow>) =>
      log.push(`${c.kind} ${c.table} ${c.uuid.slice(0, 1)} ${c.new?.name ?? c.old?.name}`),
  );
  return log;
}

Deno.test("OvsdbCache.applyUpdates2() applies initial, insert, modify and delete with events", () => {
  const cache = new OvsdbCache();
  const log = withLog(cache);
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U1]: { initial: { name: "a" } } } }, COLS);
  assert.deepEqual(cache.table("Switch").get(U1), {
    name: "a",
    ports: [],
    external_ids: {},
    _uuid: U1,
  });
  const before = cache.table("Switch").get(U1);
  cache.applyUpdates2(TEST_SCHEMA, {
    Switch: {
      [U1]: { modify: { ports: ["uuid", U3], external_ids: ["map", [["k", "v"]]] } },
      [U2]: { insert: { name: "b" } },
    },
  }, COLS);
  assert.deepEqual(cache.table("Switch").get(U1)?.ports, [U3]);
  assert.deepEqual(cache.table("Switch").get(U1)?.external_ids, { k: "v" });
  assert.deepEqual(before?.ports, [], "old rows are never changed in place");
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U2]: { delete: null } } }, COLS);
  assert.equal(cache.table("Switch").size, 1);
  assert.deepEqual(log, [
    "insert Switch 0 a",
    "update Switch 0 a",
    "insert Switch 1 b",
    "delete Switch 1 b",
  ]);
});

Deno.test("OvsdbCache.applyUpdates() applies RFC 7047 update notifications", () => {
  const cache = new OvsdbCache();
  const log = withLog(cache);
  cache.applyUpdates(
    TEST_SCHEMA,
    { Switch: { [U1]: { new: { name: "a", ports: ["set", []] } } } },
    COLS,
  );
  cache.applyUpdates(
    TEST_SCHEMA,
    { Switch: { [U1]: { old: { name: "a" }, new: { name: "z" } } } },
    COLS,
  );
  assert.deepEqual(cache.table("Switch").get(U1), {
    name: "z",
    ports: [],
    external_ids: {},
    _uuid: U1,
  });
  cache.applyUpdates(TEST_SCHEMA, { Switch: { [U1]: { old: { name: "z" } } } }, COLS);
  assert.equal(cache.table("Switch").size, 0);
  assert.deepEqual(log, ["insert Switch 0 a", "update Switch 0 z", "delete Switch 0 z"]);
});

Deno.test("OvsdbCache.resync() emits only the differences with the fresh state", () => {
  const cache = new OvsdbCache();
  cache.applyUpdates2(TEST_SCHEMA, {
    Switch: { [U1]: { initial: { name: "same" } }, [U2]: { initial: { name: "gone" } } },
  }, COLS);
  const same = cache.table("Switch").get(U1);
  const log = withLog(cache);
  cache.resync(["Switch", "Port"], (c) =>
    c.applyUpdates2(TEST_SCHEMA, {
      Switch: { [U1]: { initial: { name: "same" } }, [U3]: { initial: { name: "new" } } },
    }, COLS));
  assert.deepEqual(log.sort(), ["delete Switch 1 gone", "insert Switch 2 new"]);
  assert.equal(cache.table("Switch").get(U1), same, "unchanged rows keep their identity");
  assert.deepEqual(cache.table("Switch").all().map((r) => r.name).sort(), ["new", "same"]);
});

Deno.test("TableCache lookups find rows by predicate and column value", () => {
  const cache = new OvsdbCache();
  cache.applyUpdates2(TEST_SCHEMA, {
    Switch: {
      [U1]: { initial: { name: "a", external_ids: ["map", [["k", "1"]]] } },
      [U2]: { initial: { name: "b" } },
    },
  }, COLS);
  const t = cache.table("Switch");
  assert.equal(t.find((r) => r.name === "b")?._uuid, U2);
  assert.equal(t.findBy("external_ids", { k: "1" })?._uuid, U1);
  assert.equal(t.findBy("name", "zzz"), undefined);
  assert.equal(t.filter((r) => typeof r.name === "string").length, 2);
  assert.equal([...t].length, 2);
  assert.equal(cache.table("Unmonitored").size, 0);
});

Deno.test("OvsdbCache listeners that throw do not stop the others", () => {
  const errors: unknown[] = [];
  const cache = new OvsdbCache((e) => errors.push(e));
  const seen: string[] = [];
  cache.on("change", () => {
    throw new Error("boom");
  });
  const off = cache.on("change", (c) => seen.push(c.uuid));
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U1]: { insert: { name: "a" } } } }, COLS);
  off();
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U2]: { insert: { name: "b" } } } }, COLS);
  assert.deepEqual(seen, [U1]);
  assert.equal(errors.length, 2);
});

Deno.test("OvsdbCache.waitFor() resolves on a matching change and times out otherwise", async () => {
  const cache = new OvsdbCache();
  const p = cache.waitFor("Switch", (r) => r.name === "later");
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U1]: { insert: { name: "other" } } } }, COLS);
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U2]: { insert: { name: "later" } } } }, COLS);
  assert.equal((await p)._uuid, U2);
  assert.equal((await cache.waitFor("Switch", (r) => r.name === "other"))._uuid, U1);
  await assert.rejects(
    cache.waitFor("Switch", () => false, { timeoutMs: 10 }),
    (e: unknown) => e instanceof OvsdbError && e.kind === "timeout",
  );
});

Deno.test("OvsdbCache.applyUpdates2() rejects malformed updates", () => {
  const cache = new OvsdbCache();
  assert.throws(() => cache.applyUpdates2(TEST_SCHEMA, [1], COLS), OvsdbError);
  assert.throws(
    () => cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U1]: { insert: { name: 5 } } } }, COLS),
    (e: unknown) => e instanceof OvsdbError && e.kind === "protocol",
  );
});

Deno.test("OvsdbCache.waitFor() sees a change applied right after the call, before any await", async () => {
  const cache = new OvsdbCache();
  cache.applyUpdates2(TEST_SCHEMA, { Switch: { [U1]: { initial: { name: "a" } } } }, COLS);
  const waiting = cache.waitFor(
    "Switch",
    (r) => (r.external_ids as Record<string, string>)["k"] === "v",
    {
      timeoutMs: 1_000,
    },
  );
  cache.applyUpdates2(
    TEST_SCHEMA,
    { Switch: { [U1]: { modify: { external_ids: ["map", [["k", "v"]]] } } } },
    COLS,
  );
  assert.equal((await waiting)._uuid, U1);
});

Deno.test("OvsdbCache.resync() loads empty tables directly with the same events as a diff", () => {
  const reply = {
    // Tables in another order than the monitor's, and one the monitor does not cover.
    Port: { [U3]: { initial: { name: "p" } } },
    Switch: { [U2]: { initial: { name: "b" } }, [U1]: { initial: { name: "a" } } },
    Other: { [U1]: { initial: { name: "x" } } },
  };
  const cols = new Map([...COLS, ["Port", ["name", "addresses"]]]);
  const cache = new OvsdbCache();
  const seen: RowChange<CachedRow>[] = [];
  const sizes: number[] = [];
  cache.on("change", (c: RowChange<CachedRow>) => {
    seen.push(c);
    sizes.push(cache.table("Switch").size + cache.table("Port").size);
  });
  cache.resync(["Switch", "Port"], (c) => c.applyUpdates2(TEST_SCHEMA, reply, cols));
  const row = (t: string, u: string) => cache.table(t).get(u);
  assert.deepEqual(seen, [
    { table: "Switch", uuid: U2, kind: "insert", old: undefined, new: row("Switch", U2) },
    { table: "Switch", uuid: U1, kind: "insert", old: undefined, new: row("Switch", U1) },
    { table: "Port", uuid: U3, kind: "insert", old: undefined, new: row("Port", U3) },
  ]);
  assert.deepEqual(sizes, [3, 3, 3], "listeners see the whole load");
  assert.deepEqual(row("Port", U3), { name: "p", addresses: [], _uuid: U3 });
  assert.equal(cache.table("Other").size, 0, "tables outside the monitor are not kept");

  // The same reply through the diff path (a table not empty) gives the same events.
  const other = new OvsdbCache();
  other.applyUpdates2(TEST_SCHEMA, { Port: { [U1]: { initial: { name: "old" } } } }, cols);
  const diffed: RowChange<CachedRow>[] = [];
  other.on("change", (c: RowChange<CachedRow>) => diffed.push(c));
  other.resync(["Switch", "Port"], (c) => c.applyUpdates2(TEST_SCHEMA, reply, cols));
  assert.deepEqual(diffed.filter((c) => c.kind === "insert"), seen);
});

Deno.test("OvsdbCache.resync() leaves the tables empty when a direct load fails", () => {
  const cache = new OvsdbCache();
  const log = withLog(cache);
  assert.throws(
    () =>
      cache.resync(["Switch"], (c) =>
        c.applyUpdates2(TEST_SCHEMA, {
          Switch: { [U1]: { initial: { name: "a" } }, [U2]: { initial: { name: 5 } } },
        }, COLS)),
    OvsdbError,
  );
  assert.equal(cache.table("Switch").size, 0);
  assert.deepEqual(log, []);
  cache.resync(
    ["Switch"],
    (c) => c.applyUpdates2(TEST_SCHEMA, { Switch: { [U1]: { initial: { name: "a" } } } }, COLS),
  );
  assert.deepEqual(log, ["insert Switch 0 a"]);
});

Deno.test("OvsdbCache.resync() through RFC 7047 monitor replies loads empty tables too", () => {
  const cache = new OvsdbCache();
  const log = withLog(cache);
  cache.resync(
    ["Switch"],
    (c) => c.applyUpdates(TEST_SCHEMA, { Switch: { [U1]: { new: { name: "a" } } } }, COLS),
  );
  cache.resync(
    ["Switch"],
    (c) => c.applyUpdates(TEST_SCHEMA, { Switch: { [U1]: { new: { name: "b" } } } }, COLS),
  );
  assert.deepEqual(log, ["insert Switch 0 a", "update Switch 0 b"]);
  assert.deepEqual(cache.table("Switch").get(U1), {
    name: "b",
    ports: [],
    external_ids: {},
    _uuid: U1,
  });
});

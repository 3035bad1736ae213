/**
 * RFC 7047 §5.1 notation <-> plain JavaScript. The ONLY module that knows the wire forms
 * `["uuid", s]`, `["named-uuid", s]`, `["set", [...]]` and `["map", [[k, v], ...]]`.
 *
 * Plain JavaScript forms, chosen from the column type (schema-driven, like ovsdb-idl):
 * - scalar columns (`min` = `max` = 1): the atom itself;
 * - every other non-map column (optional values and sets): an array of atoms;
 * - maps: a plain object `Record<key, value>` (integer keys become their decimal string
 *   as JS object keys always do, and are converted back on the way out);
 * - uuids: their canonical string `"8-4-4-4-12"`; a string that is an identifier
 *   (`[_a-zA-Z][_a-zA-Z0-9]*`, which a UUID never is) in a uuid position means a
 *   `named-uuid` (RFC 7047 §5.2.1 `uuid-name`) of the same transaction.
 *
 * @module
 */
import { OvsdbError } from "./errors.ts";
import type { BaseType, ColumnType, TableSchema } from "./schema.ts";

/** A plain atom: uuids are strings. */
export type Atom = string | number | boolean;
/** A plain column value: an atom, an array of atoms (sets), or an object (maps). */
export type Value = Atom | Atom[] | Record<string, Atom>;
/** A plain row: column name -> value. Cache rows also carry `_uuid`. */
export type Row = Record<string, Value>;

/** An atom on the wire. */
export type WireAtom = string | number | boolean | ["uuid", string] | ["named-uuid", string];
/** A value on the wire. */
export type WireValue = WireAtom | ["set", WireAtom[]] | ["map", [WireAtom, WireAtom][]];
/** A row on the wire. */
export type WireRow = Record<string, WireValue>;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ID_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** The all-zero uuid (default of uuid atoms; "no transaction" for monitor_cond_since). */
export const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * Tells whether a string is a canonical UUID.
 *
 * @param s candidate
 * @returns true for `8-4-4-4-12` hex
 */
export function isUuid(s: unknown): s is string {
  return typeof s === "string" && UUID_RE.test(s);
}

/**
 * Tells whether a string can be a `uuid-name` (a named uuid of a transaction).
 *
 * @param s candidate
 * @returns true for `[_a-zA-Z][_a-zA-Z0-9]*`
 */
export function isNamedUuid(s: unknown): s is string {
  return typeof s === "string" && ID_RE.test(s);
}

/**
 * Validates a name for use as `uuid-name` and as a reference to that row.
 *
 * @param name identifier, e.g. `lsp0`
 * @returns the same name
 * @throws {TypeError} when not an identifier
 */
export function namedUuid(name: string): string {
  if (!isNamedUuid(name)) {
    throw new TypeError(
      `Cannot use "${name}" as a named uuid: it must match [_a-zA-Z][_a-zA-Z0-9]*`,
    );
  }
  return name;
}

function notationError(where: string, what: string): OvsdbError {
  return new OvsdbError("schema", `Cannot convert ${where}: ${what}`);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Converts a plain atom to the wire.
 *
 * @param v plain atom
 * @param base its base type
 * @param where location for errors (`Table.column`)
 * @returns the wire atom
 * @throws {OvsdbError} kind `schema` when the value does not fit the type
 */
export function atomToWire(v: unknown, base: BaseType, where: string): WireAtom {
  switch (base.type) {
    case "uuid":
      if (isUuid(v)) return ["uuid", v.toLowerCase()];
      if (isNamedUuid(v)) return ["named-uuid", v];
      throw notationError(where, `${show(v)} is neither a UUID nor a named uuid`);
    case "integer":
      if (typeof v === "number" && Number.isInteger(v)) return v;
      if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
      throw notationError(where, `${show(v)} is not an integer`);
    case "real":
      if (typeof v === "number" && Number.isFinite(v)) return v;
      throw notationError(where, `${show(v)} is not a real number`);
    case "boolean":
      if (typeof v === "boolean") return v;
      throw notationError(where, `${show(v)} is not a boolean`);
    case "string":
      if (typeof v === "string") return v;
      throw notationError(where, `${show(v)} is not a string`);
    default: {
      const never: never = base.type;
      throw notationError(where, `unknown type ${show(never)}`);
    }
  }
}

/**
 * Converts a wire atom to plain.
 *
 * @param w wire atom
 * @param base its base type
 * @param where location for errors
 * @returns the plain atom
 * @throws {OvsdbError} kind `protocol` when the server sent something else
 */
export function atomFromWire(w: unknown, base: BaseType, where: string): Atom {
  if (base.type === "uuid") {
    if (
      Array.isArray(w) && (w[0] === "uuid" || w[0] === "named-uuid") && typeof w[1] === "string"
    ) {
      return w[1];
    }
  } else if (base.type === "integer" || base.type === "real") {
    if (typeof w === "number") return w;
  } else if (base.type === "boolean" ? typeof w === "boolean" : typeof w === "string") {
    return w as Atom;
  }
  throw new OvsdbError("protocol", `Cannot read ${where}: ${show(w)} is not a ${base.type}`);
}

/**
 * Tells whether a column holds one atom (as opposed to an array or a map).
 *
 * @param type column type
 * @returns true for `min` = `max` = 1 without value type
 */
export function isScalar(type: ColumnType): boolean {
  return type.value === undefined && type.min === 1 && type.max === 1;
}

/**
 * The default value of a column type, in plain form.
 *
 * @param type column type
 * @returns `0`, `""`, `false`, the zero uuid, `[]` or `{}`
 */
export function defaultValue(type: ColumnType): Value {
  if (type.value !== undefined) return {};
  if (!isScalar(type)) return [];
  switch (type.key.type) {
    case "integer":
    case "real":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
  }
}

function mapKeyToWire(k: string, base: BaseType, where: string): WireAtom {
  if (base.type === "integer" || base.type === "real") {
    const n = Number(k);
    if (k.trim() === "" || !Number.isFinite(n)) {
      throw notationError(where, `map key ${show(k)} is not a number`);
    }
    return atomToWire(n, base, where);
  }
  if (base.type === "boolean") return atomToWire(k === "true", base, where);
  return atomToWire(k, base, where);
}

/**
 * Converts a plain value to the wire.
 *
 * Sets accept an array, a single atom, or `undefined`/`null` (empty); maps accept a
 * plain object or a `Map`.
 *
 * @param v plain value
 * @param type column type
 * @param where location for errors (`Table.column`)
 * @returns the wire value
 * @throws {OvsdbError} kind `schema` when the value does not fit the type
 */
export function valueToWire(v: unknown, type: ColumnType, where: string): WireValue {
  if (type.value !== undefined) {
    const vt = type.value;
    const entries = v instanceof Map
      ? [...v.entries()]
      : typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.entries(v)
      : v === undefined || v === null
      ? []
      : null;
    if (entries === null) throw notationError(where, `${show(v)} is not a map (plain object)`);
    return [
      "map",
      entries.map(([k, x]) => [
        typeof k === "string" ? mapKeyToWire(k, type.key, where) : atomToWire(k, type.key, where),
        atomToWire(x, vt, where),
      ]),
    ];
  }
  if (isScalar(type)) {
    if (Array.isArray(v) && v.length === 1) return atomToWire(v[0], type.key, where);
    return atomToWire(v, type.key, where);
  }
  if (v === undefined || v === null) return ["set", []];
  const arr = Array.isArray(v) ? v : v instanceof Set ? [...v] : [v];
  return ["set", arr.map((x) => atomToWire(x, type.key, where))];
}

/**
 * Converts a wire value to plain.
 *
 * @param w wire value
 * @param type column type
 * @param where location for errors
 * @returns the plain value
 * @throws {OvsdbError} kind `protocol` when malformed
 */
export function valueFromWire(w: unknown, type: ColumnType, where: string): Value {
  if (type.value !== undefined) {
    if (!Array.isArray(w) || w[0] !== "map" || !Array.isArray(w[1])) {
      throw new OvsdbError("protocol", `Cannot read ${where}: ${show(w)} is not a map`);
    }
    const out: Record<string, Atom> = {};
    for (const pair of w[1] as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new OvsdbError("protocol", `Cannot read ${where}: bad map pair ${show(pair)}`);
      }
      out[String(atomFromWire(pair[0], type.key, where))] = atomFromWire(
        pair[1],
        type.value,
        where,
      );
    }
    return out;
  }
  const isSet = Array.isArray(w) && w[0] === "set";
  if (isSet && !Array.isArray(w[1])) {
    throw new OvsdbError("protocol", `Cannot read ${where}: ${show(w)} is not a set`);
  }
  const atoms = isSet ? (w[1] as unknown[]).map((x) => atomFromWire(x, type.key, where)) : [
    atomFromWire(w, type.key, where),
  ];
  if (isScalar(type)) {
    const a = atoms[0];
    if (atoms.length !== 1 || a === undefined) {
      throw new OvsdbError("protocol", `Cannot read ${where}: expected one value, got ${show(w)}`);
    }
    return a;
  }
  return atoms;
}

function columnOf(table: TableSchema, tableName: string, column: string): ColumnType {
  const c = table.columns[column];
  if (!c) {
    throw new OvsdbError(
      "schema",
      `Cannot use column "${tableName}.${column}": the server's schema has no such column; ` +
        `check the name or regenerate the models (deno task gen-models)`,
    );
  }
  return c.type;
}

/**
 * Converts a plain row (or partial row) to the wire. `undefined` members are skipped;
 * `_uuid` and `_version` are never sent.
 *
 * @param row plain row
 * @param table the table's schema
 * @param tableName table name for errors
 * @returns the wire row
 * @throws {OvsdbError} kind `schema` for unknown columns or values that do not fit
 */
export function rowToWire(row: object, table: TableSchema, tableName: string): WireRow {
  const out: WireRow = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === undefined || k === "_uuid" || k === "_version") continue;
    out[k] = valueToWire(v, columnOf(table, tableName, k), `${tableName}.${k}`);
  }
  return out;
}

/**
 * Converts a wire row to plain. Unknown columns (the server is newer) are skipped.
 *
 * @param w wire row
 * @param table the table's schema
 * @param tableName table name for errors
 * @param columns when given, these columns missing from `w` get their default value
 *   (update2 `initial`/`insert` rows omit defaults)
 * @returns the plain row
 * @throws {OvsdbError} kind `protocol` when malformed
 */
export function rowFromWire(
  w: unknown,
  table: TableSchema,
  tableName: string,
  columns?: readonly string[],
): Row {
  if (typeof w !== "object" || w === null || Array.isArray(w)) {
    throw new OvsdbError("protocol", `Cannot read a ${tableName} row: ${show(w)} is not an object`);
  }
  const reader = rowReader(table, tableName, columns);
  const src = w as Record<string, unknown>;
  const out: Row = {};
  // The requested columns first, in their order (one object shape for every row).
  for (const col of reader.listed) {
    const v = src[col.name];
    out[col.name] = v === undefined ? defaultValue(col.type) : col.read(v);
  }
  for (const k in src) {
    if (reader.listedNames.has(k)) continue;
    if (k === "_uuid" || k === "_version") {
      out[k] = atomFromWire(src[k], UUID_BASE, `${tableName}.${k}`);
      continue;
    }
    const col = reader.all.get(k);
    if (col) out[k] = col.read(src[k]);
  }
  return out;
}

const UUID_BASE: BaseType = { type: "uuid" };

/** Reads one column's wire value; the common shapes without allocating more than the result. */
interface ColumnReader {
  name: string;
  type: ColumnType;
  read: (w: unknown) => Value;
}

/** The column readers of one table, and of the columns of one monitor. */
interface RowReader {
  all: Map<string, ColumnReader>;
  listed: ColumnReader[];
  listedNames: Set<string>;
}

/** Per table schema: readers of all columns, and per requested column list (by identity). */
const rowReaders = new WeakMap<
  TableSchema,
  { all: Map<string, ColumnReader>; none: RowReader; byColumns: WeakMap<object, RowReader> }
>();

/**
 * The readers of a table for a column list. Rows come in batches of thousands with the
 * same column list (the monitor's), so the readers are built once per list and the
 * per-row work is a few type checks per column: no `where` strings, entry arrays or
 * closures per value (the wire forms outside the fast paths go through `valueFromWire`,
 * which also makes the errors).
 */
function rowReader(table: TableSchema, tableName: string, columns?: readonly string[]): RowReader {
  let t = rowReaders.get(table);
  if (!t) {
    const all = new Map<string, ColumnReader>();
    for (const [name, cs] of Object.entries(table.columns)) {
      all.set(name, { name, type: cs.type, read: columnReader(cs.type, `${tableName}.${name}`) });
    }
    t = { all, none: { all, listed: [], listedNames: new Set() }, byColumns: new WeakMap() };
    rowReaders.set(table, t);
  }
  if (!columns || columns.length === 0) return t.none;
  let r = t.byColumns.get(columns);
  if (!r) {
    const listed: ColumnReader[] = [];
    for (const c of columns) {
      const col = t.all.get(c);
      if (col && !listed.includes(col)) listed.push(col);
    }
    r = { all: t.all, listed, listedNames: new Set(listed.map((c) => c.name)) };
    t.byColumns.set(columns, r);
  }
  return r;
}

/** Checks and returns an atom of a base type in its usual wire form, else undefined. */
function fastAtom(type: BaseType["type"]): (x: unknown) => Atom | undefined {
  switch (type) {
    case "string":
      return (x) => typeof x === "string" ? x : undefined;
    case "integer":
    case "real":
      return (x) => typeof x === "number" ? x : undefined;
    case "boolean":
      return (x) => typeof x === "boolean" ? x : undefined;
    case "uuid":
      return (x) =>
        Array.isArray(x) && x.length === 2 && x[0] === "uuid" && typeof x[1] === "string"
          ? x[1]
          : undefined;
  }
}

function columnReader(type: ColumnType, where: string): (w: unknown) => Value {
  const slow = (w: unknown) => valueFromWire(w, type, where);
  const key = fastAtom(type.key.type);
  if (type.value !== undefined) {
    const value = fastAtom(type.value.type);
    if (type.key.type !== "string") return slow; // integer keys: the slow path formats them
    return (w) => {
      if (!Array.isArray(w) || w[0] !== "map" || !Array.isArray(w[1])) return slow(w);
      const out: Record<string, Atom> = {};
      for (const pair of w[1] as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) return slow(w);
        const k = key(pair[0]), v = value(pair[1]);
        if (k === undefined || v === undefined) return slow(w);
        out[k as string] = v;
      }
      return out;
    };
  }
  if (isScalar(type)) {
    return (w) => {
      const a = key(w);
      return a === undefined ? slow(w) : a;
    };
  }
  return (w) => {
    if (Array.isArray(w) && w[0] === "set") {
      const atoms = w[1];
      if (!Array.isArray(atoms)) return slow(w);
      const out: Atom[] = new Array(atoms.length);
      for (let i = 0; i < atoms.length; i++) {
        const a = key(atoms[i]);
        if (a === undefined) return slow(w);
        out[i] = a;
      }
      return out;
    }
    const a = key(w);
    return a === undefined ? slow(w) : [a];
  };
}

/**
 * Applies an update2 "modify" difference (ovsdb-server(7) §4.1.14) to a plain value:
 * columns of at most one value (scalars and optional values) are replaced, sets toggle
 * the listed elements, maps remove keys given with their current value, and add or
 * replace the others.
 *
 * @param old current plain value
 * @param diff wire difference
 * @param type column type
 * @param where location for errors
 * @returns the new plain value (a new object; `old` is not changed)
 */
export function applyDiff(old: Value | undefined, diff: unknown, type: ColumnType, where: string) {
  const d = valueFromWire(
    diff,
    isScalar(type) ? type : { ...type, min: 0, max: Infinity },
    where,
  );
  // Columns of at most one value carry the new value, not a difference (ovsdb-server 3.1
  // sends ["set", []] when an optional value is cleared).
  if (isScalar(type) || (type.value === undefined && type.max === 1)) return d;
  if (type.value !== undefined) {
    // Object.assign, not spread: V8's spread of a large map object slows down 100-1000x
    // once the heap holds many objects with distinct keys (10,000 load balancers' vips).
    const out: Record<string, Atom> = Object.assign({}, old as Record<string, Atom> | undefined);
    for (const [k, v] of Object.entries(d as Record<string, Atom>)) {
      if (k in out && out[k] === v) delete out[k];
      else out[k] = v;
    }
    return out;
  }
  // Sets toggle each listed element. Linear in set + diff (a 10,000-member set, such as a
  // load balancer group's, must not cost an indexOf per element).
  const toggles = new Set<Atom>();
  for (const a of d as Atom[]) {
    if (toggles.has(a)) toggles.delete(a);
    else toggles.add(a);
  }
  const out: Atom[] = [];
  const removed = new Set<Atom>();
  for (const a of (Array.isArray(old) ? old : []) as Atom[]) {
    if (toggles.has(a)) removed.add(a);
    else out.push(a);
  }
  for (const a of toggles) if (!removed.has(a)) out.push(a);
  return out;
}

/**
 * Deep equality of plain values, with sets compared as sets (order ignored).
 *
 * @param a one value
 * @param b another
 * @returns true when equal
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    if (a.every((x, i) => x === b[i])) return true;
    const s = new Set(a);
    return b.every((x) => s.has(x));
  }
  if (typeof a === "object" && typeof b === "object" && a && b) {
    if (Array.isArray(a) || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) =>
      valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
  }
  return false;
}

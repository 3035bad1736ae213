/**
 * Database schemas (RFC 7047 §3.2) parsed into normalized column types, plus the
 * check that a server's schema has every table and column a caller relies on.
 *
 * @module
 */
import { OvsdbError } from "./errors.ts";

/** The five atomic types. */
export type AtomicType = "integer" | "real" | "boolean" | "string" | "uuid";

/** A normalized `<base-type>`. */
export interface BaseType {
  /** The atomic type. */
  type: AtomicType;
  /** Allowed values, when constrained. */
  enum?: readonly (string | number | boolean)[];
  /** For uuids: the referenced table. */
  refTable?: string;
  /** For uuids: strong (default) or weak reference. */
  refType?: "strong" | "weak";
  /** Integer bounds. */
  minInteger?: number;
  /** Integer bounds. */
  maxInteger?: number;
  /** Real bounds. */
  minReal?: number;
  /** Real bounds. */
  maxReal?: number;
  /** String length bounds. */
  minLength?: number;
  /** String length bounds. */
  maxLength?: number;
}

/** A normalized `<type>`: key, optional value (maps), min and max. */
export interface ColumnType {
  /** The key (or only) type. */
  key: BaseType;
  /** The value type, for maps. */
  value?: BaseType;
  /** Minimum number of elements (0 or 1). */
  min: number;
  /** Maximum number of elements, or `Infinity` for "unlimited". */
  max: number;
}

/** One column. */
export interface ColumnSchema {
  /** Its type. */
  type: ColumnType;
  /** Whether the server may change it on its own. */
  ephemeral: boolean;
  /** Whether clients may change it. */
  mutable: boolean;
}

/** One table. */
export interface TableSchema {
  /** Its columns by name (without `_uuid`/`_version`). */
  columns: Record<string, ColumnSchema>;
  /** Root tables keep unreferenced rows. */
  isRoot: boolean;
  /** Maximum row count, if any. */
  maxRows?: number;
  /** Column sets that must be unique. */
  indexes: readonly (readonly string[])[];
}

/** A parsed database schema. */
export interface DatabaseSchema {
  /** Database name, e.g. `OVN_Northbound`. */
  name: string;
  /** Schema version, e.g. `7.0.0`. */
  version: string;
  /** Tables by name. */
  tables: Record<string, TableSchema>;
}

/** Type of the implicit `_uuid` and `_version` columns. */
export const UUID_COLUMN: ColumnType = { key: { type: "uuid" }, min: 1, max: 1 };

const ATOMIC = new Set(["integer", "real", "boolean", "string", "uuid"]);

function fail(where: string, what: string): never {
  throw new OvsdbError("schema", `Cannot parse schema: ${where}: ${what}`);
}

function parseBase(json: unknown, where: string): BaseType {
  if (typeof json === "string") {
    if (!ATOMIC.has(json)) fail(where, `unknown atomic type "${json}"`);
    return { type: json as AtomicType };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(where, `expected a base type, got ${JSON.stringify(json)}`);
  }
  const o = json as Record<string, unknown>;
  if (typeof o.type !== "string" || !ATOMIC.has(o.type)) {
    fail(where, `unknown atomic type ${JSON.stringify(o.type)}`);
  }
  const base: BaseType = { type: o.type as AtomicType };
  if (o.enum !== undefined) {
    const e = o.enum;
    base.enum = Array.isArray(e) && e[0] === "set" && Array.isArray(e[1])
      ? e[1] as (string | number | boolean)[]
      : [e as string | number | boolean];
  }
  if (typeof o.refTable === "string") base.refTable = o.refTable;
  if (o.refType === "weak" || o.refType === "strong") base.refType = o.refType;
  for (const k of ["minInteger", "maxInteger", "minReal", "maxReal", "minLength", "maxLength"]) {
    if (typeof o[k] === "number") (base as unknown as Record<string, number>)[k] = o[k];
  }
  return base;
}

/**
 * Parses a column `<type>` into its normalized form.
 *
 * @param json the `type` member of a column schema
 * @param where location for error messages (`Table.column`)
 * @returns the normalized type
 * @throws {OvsdbError} kind `schema` when malformed
 */
export function parseColumnType(json: unknown, where = "column"): ColumnType {
  if (typeof json === "string") return { key: parseBase(json, where), min: 1, max: 1 };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(where, `expected a type, got ${JSON.stringify(json)}`);
  }
  const o = json as Record<string, unknown>;
  const t: ColumnType = {
    key: parseBase(o.key, where),
    min: typeof o.min === "number" ? o.min : 1,
    max: o.max === "unlimited" ? Infinity : typeof o.max === "number" ? o.max : 1,
  };
  if (o.value !== undefined) t.value = parseBase(o.value, where);
  return t;
}

/**
 * Parses a `get_schema` result.
 *
 * @param json the schema as JSON
 * @returns the parsed schema
 * @throws {OvsdbError} kind `schema` when malformed
 */
export function parseSchema(json: unknown): DatabaseSchema {
  if (typeof json !== "object" || json === null) fail("database", "not an object");
  const o = json as Record<string, unknown>;
  if (typeof o.name !== "string") fail("database", "no name");
  const tables: Record<string, TableSchema> = {};
  const tjson = (o.tables ?? {}) as Record<string, Record<string, unknown>>;
  for (const [tname, t] of Object.entries(tjson)) {
    const columns: Record<string, ColumnSchema> = {};
    for (const [cname, c] of Object.entries((t.columns ?? {}) as Record<string, unknown>)) {
      const cc = c as Record<string, unknown>;
      columns[cname] = {
        type: parseColumnType(cc.type, `${tname}.${cname}`),
        ephemeral: cc.ephemeral === true,
        mutable: cc.mutable !== false,
      };
    }
    const ts: TableSchema = {
      columns,
      isRoot: t.isRoot === true,
      indexes: Array.isArray(t.indexes) ? t.indexes as string[][] : [],
    };
    if (typeof t.maxRows === "number") ts.maxRows = t.maxRows;
    tables[tname] = ts;
  }
  return { name: o.name, version: typeof o.version === "string" ? o.version : "", tables };
}

/**
 * Finds a column's type, including `_uuid` and `_version`.
 *
 * @param schema the database schema
 * @param table table name
 * @param column column name
 * @returns the column type
 * @throws {OvsdbError} kind `schema` naming the missing table or column
 */
export function columnType(schema: DatabaseSchema, table: string, column: string): ColumnType {
  const t = tableSchema(schema, table);
  if (column === "_uuid" || column === "_version") return UUID_COLUMN;
  const c = t.columns[column];
  if (!c) {
    throw new OvsdbError(
      "schema",
      `Cannot use column "${table}.${column}": the server's ${schema.name} schema ${schema.version} ` +
        `has no such column; check the name or regenerate the models (deno task gen-models) ` +
        `for the server's schema version`,
    );
  }
  return c.type;
}

/**
 * Finds a table's schema.
 *
 * @param schema the database schema
 * @param table table name
 * @returns the table schema
 * @throws {OvsdbError} kind `schema` naming the missing table
 */
export function tableSchema(schema: DatabaseSchema, table: string): TableSchema {
  const t = schema.tables[table];
  if (!t) {
    throw new OvsdbError(
      "schema",
      `Cannot use table "${table}": the server's ${schema.name} schema ${schema.version} has no ` +
        `such table; check the name or regenerate the models (deno task gen-models) for the ` +
        `server's schema version`,
    );
  }
  return t;
}

/** What a caller relies on: tables and their columns (generated models export one). */
export interface SchemaExpectation {
  /** Database name. */
  name: string;
  /** Version the caller was generated from (informational). */
  version?: string;
  /** Table name -> column names used. */
  tables: Record<string, readonly string[]>;
}

/**
 * Lists what an expectation needs that a server's schema lacks.
 *
 * @param schema the server's schema
 * @param expected the caller's tables and columns
 * @returns `Table` or `Table.column` entries that are missing (empty when compatible)
 */
export function missingFromSchema(schema: DatabaseSchema, expected: SchemaExpectation): string[] {
  const missing: string[] = [];
  for (const [t, cols] of Object.entries(expected.tables)) {
    const ts = schema.tables[t];
    if (!ts) {
      missing.push(t);
      continue;
    }
    for (const c of cols) if (!ts.columns[c]) missing.push(`${t}.${c}`);
  }
  return missing;
}

/**
 * Throws a clear error when a server's schema lacks what the caller relies on.
 *
 * @param schema the server's schema
 * @param expected the caller's tables and columns
 * @throws {OvsdbError} kind `schema` listing every missing table and column
 */
export function checkSchema(schema: DatabaseSchema, expected: SchemaExpectation): void {
  if (schema.name !== expected.name) {
    throw new OvsdbError(
      "schema",
      `Cannot use database "${schema.name}" as "${expected.name}": wrong database; ` +
        `check the database name or the remote`,
    );
  }
  const missing = missingFromSchema(schema, expected);
  if (missing.length === 0) return;
  const shown = missing.slice(0, 20).join(", ") + (missing.length > 20 ? ", ..." : "");
  throw new OvsdbError(
    "schema",
    `Cannot use ${schema.name}: the server's schema ${schema.version} lacks ${missing.length} ` +
      `table(s)/column(s) this program was built for (schema ${expected.version ?? "?"}): ` +
      `${shown}; upgrade the server or regenerate the models (deno task gen-models)`,
  );
}

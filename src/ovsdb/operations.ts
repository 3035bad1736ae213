/**
 * Transaction operations (RFC 7047 §5.2) in plain notation, their builders (pure, no
 * I/O: `src/ovn` builds these and a controller commits them), and their encoding to the
 * wire against a schema (through `notation.ts`).
 *
 * @module
 */
import { OvsdbError } from "./errors.ts";
import {
  atomToWire,
  isScalar,
  namedUuid,
  rowFromWire,
  rowToWire,
  valueToWire,
  type WireRow,
  type WireValue,
} from "./notation.ts";
import { columnType, type DatabaseSchema, tableSchema } from "./schema.ts";

/** Condition functions (RFC 7047 §5.1). */
export type ConditionFunction = "==" | "!=" | "<" | "<=" | ">" | ">=" | "includes" | "excludes";
/** Mutators (RFC 7047 §5.1). */
export type Mutator = "+=" | "-=" | "*=" | "/=" | "%=" | "insert" | "delete";

/**
 * `[column, function, value]` in plain notation (value as for the column, checked against
 * the schema when sent), or a constant `true`/`false`.
 */
export type Condition<R = Record<string, unknown>> =
  | readonly [keyof R & string, ConditionFunction, unknown]
  | boolean;
/** `[column, mutator, value]` in plain notation. For a map `delete`, the value may be an array of keys. */
export type Mutation<R = Record<string, unknown>> = readonly [keyof R & string, Mutator, unknown];

/** insert: `uuidName` names the new row for references in the same transaction. */
export interface InsertOp {
  op: "insert";
  table: string;
  row: object;
  uuidName?: string;
  /** Explicit uuid for the new row (Open vSwitch >= 2.13 extension). */
  uuid?: string;
}
/** select */
export interface SelectOp {
  op: "select";
  table: string;
  where: readonly Condition[];
  columns?: readonly string[];
}
/** update */
export interface UpdateOp {
  op: "update";
  table: string;
  where: readonly Condition[];
  row: object;
}
/** mutate */
export interface MutateOp {
  op: "mutate";
  table: string;
  where: readonly Condition[];
  mutations: readonly Mutation[];
}
/** delete */
export interface DeleteOp {
  op: "delete";
  table: string;
  where: readonly Condition[];
}
/** wait */
export interface WaitOp {
  op: "wait";
  table: string;
  where: readonly Condition[];
  columns: readonly string[];
  until: "==" | "!=";
  rows: readonly object[];
  timeout?: number;
}
/** commit */
export interface CommitOp {
  op: "commit";
  durable: boolean;
}
/** abort */
export interface AbortOp {
  op: "abort";
}
/** comment */
export interface CommentOp {
  op: "comment";
  comment: string;
}
/** assert */
export interface AssertOp {
  op: "assert";
  lock: string;
}

/** Any operation, in plain notation. */
export type Operation =
  | InsertOp
  | SelectOp
  | UpdateOp
  | MutateOp
  | DeleteOp
  | WaitOp
  | CommitOp
  | AbortOp
  | CommentOp
  | AssertOp;

/** The result of one operation, in plain notation. */
export interface OperationResult {
  /** insert: the new row's uuid. */
  uuid?: string;
  /** update, mutate, delete: rows matched. */
  count?: number;
  /** select: the rows (only the selected columns, plus `_uuid` when selected). */
  rows?: Record<string, unknown>[];
}

/** Typed operation builders for a database whose tables are `S` (table name -> row type). */
export interface OpBuilders<S> {
  /** Inserts a row; `opts.uuidName` lets later operations reference it by that name. */
  insert<T extends keyof S & string>(
    table: T,
    row: Partial<S[T]>,
    opts?: { uuidName?: string; uuid?: string },
  ): InsertOp;
  /** Selects rows matching `where` (all columns, or `columns`). */
  select<T extends keyof S & string>(
    table: T,
    where: readonly Condition<S[T]>[],
    columns?: readonly (keyof S[T] & string)[],
  ): SelectOp;
  /** Sets columns of the rows matching `where`. */
  update<T extends keyof S & string>(
    table: T,
    where: readonly Condition<S[T]>[],
    row: Partial<S[T]>,
  ): UpdateOp;
  /** Mutates columns (insert/delete set or map elements, arithmetic) of matching rows. */
  mutate<T extends keyof S & string>(
    table: T,
    where: readonly Condition<S[T]>[],
    mutations: readonly Mutation<S[T]>[],
  ): MutateOp;
  /** Deletes the rows matching `where`. */
  delete<T extends keyof S & string>(table: T, where: readonly Condition<S[T]>[]): DeleteOp;
  /** Waits until the selected columns of matching rows equal (or differ from) `rows`. */
  wait<T extends keyof S & string>(
    table: T,
    where: readonly Condition<S[T]>[],
    columns: readonly (keyof S[T] & string)[],
    until: "==" | "!=",
    rows: readonly Partial<S[T]>[],
    timeoutMs?: number,
  ): WaitOp;
  /** Asks for a durable (or not) commit. */
  commit(durable: boolean): CommitOp;
  /** Aborts the transaction (it then fails with error "aborted"). */
  abort(): AbortOp;
  /** Adds a comment to the database log. */
  comment(text: string): CommentOp;
  /** Fails the transaction unless this session holds `lock`. */
  assert(lock: string): AssertOp;
}

/**
 * Makes operation builders typed by a table map (generated models export one).
 *
 * @returns builders; they only build objects, they never do I/O
 */
export function ops<S = Record<string, Record<string, unknown>>>(): OpBuilders<S> {
  return {
    insert: (table, row, opts = {}) => {
      const op: InsertOp = { op: "insert", table, row };
      if (opts.uuidName !== undefined) op.uuidName = namedUuid(opts.uuidName);
      if (opts.uuid !== undefined) op.uuid = opts.uuid;
      return op;
    },
    select: (table, where, columns) => {
      const op: SelectOp = { op: "select", table, where: where as readonly Condition[] };
      if (columns) op.columns = columns;
      return op;
    },
    update: (table, where, row) => ({
      op: "update",
      table,
      where: where as readonly Condition[],
      row,
    }),
    mutate: (table, where, mutations) => ({
      op: "mutate",
      table,
      where: where as readonly Condition[],
      mutations: mutations as readonly Mutation[],
    }),
    delete: (table, where) => ({ op: "delete", table, where: where as readonly Condition[] }),
    wait: (table, where, columns, until, rows, timeoutMs) => {
      const op: WaitOp = {
        op: "wait",
        table,
        where: where as readonly Condition[],
        columns,
        until,
        rows,
      };
      if (timeoutMs !== undefined) op.timeout = timeoutMs;
      return op;
    },
    commit: (durable) => ({ op: "commit", durable }),
    abort: () => ({ op: "abort" }),
    comment: (text) => ({ op: "comment", comment: text }),
    assert: (lock) => ({ op: "assert", lock }),
  };
}

/** Untyped operation builders (any table, any row). */
export const op: OpBuilders<Record<string, Record<string, unknown>>> = ops();

/**
 * Encodes conditions for a table.
 *
 * @param schema database schema
 * @param table table name
 * @param where plain conditions
 * @returns wire conditions
 * @throws {OvsdbError} kind `schema` for unknown columns or ill-typed values
 */
export function encodeWhere(
  schema: DatabaseSchema,
  table: string,
  where: readonly Condition[],
): unknown[] {
  return where.map((c) => {
    if (typeof c === "boolean") return c;
    const [col, fn, value] = c;
    const type = columnType(schema, table, col);
    const where = `condition on ${table}.${col}`;
    // Ordering functions compare atoms; optional integer/real columns take an atom too.
    if (fn === "<" || fn === "<=" || fn === ">" || fn === ">=") {
      return [col, fn, atomToWire(value, type.key, where)];
    }
    return [col, fn, valueToWire(value, type, where)];
  });
}

function encodeMutations(
  schema: DatabaseSchema,
  table: string,
  mutations: readonly Mutation[],
): unknown[] {
  return mutations.map(([col, mutator, value]) => {
    const type = columnType(schema, table, col);
    const where = `mutation of ${table}.${col}`;
    if (mutator === "insert" || mutator === "delete") {
      if (type.value !== undefined && mutator === "delete" && Array.isArray(value)) {
        // Deleting map keys: a set of keys.
        return [col, mutator, valueToWire(value, { key: type.key, min: 0, max: Infinity }, where)];
      }
      const asSet = isScalar(type) ? { ...type, min: 0, max: Infinity } : type;
      return [col, mutator, valueToWire(value, asSet, where)];
    }
    return [col, mutator, atomToWire(value, type.key, where)];
  });
}

/**
 * Encodes one operation for the wire.
 *
 * @param schema the server's schema
 * @param o plain operation
 * @returns the wire operation object
 * @throws {OvsdbError} kind `schema` for unknown tables/columns or ill-typed values
 */
export function encodeOperation(schema: DatabaseSchema, o: Operation): Record<string, unknown> {
  switch (o.op) {
    case "insert": {
      const w: Record<string, unknown> = {
        op: "insert",
        table: o.table,
        row: rowToWire(o.row, tableSchema(schema, o.table), o.table),
      };
      if (o.uuidName !== undefined) w["uuid-name"] = o.uuidName;
      if (o.uuid !== undefined) w.uuid = atomToWire(o.uuid, { type: "uuid" }, "insert uuid");
      return w;
    }
    case "select": {
      const w: Record<string, unknown> = {
        op: "select",
        table: o.table,
        where: encodeWhere(schema, o.table, o.where),
      };
      if (o.columns) {
        for (const c of o.columns) columnType(schema, o.table, c);
        w.columns = o.columns;
      }
      return w;
    }
    case "update":
      return {
        op: "update",
        table: o.table,
        where: encodeWhere(schema, o.table, o.where),
        row: rowToWire(o.row, tableSchema(schema, o.table), o.table),
      };
    case "mutate":
      return {
        op: "mutate",
        table: o.table,
        where: encodeWhere(schema, o.table, o.where),
        mutations: encodeMutations(schema, o.table, o.mutations),
      };
    case "delete":
      return { op: "delete", table: o.table, where: encodeWhere(schema, o.table, o.where) };
    case "wait": {
      const ts = tableSchema(schema, o.table);
      for (const c of o.columns) columnType(schema, o.table, c);
      const w: Record<string, unknown> = {
        op: "wait",
        table: o.table,
        where: encodeWhere(schema, o.table, o.where),
        columns: o.columns,
        until: o.until,
        rows: o.rows.map((r) => rowToWire(r, ts, o.table)),
      };
      if (o.timeout !== undefined) w.timeout = o.timeout;
      return w;
    }
    case "commit":
      return { op: "commit", durable: o.durable };
    case "abort":
      return { op: "abort" };
    case "comment":
      return { op: "comment", comment: o.comment };
    case "assert":
      return { op: "assert", lock: o.lock };
    default: {
      const never: never = o;
      throw new TypeError(`Cannot encode operation ${JSON.stringify(never)}: unknown op`);
    }
  }
}

function describe(o: Operation | undefined): string {
  if (!o) return "commit";
  return "table" in o ? `${o.op} ${o.table}` : o.op;
}

/**
 * Decodes a transact result: throws the first failed operation, decodes select rows.
 *
 * @param schema the server's schema
 * @param operations the operations as sent
 * @param result the server's result array
 * @returns one plain result per operation
 * @throws {OvsdbError} kind `operation` with the failed operation's index, error and details
 */
export function decodeResults(
  schema: DatabaseSchema,
  operations: readonly Operation[],
  result: unknown,
): OperationResult[] {
  if (!Array.isArray(result)) {
    throw new OvsdbError("protocol", `Cannot read transact result: ${JSON.stringify(result)}`);
  }
  const failed = result.findIndex((r) =>
    typeof r === "object" && r !== null && typeof (r as { error?: unknown }).error === "string"
  );
  if (failed >= 0) {
    const r = result[failed] as { error: string; details?: unknown };
    const o = operations[failed];
    const details = typeof r.details === "string" ? r.details : undefined;
    const where = failed < operations.length
      ? `operation ${failed} (${describe(o)})`
      : `the commit (after ${operations.length} operations)`;
    throw new OvsdbError(
      "operation",
      `Cannot commit transaction: ${where} failed: ${r.error}${details ? `: ${details}` : ""}`,
      { index: failed, error: r.error, ...(details ? { details } : {}), operation: o },
    );
  }
  return operations.map((o, i) => {
    const r = (result[i] ?? {}) as Record<string, unknown>;
    const out: OperationResult = {};
    if (Array.isArray(r.uuid) && typeof r.uuid[1] === "string") out.uuid = r.uuid[1];
    if (typeof r.count === "number") out.count = r.count;
    if (Array.isArray(r.rows) && o.op === "select") {
      const ts = tableSchema(schema, o.table);
      out.rows = r.rows.map((row) => rowFromWire(row, ts, o.table));
    }
    return out;
  });
}

/** A wire-level value, re-exported for callers that build raw requests. */
export type { WireRow, WireValue };

/**
 * Desired-state diffing for one row: which columns to update and which map keys to
 * change, so that applying an unchanged desired state produces no operation at all.
 *
 * Maps are merged key by key (other writers' keys are kept); scalar and set columns are
 * replaced when they differ (sets compared as sets).
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";
import { changedColumns, mapMutations } from "../ovsdb/mod.ts";

/** The desired content of one row. */
export interface DesiredRow {
  /** Table name. */
  table: string;
  /** uuid-name for an insert (unique in the transaction). */
  uuidName: string;
  /** Columns that must equal these values. */
  columns: Record<string, unknown>;
  /** Map columns whose listed keys must have these values (other keys are kept). */
  maps: Record<string, Record<string, string>>;
  /** Columns set only when the row is created. */
  onInsert?: Record<string, unknown>;
}

/** The operations for one row. */
export interface RowPlan {
  /** An insert when the row is new. */
  insert?: Operation;
  /** Updates and mutations of an existing row. */
  changes: Operation[];
  /** The row's uuid, or its uuid-name when it is inserted. */
  ref: string;
  /** Whether the row is created by this plan. */
  created: boolean;
}

/**
 * Plans one row: insert it when absent, else update and mutate only what differs.
 *
 * @param current the row as read, or `undefined`
 * @param d its desired content
 * @returns the plan
 */
export function planRow(
  current: { _uuid: string } | undefined,
  d: DesiredRow,
): RowPlan {
  if (!current) {
    return {
      insert: {
        op: "insert",
        table: d.table,
        row: { ...d.onInsert, ...d.columns, ...d.maps },
        uuidName: d.uuidName,
      },
      changes: [],
      ref: d.uuidName,
      created: true,
    };
  }
  const where = [["_uuid", "==", current._uuid] as const];
  const changes: Operation[] = [];
  const cur = current as unknown as Record<string, unknown>;
  const cols = changedColumns(cur, d.columns);
  if (cols) changes.push({ op: "update", table: d.table, where, row: cols });
  const muts = Object.entries(d.maps).flatMap(([col, want]) =>
    mapMutations(col, cur[col] as Record<string, unknown> | undefined, want)
  );
  if (muts.length) changes.push({ op: "mutate", table: d.table, where, mutations: muts });
  return { changes, ref: current._uuid, created: false };
}

/**
 * Whether a list of operations changes the database (anything but select, wait, comment).
 *
 * @param ops operations
 * @returns true when committing them writes
 */
export function hasWrites(ops: readonly Operation[]): boolean {
  return ops.some((o) => !["select", "wait", "comment", "assert"].includes(o.op));
}

/**
 * Desired-state diffing of one row, shared by the NB plans (src/ovn) and the local
 * Open_vSwitch plans (src/ovs, src/gateway): which columns differ, and map columns merged
 * by mutation (only the listed keys are set, other writers' keys are kept). Nothing is
 * written when the row already matches.
 *
 * @module
 */
import { valuesEqual } from "./notation.ts";
import type { Mutation, Operation } from "./operations.ts";

/**
 * The columns of `desired` whose values differ from `current` (sets compared as sets).
 *
 * @param current the row as read
 * @param desired wanted values
 * @returns the differing columns, or `undefined` when none differ
 */
export function changedColumns(
  current: Record<string, unknown>,
  desired: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(desired)) {
    if (!valuesEqual(current[k], v)) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Mutations that make a map column contain `desired` and lose `remove`: the changed and
 * removed keys are deleted, then the missing or changed pairs inserted (RFC 7047
 * mutations apply in order).
 *
 * @param column map column
 * @param current its current value
 * @param desired keys that must have these values
 * @param remove keys that must be absent
 * @returns zero, one or two mutations
 */
export function mapMutations(
  column: string,
  current: Record<string, unknown> | undefined,
  desired: Record<string, string>,
  remove: readonly string[] = [],
): Mutation[] {
  const cur = current ?? {};
  const differ = Object.keys(desired).sort().filter((k) => cur[k] !== desired[k]);
  const drop = [...new Set([...differ, ...remove])].filter((k) => k in cur).sort();
  const out: Mutation[] = [];
  if (drop.length) out.push([column, "delete", drop]);
  if (differ.length) {
    out.push([column, "insert", Object.fromEntries(differ.map((k) => [k, desired[k]!]))]);
  }
  return out;
}

/**
 * The mutate operation (or none) that makes map `column` of the row `uuid` contain
 * `desired` and lose `remove`: {@linkcode mapMutations} on one row.
 *
 * @param table the table
 * @param uuid the row
 * @param column map column
 * @param current its current value
 * @param desired keys that must have these values
 * @param remove keys that must be absent
 * @returns zero or one operation
 */
export function mapMutateOps(
  table: string,
  uuid: string,
  column: string,
  current: Record<string, unknown> | undefined,
  desired: Record<string, string>,
  remove: readonly string[] = [],
): Operation[] {
  const mutations = mapMutations(column, current, desired, remove);
  return mutations.length
    ? [{ op: "mutate", table, where: [["_uuid", "==", uuid]], mutations }]
    : [];
}

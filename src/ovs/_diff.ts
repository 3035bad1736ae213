/**
 * Map-column merging for the local Open_vSwitch database (the same rule as src/ovn:
 * only the listed keys are set, other writers' keys are kept; nothing when equal).
 *
 * @module
 */
import type { Mutation } from "../ovsdb/mod.ts";

/**
 * Mutations that make a map column contain `desired` (and lose `remove`).
 *
 * @param column map column
 * @param current current value
 * @param desired keys that must have these values
 * @param remove keys that must be absent
 * @returns zero to two mutations
 */
export function mapMutations(
  column: string,
  current: Record<string, unknown> | undefined,
  desired: Record<string, string>,
  remove: readonly string[] = [],
): Mutation[] {
  const cur = current ?? {};
  const differ = Object.keys(desired).sort().filter((k) => cur[k] !== desired[k]);
  const drop = [...new Set([...differ.filter((k) => k in cur), ...remove.filter((k) => k in cur)])]
    .sort();
  const out: Mutation[] = [];
  if (drop.length) out.push([column, "delete", drop]);
  if (differ.length) {
    out.push([column, "insert", Object.fromEntries(differ.map((k) => [k, desired[k]!]))]);
  }
  return out;
}

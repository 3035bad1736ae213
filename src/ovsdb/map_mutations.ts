/**
 * Map-column merging by mutation: only the listed keys are set (other writers' keys are
 * kept), and nothing is written when the map already matches. Shared by the NB plans
 * (src/ovn) and the local Open_vSwitch plans (src/ovs).
 *
 * @module
 */
import type { Mutation } from "./operations.ts";

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

/**
 * OpenFlow tables applied whole with `ovs-ofctl --bundle replace-flows` (DESIGN.md: the
 * only OVS state with no database): the desired flows are rendered as text, handed to
 * ovs-ofctl on stdin, and the switch swaps them in one atomic bundle, so there is never
 * a moment with half a table. Flows that did not change are left untouched by
 * replace-flows (their counters survive).
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";

/** One flow: `table`, `priority`, a match (`in_port=1,ip`) and actions. */
export interface Flow {
  table: number;
  priority: number;
  /** Comma-separated match fields, or "" for any. */
  match: string;
  /** Comma-separated actions. */
  actions: string;
}

/**
 * Renders a flow the way `ovs-ofctl add-flow` reads it.
 *
 * @param f the flow
 * @returns e.g. `table=0,priority=100,in_port=1,ip,actions=output:2`
 */
export function renderFlow(f: Flow): string {
  return [
    `table=${f.table}`,
    `priority=${f.priority}`,
    ...(f.match ? [f.match] : []),
    `actions=${f.actions}`,
  ]
    .join(",");
}

/**
 * Renders a whole table set in a fixed order (table, then priority descending, then text).
 *
 * @param flows the flows
 * @returns one flow per line
 */
export function renderFlows(flows: readonly Flow[]): string {
  return [...flows].sort((a, b) =>
    a.table - b.table || b.priority - a.priority || renderFlow(a).localeCompare(renderFlow(b))
  ).map(renderFlow).join("\n") + "\n";
}

/**
 * Replaces every flow of a bridge with `flows`, atomically.
 *
 * @param runner command runner
 * @param target the bridge name, or its management socket (`unix:/run/ovs/br0.mgmt`)
 * @param flows the complete desired table set
 * @param opts command timeout
 * @throws {CommandError} when ovs-ofctl fails (the bridge keeps its previous flows)
 */
export async function replaceFlows(
  runner: Runner,
  target: string,
  flows: readonly Flow[],
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  await runner.run(["ovs-ofctl", "--bundle", "replace-flows", target, "-"], {
    stdin: renderFlows(flows),
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
}

/**
 * Dumps a bridge's flows without statistics.
 *
 * @param runner command runner
 * @param target the bridge or its management socket
 * @returns one line per flow, as ovs-ofctl prints them
 */
export async function dumpFlows(runner: Runner, target: string): Promise<string[]> {
  const r = await runner.run(["ovs-ofctl", "--no-stats", "dump-flows", target], {
    timeoutMs: 10_000,
  });
  return r.stdout.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("NXST_")
  );
}

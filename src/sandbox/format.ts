/**
 * Renders a {@linkcode LabStatus} as the short text summary `ovn-k8s sandbox up|status`
 * prints.
 *
 * @module
 */
import type { LabStatus } from "./lab.ts";

/**
 * Formats the status summary.
 *
 * @param s the status
 * @returns lines of text
 */
export function formatLabStatus(s: LabStatus): string {
  const pid = (p: number | undefined) => (p === undefined ? "not running" : `pid ${p}`);
  const db = (name: string, d: LabStatus["databases"]["nb"], server: { pid?: number }) =>
    `  ${name}  ${d.remote}  ${
      d.ok ? `up, schema ${d.version}` : `DOWN: ${d.error ?? "no answer"}`
    } (${pid(server.pid)})`;
  const registered = new Map(s.chassis.map((c) => [c.name, c]));
  const lines = [
    `sandbox "${s.prefix}" in ${s.dir}`,
    `underlay ${s.underlay}; this host is ${s.rootIp}`,
    "central OVN:",
    db("NB", s.databases.nb, s.central.nb),
    db("SB", s.databases.sb, s.central.sb),
    `  northd  ${s.central.northd.status} (${pid(s.central.northd.pid)})`,
    `chassis registered: ${s.chassis.length}${
      s.chassis.length
        ? ` (${s.chassis.map((c) => `${c.name} ${c.encapIps.join(",")}`).join("; ")})`
        : ""
    }`,
  ];
  if (s.nodes.length) lines.push("nodes:");
  for (const n of s.nodes) {
    const daemons = Object.entries(n.pids).map(([k, v]) => `${k} ${v ?? "DOWN"}`).join(", ");
    lines.push(
      `  ${n.name}  ${n.underlayIp}  netns ${n.netns}  ${daemons}; br-int ${
        n.brInt ?? "missing"
      }; chassis ${registered.has(n.name) ? "registered" : "NOT registered"}`,
    );
  }
  return lines.join("\n");
}

/**
 * Whether everything the status lists is up.
 *
 * @param s the status
 * @returns true when databases answer, northd runs and every node is complete
 */
export function labHealthy(s: LabStatus): boolean {
  return s.databases.nb.ok && s.databases.sb.ok && s.central.northd.pid !== undefined &&
    s.nodes.every((n) =>
      Object.values(n.pids).every((p) => p !== undefined) && n.brInt !== undefined
    );
}

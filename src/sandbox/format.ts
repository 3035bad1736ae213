/**
 * Renders a {@linkcode LabStatus} as the short text summary `ovn-k8s sandbox up|status`
 * prints.
 *
 * @module
 */
import type { LabStatus } from "./lab.ts";
import type { ClusterSummary } from "./cluster.ts";

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

/**
 * Formats the cluster part of the summary: nodes, pods, checks, API server.
 *
 * @param s the summary
 * @returns lines of text
 */
export function formatClusterSummary(s: ClusterSummary): string {
  const lines = [
    `cluster "${s.prefix}": API server ${s.apiServer} (supervisor ${
      s.supervisorPid === undefined ? "NOT running" : `pid ${s.supervisorPid}`
    })`,
    `nodes: ${s.nodes.length}`,
  ];
  for (const n of s.nodes) {
    const pods = s.pods.filter((p) => p.node === n.name).length;
    lines.push(
      `  ${n.name.padEnd(8)} ${n.ip.padEnd(15)} ${
        n.name === s.master ? "master,minion" : "minion"
      }` +
        `  run ${n.runPid === undefined ? "NOT running" : `pid ${n.runPid}`}` +
        `  cni ${n.ready ? "ready" : "NOT ready"}  pods ${pods}`,
    );
  }
  lines.push(`pods: ${s.pods.length}`);
  for (const p of s.pods) lines.push(`  ${p.name.padEnd(20)} ${p.node.padEnd(8)} ${p.ip}`);
  if (s.checks.length) {
    const passed = s.checks.filter((c) => c.ok).length;
    lines.push(`checks: ${passed} passed, ${s.checks.length - passed} failed`);
    for (const c of s.checks) {
      lines.push(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}${c.ok ? "" : `: ${c.detail}`}`);
    }
  }
  if (s.elapsedMs !== undefined) lines.push(`up in ${(s.elapsedMs / 1000).toFixed(1)} s`);
  lines.push(`kubeconfig: ${s.kubeconfig}`);
  return lines.join("\n");
}

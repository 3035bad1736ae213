/**
 * Test environment of the gateway tests on the lab: an external network (a Linux bridge
 * in its own namespace with an external host at 198.51.100.1, one veth per node whose
 * node end is `eth2`), pods with a port on br-int, an HTTP server that answers with the
 * client's address, and `ovn-k8s gateway-init` run inside a node as its own process.
 *
 * @module
 */
import { pollUntil } from "../../src/daemons/wait.ts";
import { ProcessRunner } from "../../src/exec/mod.ts";
import type { NbTables } from "../../src/ovn/nb_models.ts";
import type { OvsdbClient } from "../../src/ovsdb/mod.ts";
import type { LabNode } from "../../src/sandbox/mod.ts";
import { runOvnK8s } from "../helpers/ovn_k8s_process.ts";

/** A pod or host in its own namespace. */
export interface NsHost {
  name: string;
  netns: string;
  ip: string;
}

export const runner = new ProcessRunner();

/** Polls until `fn` returns a value that is not undefined/false (default: 40 s). */
export function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 40_000,
): Promise<T> {
  return pollUntil(what, fn, { timeoutMs: ms, intervalMs: 250 });
}

/** Runs argv in a namespace. */
export function inNs(netns: string, argv: string[], check = true) {
  return runner.run(["ip", "netns", "exec", netns, ...argv], { check, timeoutMs: 20_000 });
}

/**
 * The external network: namespace `<prefix>-ext` with bridge `br0` and 198.51.100.1/24, and
 * one veth per node whose node end is `eth2` (the gateway NIC).
 */
export async function addExternalNetwork(
  prefix: string,
  nodes: readonly LabNode[],
  cleanup: string[],
): Promise<NsHost> {
  const ext: NsHost = { name: "ext", netns: `${prefix}-ext`, ip: "198.51.100.1" };
  await runner.run(["ip", "netns", "add", ext.netns]);
  cleanup.push(ext.netns);
  for (
    const argv of [
      ["ip", "link", "set", "lo", "up"],
      ["ip", "link", "add", "br0", "type", "bridge"],
      ["ip", "addr", "add", "198.51.100.1/24", "dev", "br0"],
      ["ip", "link", "set", "br0", "up"],
    ]
  ) await inNs(ext.netns, argv);
  for (const [i, n] of nodes.entries()) {
    const outer = `ext${i + 1}`;
    await runner.run([
      "ip",
      "link",
      "add",
      outer,
      "netns",
      ext.netns,
      "type",
      "veth",
      "peer",
      "name",
      "eth2",
      "netns",
      n.netns,
    ]);
    await inNs(ext.netns, ["ip", "link", "set", outer, "master", "br0", "up"]);
    await inNs(ext.netns, ["ethtool", "-K", outer, "tx", "off"]);
    await n.exec(["ip", "link", "set", "eth2", "up"]);
    await n.exec(["ethtool", "-K", "eth2", "tx", "off"]);
  }
  await inNs(ext.netns, ["ethtool", "-K", "br0", "tx", "off"]);
  return ext;
}

/** A pod: namespace, veth into the node's br-int, logical port in NB. */
export async function addPod(
  nb: OvsdbClient<NbTables>,
  prefix: string,
  node: LabNode,
  name: string,
  ip: string,
  cleanup: string[],
): Promise<NsHost> {
  const p: NsHost = { name, netns: `${prefix}-${name}`, ip };
  const o = ip.split(".").map(Number);
  const mac = `0a:58:${o.map((x) => x.toString(16).padStart(2, "0")).join(":")}`;
  const host = `${prefix}${name}`.slice(0, 15);
  await runner.run(["ip", "netns", "add", p.netns]);
  cleanup.push(p.netns);
  await runner.run([
    "ip",
    "link",
    "add",
    host,
    "netns",
    node.netns,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    p.netns,
  ]);
  for (
    const argv of [
      ["ip", "link", "set", "lo", "up"],
      ["ip", "link", "set", "eth0", "address", mac, "mtu", "1400"],
      ["ip", "addr", "add", `${ip}/24`, "dev", "eth0"],
      ["ip", "link", "set", "eth0", "up"],
      ["ip", "route", "add", "default", "via", `${o.slice(0, 3).join(".")}.1`],
      ["ethtool", "-K", "eth0", "tx", "off"],
    ]
  ) await inNs(p.netns, argv);
  await node.exec(["ip", "link", "set", host, "mtu", "1400", "up"]);
  await node.exec(["ethtool", "-K", host, "tx", "off"]);
  const lsp = `default_${name}`;
  await nb.transact([
    {
      op: "insert",
      table: "Logical_Switch_Port",
      uuidName: "lsp",
      row: { name: lsp, addresses: [`${mac} ${ip}`] },
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["name", "==", node.name]],
      mutations: [["ports", "insert", ["lsp"]]],
    },
  ]);
  await node.exec([
    "ovs-vsctl",
    "--timeout=20",
    "add-port",
    "br-int",
    host,
    "--",
    "set",
    "interface",
    host,
    `external_ids:iface-id=${lsp}`,
  ]);
  await node.exec([
    "ovs-vsctl",
    "--timeout=30",
    "wait-until",
    "interface",
    host,
    "external_ids:ovn-installed=true",
  ]);
  return p;
}

/** An HTTP server answering every GET with its body (a file) or the client's address. */
export function serveHttp(
  h: NsHost,
  port: number,
  body: string | undefined,
  children: Deno.ChildProcess[],
): void {
  const script = [
    "import http.server, sys",
    "class H(http.server.BaseHTTPRequestHandler):",
    "    def do_GET(self):",
    `        b = (${JSON.stringify(body ?? "")} or self.client_address[0]).encode()`,
    "        self.send_response(200); self.send_header('Content-Length', str(len(b)))",
    "        self.end_headers(); self.wfile.write(b)",
    "    def log_message(self, *a): pass",
    `http.server.ThreadingHTTPServer(('0.0.0.0', ${port}), H).serve_forever()`,
  ].join("\n");
  children.push(
    new Deno.Command("ip", {
      args: ["netns", "exec", h.netns, "python3", "-c", script],
      stdout: "null",
      stderr: "null",
    }).spawn(),
  );
}

/** GET from a namespace: curl's exit code and the body. */
export async function get(from: NsHost, target: string): Promise<{ code: number; body: string }> {
  const r = await inNs(
    from.netns,
    ["curl", "-s", "--max-time", "3", `http://${target}/`],
    false,
  );
  return { code: r.code, body: r.stdout.trim() };
}

/**
 * Waits until GETs from `from` to `target` have been answered by every one of `bodies`
 * (a load-balanced VIP reaching each of its backends).
 *
 * @param from the client
 * @param target `IP[:PORT]`
 * @param bodies the answers each backend gives (its name)
 * @param ms deadline (default 60 s)
 * @throws {Error} "Timed out ..." when some backend never answered
 */
export async function untilServedBy(
  from: NsHost,
  target: string,
  bodies: readonly string[],
  ms = 60_000,
): Promise<void> {
  const seen = new Set<string>();
  await until(`${from.name} reaches ${bodies.join(" and ")} through ${target}`, async () => {
    const r = await get(from, target);
    if (r.code === 0) seen.add(r.body);
    return bodies.every((b) => seen.has(b));
  }, ms);
}

/** Runs `ovn-k8s ARGS...` inside a node, as its own process. */
export function ovnK8sIn(n: LabNode, args: string[]) {
  return runOvnK8s(args, { netns: n.netns, timeoutMs: 90_000 });
}

/** Runs gateway-init inside a node, as its own process. */
export function gatewayInit(n: LabNode, args: string[]) {
  return ovnK8sIn(n, ["gateway-init", "--ovs-db", `unix:${n.ovsDbSock}`, ...args]);
}

/**
 * NB columns that ovn-northd writes, not gateway-init: the port's `up` (set from the SB
 * binding whenever ovn-controller claims or releases it, so it can change well after
 * `ovn-installed` was seen), allocated `dynamic_addresses` and `tag`, and a router port's
 * delegated `ipv6_prefix`.
 */
const NORTHD_COLUMNS: Record<string, readonly string[]> = {
  Logical_Switch_Port: ["up", "dynamic_addresses", "tag"],
  Logical_Router_Port: ["ipv6_prefix"],
};

/**
 * The NB rows a gateway run may write, every column but the ones ovn-northd owns, per
 * table (to show that a run wrote nothing: ovsdb-server drops an update that changes no
 * column, so a real write changes this, and a re-created row changes its `_uuid`).
 *
 * @param nb the NB client
 * @returns a comparable text
 */
export async function nbSnapshot(nb: OvsdbClient<NbTables>): Promise<string> {
  const tables = [
    "Logical_Router",
    "Logical_Router_Port",
    "Logical_Router_Static_Route",
    "NAT",
    "Load_Balancer",
    "Logical_Switch",
    "Logical_Switch_Port",
  ];
  const r = await nb.transact(tables.map((t) => ({ op: "select", table: t, where: [] })));
  return JSON.stringify(r.map((x, i) =>
    (x.rows ?? []).map((row) => {
      const kept = Object.entries(row).filter(([col]) =>
        col !== "_version" && !(NORTHD_COLUMNS[tables[i]!] ?? []).includes(col)
      ).sort(([a], [b]) => a.localeCompare(b));
      return JSON.stringify(kept);
    }).sort()
  ));
}

/**
 * Test clean-up shared by the gateway and service packet tests: kills the processes the
 * test started (servers, watchers) and deletes its namespaces, newest first.
 *
 * @param children processes to kill and reap
 * @param namespaces namespaces to delete (deleted in reverse order)
 */
export async function stopAndRemove(
  children: readonly Deno.ChildProcess[],
  namespaces: readonly string[],
): Promise<void> {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
    await c.status;
  }
  for (const ns of [...namespaces].reverse()) {
    await runner.run(["ip", "netns", "delete", ns], { check: false });
  }
}

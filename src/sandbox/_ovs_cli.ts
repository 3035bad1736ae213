/**
 * Node OVS configuration and SB reads used by the lab.
 *
 * Interim: these go through ovs-vsctl / ovn-sbctl until the project's OVSDB client
 * (src/ovsdb) lands; then each function is rewritten on it with the same signature.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";

/** One registered chassis. */
export interface ChassisInfo {
  name: string;
  hostname: string;
  encapIps: string[];
}

/**
 * Initialises a node's Open_vSwitch row and writes `external_ids`.
 *
 * @param runner command runner
 * @param dbSock the node's db.sock
 * @param externalIds keys to set
 */
export async function initOpenVswitch(
  runner: Runner,
  dbSock: string,
  externalIds: Record<string, string>,
): Promise<void> {
  const sets = Object.entries(externalIds).map(([k, v]) =>
    `external_ids:${k}=${JSON.stringify(v)}`
  );
  await runner.run([
    "ovs-vsctl",
    `--db=unix:${dbSock}`,
    "--timeout=10",
    "--no-wait",
    "init",
    ...(sets.length ? ["--", "set", "Open_vSwitch", ".", ...sets] : []),
  ], { timeoutMs: 15_000 });
}

/**
 * Creates a netdev bridge with one port (the underlay NIC), waiting until ovs-vswitchd
 * has created the bridge's device.
 *
 * @param runner command runner
 * @param dbSock the node's db.sock
 * @param bridge bridge name (`br-phy`)
 * @param port port name (`eth1`)
 */
export async function addNetdevBridge(
  runner: Runner,
  dbSock: string,
  bridge: string,
  port: string,
): Promise<void> {
  await runner.run([
    "ovs-vsctl",
    `--db=unix:${dbSock}`,
    "--timeout=20",
    "--",
    "--may-exist",
    "add-br",
    bridge,
    "--",
    "set",
    "Bridge",
    bridge,
    "datapath_type=netdev",
    "--",
    "--may-exist",
    "add-port",
    bridge,
    port,
  ], { timeoutMs: 25_000 });
}

/**
 * Reads a bridge's datapath type, or `undefined` when the bridge does not exist.
 *
 * @param runner command runner
 * @param dbSock the node's db.sock
 * @param bridge bridge name
 */
export async function bridgeDatapathType(
  runner: Runner,
  dbSock: string,
  bridge: string,
): Promise<string | undefined> {
  const r = await runner.run(
    ["ovs-vsctl", `--db=unix:${dbSock}`, "--timeout=5", "get", "Bridge", bridge, "datapath_type"],
    { check: false, timeoutMs: 10_000 },
  );
  return r.code === 0 ? r.stdout.replace(/^"|"$/g, "") : undefined;
}

/**
 * Lists SB chassis.
 *
 * @param runner command runner
 * @param sbDb SB connection (`unix:...`)
 */
export async function listChassis(runner: Runner, sbDb: string): Promise<ChassisInfo[]> {
  const { stdout } = await runner.run([
    "ovn-sbctl",
    `--db=${sbDb}`,
    "--timeout=5",
    "--format=json",
    "--columns=name,hostname,encaps",
    "list",
    "Chassis",
  ], { timeoutMs: 10_000 });
  const encaps = await runner.run([
    "ovn-sbctl",
    `--db=${sbDb}`,
    "--timeout=5",
    "--format=json",
    "--columns=_uuid,ip",
    "list",
    "Encap",
  ], { timeoutMs: 10_000 });
  const ipOf = new Map<string, string>();
  for (const row of (JSON.parse(encaps.stdout) as { data: unknown[][] }).data) {
    ipOf.set(String((row[0] as unknown[])[1]), String(row[1]));
  }
  return (JSON.parse(stdout) as { data: unknown[][] }).data.map((row) => {
    const e = row[2] as [string, unknown];
    const uuids = e[0] === "set"
      ? (e[1] as [string, string][]).map((u) => u[1])
      : [(e as unknown as [string, string])[1]];
    return {
      name: String(row[0]),
      hostname: String(row[1]),
      encapIps: uuids.map((u) => ipOf.get(u) ?? "?"),
    };
  });
}

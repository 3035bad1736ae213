/**
 * The lab's few database reads and writes, over the project's OVSDB client: a node's
 * Open_vSwitch row and underlay bridge, and the SB chassis list. Each call opens one
 * short-lived connection (unix sockets, sub-millisecond) so the lab holds no sessions.
 *
 * @module
 */
import { op, OvsdbClient } from "../ovsdb/mod.ts";

/** One registered chassis. */
export interface ChassisInfo {
  name: string;
  hostname: string;
  encapIps: string[];
}

const TIMEOUT_MS = 10_000;

async function withDb<T>(
  remote: string,
  database: string,
  fn: (db: OvsdbClient) => Promise<T>,
): Promise<T> {
  await using db = await OvsdbClient.connect({
    remotes: remote,
    database,
    timeoutMs: TIMEOUT_MS,
    requestTimeoutMs: TIMEOUT_MS,
  });
  return await fn(db);
}

type Rows = Array<Record<string, unknown>>;

async function select(
  db: OvsdbClient,
  table: string,
  where: Parameters<typeof op.select>[1],
  columns: string[],
): Promise<Rows> {
  const [r] = await db.transact([op.select(table, where, columns)]);
  return ((r as { rows?: Rows } | undefined)?.rows) ?? [];
}

/**
 * Creates the Open_vSwitch row when missing (as `ovs-vsctl init`) and merges keys into
 * its `external_ids`.
 *
 * @param dbSock the node's db.sock
 * @param externalIds keys to set
 */
export async function initOpenVswitch(
  dbSock: string,
  externalIds: Record<string, string>,
): Promise<void> {
  await withDb(`unix:${dbSock}`, "Open_vSwitch", async (db) => {
    const [row] = await select(db, "Open_vSwitch", [], ["_uuid", "external_ids"]);
    if (!row) {
      await db.transact([
        op.wait("Open_vSwitch", [], ["_uuid"], "==", []),
        op.insert("Open_vSwitch", { external_ids: externalIds }),
      ]);
      return;
    }
    const merged = { ...(row.external_ids as Record<string, string>), ...externalIds };
    await db.transact([
      op.update("Open_vSwitch", [["_uuid", "==", row._uuid]], { external_ids: merged }),
    ]);
  });
}

/**
 * Creates a netdev bridge with its internal port and one more port (the underlay NIC),
 * as `ovs-vsctl add-br B -- set Bridge B datapath_type=netdev -- add-port B P`. Does
 * nothing when the bridge exists. ovs-vswitchd creates the device shortly after.
 *
 * @param dbSock the node's db.sock
 * @param bridge bridge name (`br-phy`)
 * @param port port name (`eth1`)
 */
export async function addNetdevBridge(dbSock: string, bridge: string, port: string): Promise<void> {
  await withDb(`unix:${dbSock}`, "Open_vSwitch", async (db) => {
    if ((await select(db, "Bridge", [["name", "==", bridge]], ["_uuid"])).length) return;
    await db.transact([
      op.wait("Bridge", [["name", "==", bridge]], ["name"], "==", []),
      op.insert("Interface", { name: bridge, type: "internal" }, { uuidName: "bi" }),
      op.insert("Port", { name: bridge, interfaces: ["bi"] }, { uuidName: "bp" }),
      op.insert("Interface", { name: port }, { uuidName: "pi" }),
      op.insert("Port", { name: port, interfaces: ["pi"] }, { uuidName: "pp" }),
      op.insert("Bridge", { name: bridge, datapath_type: "netdev", ports: ["bp", "pp"] }, {
        uuidName: "br",
      }),
      op.mutate("Open_vSwitch", [], [["bridges", "insert", ["br"]]]),
    ]);
  });
}

/**
 * Reads a bridge's datapath type.
 *
 * @param dbSock the node's db.sock
 * @param bridge bridge name
 * @returns the type (`netdev`, or `""` for the default), or `undefined` when absent
 */
export async function bridgeDatapathType(
  dbSock: string,
  bridge: string,
): Promise<string | undefined> {
  return await withDb(`unix:${dbSock}`, "Open_vSwitch", async (db) => {
    const [row] = await select(db, "Bridge", [["name", "==", bridge]], ["datapath_type"]);
    return row === undefined ? undefined : String(row.datapath_type);
  });
}

/**
 * Lists the chassis registered in SB with their encapsulation addresses.
 *
 * @param sbDb SB remote (`unix:...`, `tcp:...`)
 * @returns the chassis, sorted by name
 */
export async function listChassis(sbDb: string): Promise<ChassisInfo[]> {
  return await withDb(sbDb, "OVN_Southbound", async (db) => {
    const chassis = await select(db, "Chassis", [], ["name", "hostname", "encaps"]);
    const encaps = await select(db, "Encap", [], ["_uuid", "ip"]);
    const ipOf = new Map(encaps.map((e) => [String(e._uuid), String(e.ip)]));
    return chassis.map((c) => ({
      name: String(c.name),
      hostname: String(c.hostname),
      encapIps: (c.encaps as string[]).map((u) => ipOf.get(u) ?? "?"),
    })).sort((a, b) => a.name.localeCompare(b.name));
  });
}

/**
 * Lists the remote IPs of a node's geneve tunnel interfaces (made by ovn-controller).
 *
 * @param dbSock the node's db.sock
 * @returns the peers' encap IPs, sorted
 */
export async function tunnelRemotes(dbSock: string): Promise<string[]> {
  return await withDb(`unix:${dbSock}`, "Open_vSwitch", async (db) => {
    const rows = await select(db, "Interface", [["type", "==", "geneve"]], ["options"]);
    return rows.map((r) => (r.options as Record<string, string>).remote_ip ?? "").sort();
  });
}

/** A database as a client sees it. */
export interface DatabaseInfo {
  /** The remote used. */
  remote: string;
  /** Whether the database answered. */
  ok: boolean;
  /** Schema version, when it answered. */
  version?: string;
  /** Why not, when it did not. */
  error?: string;
}

/**
 * Connects to a database the way a node would and reads its schema version.
 *
 * @param remote the remote (`tcp:IP:6641`)
 * @param database database name
 * @returns what answered, or why not (never throws)
 */
export async function databaseInfo(remote: string, database: string): Promise<DatabaseInfo> {
  try {
    await using db = await OvsdbClient.connect({
      remotes: remote,
      database,
      timeoutMs: 5000,
      requestTimeoutMs: 5000,
    });
    return { remote, ok: true, version: db.schema.version };
  } catch (err) {
    return { remote, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

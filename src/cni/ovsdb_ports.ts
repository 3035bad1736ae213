/**
 * {@linkcode PortOps} over one native OVSDB connection to the local Open_vSwitch
 * database: no `ovs-vsctl` process per step (each costs 5-15 ms here). ADD makes three
 * transactions and one conditional monitor on the pod's Interface row:
 *
 * 1. `hostInfo`: select the Open_vSwitch row's external_ids and the bridge's datapath_type;
 * 2. `plug`: select the old Port of that name; then one transaction that `wait`s for the
 *    bridge (fails cleanly when it is missing), unlinks the old Port (Port and Interface
 *    are not root tables, so unreferenced rows are garbage-collected), inserts the new
 *    Interface and Port and links the Port into the bridge;
 * 3. `waitInstalled`: monitor `Interface` where `name == <port>` until ovn-controller
 *    sets `external_ids:ovn-installed=true`.
 *
 * @module
 */
import { type ConnectOptions, ops, OvsdbClient } from "../ovsdb/mod.ts";
import type { OvsTables } from "../ovs/vswitch_models.ts";
import type { HostInfo, PlugSpec, PortOps, PortState } from "./ovs_port.ts";

/** Options of {@linkcode OvsdbPorts}. */
export interface OvsdbPortsOptions {
  /** The local database, e.g. `unix:/var/run/openvswitch/db.sock`. */
  remote: string;
  /** Limit of the connection and of each transaction, in ms. */
  timeoutMs: number;
  /** Connects (injected for tests). */
  connect?: (opts: ConnectOptions) => Promise<OvsdbClient<OvsTables>>;
}

const ovs = ops<OvsTables>();

/** {@linkcode PortOps} with the project's OVSDB client. Needs `--allow-net` (and read/write on the socket). */
export class OvsdbPorts implements PortOps {
  #opts: OvsdbPortsOptions;
  #client: Promise<OvsdbClient<OvsTables>> | undefined;

  /** @param opts remote, timeout */
  constructor(opts: OvsdbPortsOptions) {
    this.#opts = opts;
  }

  #db(): Promise<OvsdbClient<OvsTables>> {
    this.#client ??= (this.#opts.connect ?? ((o) => OvsdbClient.connect<OvsTables>(o)))({
      remotes: this.#opts.remote,
      database: "Open_vSwitch",
      timeoutMs: this.#opts.timeoutMs,
      requestTimeoutMs: this.#opts.timeoutMs,
      probeIntervalMs: 0,
    });
    return this.#client;
  }

  async #portUuid(name: string): Promise<string | undefined> {
    const db = await this.#db();
    const [r] = await db.transact([ovs.select("Port", [["name", "==", name]], ["_uuid"])]);
    return r?.rows?.[0]?._uuid as string | undefined;
  }

  /** @inheritdoc */
  async hostInfo(bridge: string): Promise<HostInfo> {
    const db = await this.#db();
    const [o, b] = await db.transact([
      ovs.select("Open_vSwitch", [], ["external_ids"]),
      ovs.select("Bridge", [["name", "==", bridge]], ["datapath_type"]),
    ]);
    const ids = o?.rows?.[0]?.external_ids;
    const br = b?.rows?.[0];
    return {
      externalIds: typeof ids === "object" && ids !== null ? ids as Record<string, string> : {},
      datapathType: br === undefined ? undefined : String(br.datapath_type ?? ""),
    };
  }

  /** @inheritdoc */
  async plug(s: PlugSpec): Promise<void> {
    const db = await this.#db();
    const old = await this.#portUuid(s.name);
    await db.transact([
      ovs.wait("Bridge", [["name", "==", s.bridge]], ["name"], "==", [{ name: s.bridge }], 0),
      ...(old ? [ovs.mutate("Bridge", [], [["ports", "delete", [old]]])] : []),
      ovs.insert("Interface", { name: s.name, external_ids: s.externalIds }, { uuidName: "iface" }),
      ovs.insert("Port", { name: s.name, interfaces: ["iface"] }, { uuidName: "port" }),
      ovs.mutate("Bridge", [["name", "==", s.bridge]], [["ports", "insert", ["port"]]]),
    ]).catch((err: Error) => {
      throw new Error(
        /timed out|wait/i.test(err.message)
          ? `no bridge named ${s.bridge}`
          : `transaction adding port ${s.name} to ${s.bridge} failed: ${err.message}`,
        { cause: err },
      );
    });
  }

  /** @inheritdoc */
  async waitInstalled(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const db = await this.#db();
    const mon = await db.monitor({
      Interface: { columns: ["name", "external_ids"], where: [["name", "==", name]] },
    });
    try {
      await db.cache.waitFor(
        "Interface",
        (r) => r.name === name && r.external_ids?.["ovn-installed"] === "true",
        { timeoutMs, ...(signal ? { signal } : {}) },
      );
    } finally {
      await mon.cancel();
    }
  }

  /** @inheritdoc */
  async unplug(name: string): Promise<void> {
    const old = await this.#portUuid(name);
    if (!old) return;
    const db = await this.#db();
    await db.transact([ovs.mutate("Bridge", [], [["ports", "delete", [old]]])]);
  }

  /** @inheritdoc */
  async lookup(name: string): Promise<PortState | undefined> {
    const db = await this.#db();
    const [i, p] = await db.transact([
      ovs.select("Interface", [["name", "==", name]], ["external_ids"]),
      ovs.select("Port", [["name", "==", name]], ["_uuid"]),
    ]);
    const iface = i?.rows?.[0];
    if (!iface) return undefined;
    const uuid = p?.rows?.[0]?._uuid as string | undefined;
    let bridge = "";
    if (uuid) {
      const [b] = await db.transact([
        ovs.select("Bridge", [["ports", "includes", [uuid]]], ["name"]),
      ]);
      bridge = String(b?.rows?.[0]?.name ?? "");
    }
    return { bridge, externalIds: (iface.external_ids ?? {}) as Record<string, string> };
  }

  /** @inheritdoc */
  close(): void {
    this.#client?.then((c) => c.close(), () => {});
  }
}

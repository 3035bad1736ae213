/**
 * {@linkcode PortOps} over one JSON-RPC session to the local Open_vSwitch database,
 * without `ovs-vsctl` (a process per step, 5-15 ms each here) and without the full
 * OVSDB client's connect sequence (`_Server` check, `get_schema` of the 60 KB
 * Open_vSwitch schema, whose parse alone costs several ms on the CNI's short-lived
 * path). The handful of operations the plugin sends are written in RFC 7047 wire
 * notation here, over the project's framing and RPC layer (`RpcSession`).
 *
 * ADD sends: one transaction reading the Open_vSwitch row's external_ids and the
 * bridge's datapath_type; a select of the old Port of that name; one transaction that
 * `wait`s for the bridge (so it fails cleanly when the bridge is missing), unlinks the
 * old Port (Port and Interface are not root tables: unreferenced rows are
 * garbage-collected), inserts the new Interface and Port and links the Port into the
 * bridge; then selects of the Interface every 5 ms (growing to 100 ms) until
 * ovn-controller sets `external_ids:ovn-installed=true` (typically 5-30 ms).
 *
 * @module
 */
// The framing/RPC and remote modules only, not ovsdb/mod.ts: the CNI path does not load
// the client, cache, schema and notation modules it does not use.
import { openRemote, parseRemote } from "../ovsdb/remote.ts";
import { RpcSession } from "../ovsdb/rpc.ts";
import type { HostInfo, PlugSpec, PortOps, PortState } from "./ovs_port.ts";
import { abortableSleep } from "./sleep.ts";

/** Options of {@linkcode OvsdbPorts}. */
export interface OvsdbPortsOptions {
  /** The local database, e.g. `unix:/var/run/openvswitch/db.sock`. */
  remote: string;
  /** Limit of the connection and of each transaction, in ms. */
  timeoutMs: number;
  /** Opens the session (injected for tests). */
  open?: () => Promise<RpcSession>;
}

type WireOp = Record<string, unknown>;
type WireRow = Record<string, unknown>;

const DB = "Open_vSwitch";

/** Reads a wire map (`["map", [[k, v]...]]`) into an object. */
function wireMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === "map" && Array.isArray(v[1])) {
    for (const p of v[1] as unknown[]) {
      if (Array.isArray(p)) out[String(p[0])] = String(p[1]);
    }
  }
  return out;
}

/** Reads a wire uuid (`["uuid", "..."]`). */
function wireUuid(v: unknown): string | undefined {
  return Array.isArray(v) && v[0] === "uuid" ? String(v[1]) : undefined;
}

/** `PortOps` over a raw OVSDB session. Needs `--allow-net` (and read/write on the socket). */
export class OvsdbPorts implements PortOps {
  #opts: OvsdbPortsOptions;
  #session: Promise<RpcSession> | undefined;

  /** @param opts remote, timeout */
  constructor(opts: OvsdbPortsOptions) {
    this.#opts = opts;
  }

  #open(): Promise<RpcSession> {
    this.#session ??= (this.#opts.open ?? (async () => {
      const remote = parseRemote(this.#opts.remote);
      const conn = await openRemote(remote);
      return new RpcSession(conn, { peer: remote.text, probeIntervalMs: 0 });
    }))();
    return this.#session;
  }

  /** Runs one transaction; returns each operation's result; throws the first error. */
  async #transact(ops: WireOp[], signal?: AbortSignal): Promise<{ rows?: WireRow[] }[]> {
    const session = await this.#open();
    const signals = [AbortSignal.timeout(this.#opts.timeoutMs), ...(signal ? [signal] : [])];
    const any = AbortSignal.any(signals);
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(
          new Error(
            `Cannot finish the transaction on ${this.#opts.remote}: ` +
              (signal?.aborted ? "aborted" : `no answer within ${this.#opts.timeoutMs} ms`),
          ),
        );
      any.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const res = await Promise.race([session.request("transact", [DB, ...ops]), aborted]);
      const results = res as ({ rows?: WireRow[]; error?: string; details?: string } | null)[];
      results.forEach((r, i) => {
        if (r?.error) {
          throw new Error(
            `operation ${i} (${ops[i]?.op ?? "commit"}) failed: ${r.error}` +
              (r.details ? `: ${r.details}` : ""),
          );
        }
      });
      return results.map((r) => r ?? {});
    } finally {
      any.removeEventListener("abort", onAbort);
    }
  }

  async #portUuid(name: string): Promise<string | undefined> {
    const [r] = await this.#transact([
      { op: "select", table: "Port", where: [["name", "==", name]], columns: ["_uuid"] },
    ]);
    return wireUuid(r?.rows?.[0]?._uuid);
  }

  /** @inheritdoc */
  async hostInfo(bridge: string): Promise<HostInfo> {
    const [o, b] = await this.#transact([
      { op: "select", table: "Open_vSwitch", where: [], columns: ["external_ids"] },
      {
        op: "select",
        table: "Bridge",
        where: [["name", "==", bridge]],
        columns: ["datapath_type"],
      },
    ]);
    const br = b?.rows?.[0];
    return {
      externalIds: wireMap(o?.rows?.[0]?.external_ids),
      datapathType: br === undefined ? undefined : String(br.datapath_type ?? ""),
    };
  }

  /** @inheritdoc */
  async plug(s: PlugSpec): Promise<void> {
    const old = await this.#portUuid(s.name);
    const ids = ["map", Object.entries(s.externalIds)];
    try {
      await this.#transact([
        {
          op: "wait",
          table: "Bridge",
          where: [["name", "==", s.bridge]],
          columns: ["name"],
          until: "==",
          rows: [{ name: s.bridge }],
          timeout: 0,
        },
        ...(old
          ? [{
            op: "mutate",
            table: "Bridge",
            where: [],
            mutations: [["ports", "delete", ["uuid", old]]],
          }]
          : []),
        {
          op: "insert",
          table: "Interface",
          row: { name: s.name, external_ids: ids },
          "uuid-name": "iface",
        },
        {
          op: "insert",
          table: "Port",
          row: { name: s.name, interfaces: ["named-uuid", "iface"] },
          "uuid-name": "port",
        },
        {
          op: "mutate",
          table: "Bridge",
          where: [["name", "==", s.bridge]],
          mutations: [["ports", "insert", ["named-uuid", "port"]]],
        },
      ]);
    } catch (err) {
      const msg = (err as Error).message;
      throw new Error(
        /operation 0 .*timed out/.test(msg)
          ? `no bridge named ${s.bridge}`
          : `adding port ${s.name} to ${s.bridge}: ${msg}`,
        { cause: err },
      );
    }
  }

  /** @inheritdoc */
  async waitInstalled(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const select = {
      op: "select",
      table: "Interface",
      where: [["name", "==", name]],
      columns: ["external_ids"],
    };
    for (let delay = 5;; delay = Math.min(100, delay * 1.5)) {
      signal?.throwIfAborted();
      const [r] = await this.#transact([select], signal);
      const row = r?.rows?.[0];
      if (wireMap(row?.external_ids)["ovn-installed"] === "true") return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          row
            ? `interface ${name} has no external_ids:ovn-installed=true after ${timeoutMs} ms`
            : `interface ${name} disappeared from the database`,
        );
      }
      await abortableSleep(Math.min(delay, left), signal);
    }
  }

  /** @inheritdoc */
  async unplug(name: string): Promise<void> {
    const old = await this.#portUuid(name);
    if (!old) return;
    await this.#transact([
      { op: "mutate", table: "Bridge", where: [], mutations: [["ports", "delete", ["uuid", old]]] },
    ]);
  }

  /** @inheritdoc */
  async lookup(name: string): Promise<PortState | undefined> {
    const [i, p] = await this.#transact([
      {
        op: "select",
        table: "Interface",
        where: [["name", "==", name]],
        columns: ["external_ids"],
      },
      { op: "select", table: "Port", where: [["name", "==", name]], columns: ["_uuid"] },
    ]);
    const iface = i?.rows?.[0];
    if (!iface) return undefined;
    const uuid = wireUuid(p?.rows?.[0]?._uuid);
    let bridge = "";
    if (uuid) {
      const [b] = await this.#transact([{
        op: "select",
        table: "Bridge",
        where: [["ports", "includes", ["uuid", uuid]]],
        columns: ["name"],
      }]);
      bridge = String(b?.rows?.[0]?.name ?? "");
    }
    return { bridge, externalIds: wireMap(iface.external_ids) };
  }

  /** @inheritdoc */
  close(): void {
    this.#session?.then((s) => s.close(), () => {});
  }
}

/**
 * The pod's port on the integration bridge, in the local Open_vSwitch database.
 *
 {@linkcode PortOps} is what the plugin needs; `ovsdb_ports.ts` implements it over
 * one native OVSDB connection (the default: no process spawns), {@linkcode VsctlPorts}
 * with `ovs-vsctl` (config `"ovsDriver": "ovs-vsctl"`). Every ovs-vsctl call carries
 * `--timeout` (gotcha G4: a wait without a timeout can block forever).
 *
 * @module
 */
import { CommandError, type Runner } from "../exec/mod.ts";

/** What the plugin reads back about a port. */
export interface PortState {
  /** The bridge the port is on. */
  bridge: string;
  /** The Interface row's `external_ids`. */
  externalIds: Record<string, string>;
}

/** A port to plug. */
export interface PlugSpec {
  bridge: string;
  /** Port and interface name: the host end of the veth. */
  name: string;
  /** Interface `external_ids` (iface-id, attached-mac, ...). */
  externalIds: Record<string, string>;
}

/** What the plugin reads about the host before it creates anything. */
export interface HostInfo {
  /** The Open_vSwitch row's `external_ids` (k8s-api-server and friends). */
  externalIds: Record<string, string>;
  /** The bridge's `datapath_type` ("" means `system`), or `undefined` when it is missing. */
  datapathType: string | undefined;
}

/** The OVS operations the plugin needs. */
export interface PortOps {
  /** Reads the Open_vSwitch row's external_ids and the bridge's datapath type. */
  hostInfo(bridge: string): Promise<HostInfo>;
  /**
   * Replaces any port of that name with a fresh one on the bridge (a fresh row has no
   * stale `ovn-installed`).
   */
  plug(spec: PlugSpec): Promise<void>;
  /**
   * Waits until ovn-controller sets `external_ids:ovn-installed=true` on the interface.
   * @throws {Error} when it does not happen within `timeoutMs`
   */
  waitInstalled(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Removes the port; succeeds when it is already gone. */
  unplug(name: string): Promise<void>;
  /** Reads a port, or `undefined` when there is no interface of that name. */
  lookup(name: string): Promise<PortState | undefined>;
  /** Releases connections. */
  close(): void;
}

/** Options of {@linkcode VsctlPorts}. */
export interface VsctlPortsOptions {
  /** `--db` remote, e.g. `unix:/run/ovs/db.sock`; default: ovs-vsctl's (OVS_RUNDIR). */
  db?: string;
  /** `--timeout` of each call, in ms. */
  timeoutMs: number;
  /** Program path (default `ovs-vsctl`). */
  vsctl?: string;
}

/**
 * Quotes a string as an OVSDB atom for ovs-vsctl's `column:key=value` syntax.
 *
 * @param s the value
 * @returns the double-quoted, escaped value
 */
export function quoteAtom(s: string): string {
  return JSON.stringify(s);
}

/**
 * Reads ovs-vsctl's `--format=json` rendering of a map column (`["map", [[k, v]...]]`).
 *
 * @param cell the cell
 * @returns the map as an object
 */
export function parseJsonMap(cell: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(cell) || cell[0] !== "map" || !Array.isArray(cell[1])) return out;
  for (const pair of cell[1] as unknown[]) {
    if (Array.isArray(pair) && typeof pair[0] === "string") out[pair[0]] = String(pair[1]);
  }
  return out;
}

/** {@linkcode PortOps} with `ovs-vsctl`. Needs `--allow-run`. */
export class VsctlPorts implements PortOps {
  #run: Runner;
  #opts: VsctlPortsOptions;

  /**
   * @param runner the process runner
   * @param opts database, timeout and program path
   */
  constructor(runner: Runner, opts: VsctlPortsOptions) {
    this.#run = runner;
    this.#opts = opts;
  }

  #argv(timeoutMs: number, args: string[]): string[] {
    return [
      this.#opts.vsctl ?? "ovs-vsctl",
      `--timeout=${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
      ...(this.#opts.db ? [`--db=${this.#opts.db}`] : []),
      ...args,
    ];
  }

  /** @inheritdoc */
  async plug(s: PlugSpec): Promise<void> {
    const ids = Object.entries(s.externalIds).map(([k, v]) => `external_ids:${k}=${quoteAtom(v)}`);
    await this.#run.run(this.#argv(this.#opts.timeoutMs, [
      "--no-wait",
      "--",
      "--if-exists",
      "del-port",
      s.name,
      "--",
      "add-port",
      s.bridge,
      s.name,
      "--",
      "set",
      "Interface",
      s.name,
      ...ids,
    ]));
  }

  /** @inheritdoc */
  async waitInstalled(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.#run.run(
      this.#argv(timeoutMs, [
        "wait-until",
        "Interface",
        name,
        "external_ids:ovn-installed=true",
      ]),
      { timeoutMs: timeoutMs + 2000, ...(signal ? { signal } : {}) },
    );
  }

  /** @inheritdoc */
  async unplug(name: string): Promise<void> {
    await this.#run.run(
      this.#argv(this.#opts.timeoutMs, ["--no-wait", "--if-exists", "del-port", name]),
    );
  }

  async #find(args: string[]): Promise<unknown[][]> {
    const r = await this.#run.run(this.#argv(this.#opts.timeoutMs, ["--format=json", ...args]));
    const parsed = JSON.parse(r.stdout) as { data?: unknown[][] };
    return parsed.data ?? [];
  }

  /** @inheritdoc */
  async lookup(name: string): Promise<PortState | undefined> {
    const rows = await this.#find([
      "--columns=external_ids",
      "find",
      "Interface",
      `name=${quoteAtom(name)}`,
    ]);
    if (!rows[0]) return undefined;
    const externalIds = parseJsonMap(rows[0][0]);
    const argv = this.#argv(this.#opts.timeoutMs, ["port-to-br", name]);
    const br = await this.#run.run(argv, { check: false });
    if (br.code !== 0 && !/no port named/.test(br.stderr)) {
      throw new CommandError(argv, br.code, br.stderr, br.stdout);
    }
    return { bridge: br.code === 0 ? br.stdout.trim() : "", externalIds };
  }

  /** @inheritdoc */
  async hostInfo(bridge: string): Promise<HostInfo> {
    const rows = await this.#find(["--columns=external_ids", "list", "Open_vSwitch"]);
    const br = await this.#run.run(
      this.#argv(this.#opts.timeoutMs, ["--if-exists", "get", "Bridge", bridge, "datapath_type"]),
    );
    return {
      externalIds: rows[0] ? parseJsonMap(rows[0][0]) : {},
      datapathType: br.stdout === "" ? undefined : br.stdout.replace(/^"(.*)"$/, "$1"),
    };
  }

  /** @inheritdoc */
  close(): void {}
}

/**
 * Links, addresses, routes, sysctls and offloads through `ip`, `sysctl` and `ethtool`,
 * bound to one namespace. {@linkcode HostNet} is what the rest of ovn-k8s uses to change
 * a host: every method is one command through the injected runner.
 *
 * @module
 */
import type { Runner, RunOptions, RunResult } from "../exec/mod.ts";
import { interfaceNameProblem } from "../net/mod.ts";
import { inNetns } from "./netns.ts";

/** One IPv4/IPv6 route as `ip -j route` prints it. */
export interface RouteEntry {
  /** Destination: `default` or a CIDR (a bare address means a host route). */
  dst: string;
  /** Device, when known. */
  dev?: string;
  /** Next hop, when any. */
  gateway?: string;
}

/** One address of a link as `ip -j addr` prints it. */
export interface AddressEntry {
  /** Interface name. */
  ifname: string;
  /** Address with prefix length, e.g. `10.0.0.1/24`. */
  cidr: string;
}

/**
 * Checks an interface name against Linux's rules.
 *
 * @param name the name
 * @param what what the name is for, used in the message
 * @throws {RangeError} when Linux would refuse it (empty, over 15 bytes, `/`, `:`, spaces)
 */
export function checkIfname(name: string, what = "interface name"): void {
  const problem = interfaceNameProblem(name);
  if (problem !== undefined) {
    throw new RangeError(`Cannot use ${what} "${name}": ${problem}; choose another name`);
  }
}

/** Host networking commands bound to one network namespace (or the caller's own). */
export class HostNet {
  /**
   * @param runner command runner
   * @param netns namespace name or path (see `inNetns`); `undefined` for the caller's
   */
  constructor(readonly runner: Runner, readonly netns?: string) {}

  /**
   * Runs a command inside this namespace.
   *
   * @param argv program and arguments
   * @param opts runner options
   * @returns the result
   */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.runner.run(inNetns(this.netns, argv), opts);
  }

  /** Runs `ip ARGS...` in this namespace. */
  ip(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.run(["ip", ...args], opts);
  }

  /**
   * Creates a veth pair; each end may be placed directly into a namespace.
   *
   * @param name this end's name (created in `nameNetns`, default this namespace)
   * @param peer the other end's name
   * @param opts where each end lives
   */
  async addVeth(
    name: string,
    peer: string,
    opts: { netns?: string; peerNetns?: string } = {},
  ): Promise<void> {
    checkIfname(name, "veth name");
    checkIfname(peer, "veth peer name");
    await this.ip([
      "link",
      "add",
      name,
      ...(opts.netns ? ["netns", opts.netns] : []),
      "type",
      "veth",
      "peer",
      "name",
      peer,
      ...(opts.peerNetns ? ["netns", opts.peerNetns] : []),
    ]);
  }

  /** Creates a Linux bridge. */
  async addBridge(name: string): Promise<void> {
    checkIfname(name, "bridge name");
    await this.ip(["link", "add", name, "type", "bridge"]);
  }

  /** Sets a link up, optionally enslaving it to a bridge first. */
  async linkUp(dev: string, opts: { master?: string; mtu?: number } = {}): Promise<void> {
    await this.ip([
      "link",
      "set",
      dev,
      ...(opts.master ? ["master", opts.master] : []),
      ...(opts.mtu ? ["mtu", String(opts.mtu)] : []),
      "up",
    ]);
  }

  /** Deletes a link; succeeds when it does not exist. */
  async deleteLink(dev: string): Promise<void> {
    const r = await this.ip(["link", "delete", dev], { check: false });
    if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) {
      throw new Error(`Cannot delete link "${dev}": ${r.stderr}`);
    }
  }

  /** Whether a link exists in this namespace. */
  async linkExists(dev: string): Promise<boolean> {
    const r = await this.ip(["link", "show", "dev", dev], { check: false });
    return r.code === 0;
  }

  /** Lists link names in this namespace. */
  async links(): Promise<string[]> {
    const { stdout } = await this.ip(["-j", "link", "show"]);
    const rows = JSON.parse(stdout || "[]") as Array<{ ifname?: string }>;
    return rows.map((r) => r.ifname ?? "").filter((n) => n !== "");
  }

  /** Adds an address (`10.0.0.1/24`) to a link; succeeds when it is already there. */
  async addAddress(dev: string, cidr: string): Promise<void> {
    const r = await this.ip(["addr", "add", cidr, "dev", dev], { check: false });
    if (r.code !== 0 && !/File exists/.test(r.stderr)) {
      throw new Error(`Cannot add address ${cidr} to "${dev}": ${r.stderr}`);
    }
  }

  /** Lists the addresses of this namespace, of one family. */
  async addresses(family: 4 | 6 = 4): Promise<AddressEntry[]> {
    const { stdout } = await this.ip([`-${family}`, "-j", "addr", "show"]);
    return parseAddresses(stdout);
  }

  /** Lists the routes of this namespace (all tables), of one family. */
  async routes(family: 4 | 6 = 4): Promise<RouteEntry[]> {
    const { stdout } = await this.ip([`-${family}`, "-j", "route", "show", "table", "all"]);
    return parseRoutes(stdout);
  }

  /**
   * Sets sysctls in this namespace (`net.ipv4.conf.all.rp_filter` = `1`, ...).
   *
   * @param values key to value
   */
  async sysctl(values: Record<string, string | number>): Promise<void> {
    const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
    if (args.length) await this.run(["sysctl", "-q", "-w", ...args]);
  }

  /**
   * Turns transmit checksum offload off on a link (gotcha G1: TCP sent into an OVS
   * userspace-datapath port otherwise arrives with a partial checksum and is dropped).
   *
   * @param dev the link
   */
  async txOffloadOff(dev: string): Promise<void> {
    await this.run(["ethtool", "-K", dev, "tx", "off"]);
  }
}

/**
 * Parses `ip -j addr show`.
 *
 * @param json the command's stdout
 * @returns one entry per address
 */
export function parseAddresses(json: string): AddressEntry[] {
  const rows = JSON.parse(json || "[]") as Array<{
    ifname?: string;
    addr_info?: Array<{ local?: string; prefixlen?: number }>;
  }>;
  const out: AddressEntry[] = [];
  for (const row of rows) {
    for (const a of row.addr_info ?? []) {
      if (row.ifname && a.local && a.prefixlen !== undefined) {
        out.push({ ifname: row.ifname, cidr: `${a.local}/${a.prefixlen}` });
      }
    }
  }
  return out;
}

/**
 * Parses `ip -j route show`.
 *
 * @param json the command's stdout
 * @returns the routes
 */
export function parseRoutes(json: string): RouteEntry[] {
  const rows = JSON.parse(json || "[]") as Array<{ dst?: string; dev?: string; gateway?: string }>;
  return rows.filter((r) => typeof r.dst === "string").map((r) => ({
    dst: r.dst!,
    ...(r.dev ? { dev: r.dev } : {}),
    ...(r.gateway ? { gateway: r.gateway } : {}),
  }));
}

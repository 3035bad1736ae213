/**
 * Veth plumbing for one pod, through the injected {@linkcode Runner}: `ip` in the
 * node's namespace, and `nsenter --net=<CNI_NETNS>` for work inside the pod's
 * namespace (the process never switches namespace). Process spawns are the main
 * cost of ADD, so the pod end is created directly inside the pod namespace with its
 * final name, MAC and MTU in one `ip link add`, and configured with one `ip -batch`
 * (from a temporary file).
 *
 * @module
 */
import { CommandError, type Runner } from "../exec/mod.ts";

/** The two ends of a pod's veth. */
export interface VethSpec {
  /** Host end name (node namespace). */
  hostName: string;
  /** Host end MAC. */
  hostMac: string;
  /** Pod end name (`CNI_IFNAME`). */
  podName: string;
  /** Pod end MAC; absent: the kernel's, until {@linkcode VethOps.configurePod} sets it. */
  podMac?: string;
  /** Pod namespace path (`CNI_NETNS`). */
  netns: string;
  /** MTU of both ends. */
  mtu: number;
}

/** Addressing of the pod end. */
export interface PodAddressing {
  /** MAC to set before the link goes up. */
  mac?: string;
  /** `ip/len`. */
  cidr: string;
  /** Default gateway. */
  gateway: string;
}

/** A link as `ip -j addr show` describes it. */
export interface LinkState {
  name: string;
  mac: string;
  mtu: number;
  up: boolean;
  /** `ip/len` of every global address. */
  addresses: string[];
}

/** A route as `ip -j route show` describes it. */
export interface RouteState {
  /** `default` is reported as `0.0.0.0/0` or `::/0`. */
  dst: string;
  gw?: string;
}

/** The veth operations the plugin needs; {@linkcode IpVeth} runs them. */
export interface VethOps {
  /**
   * Creates the pair with the pod end already in the pod's namespace.
   * @throws {CommandError} with "File exists" in stderr when a name is taken
   */
  create(spec: VethSpec): Promise<void>;
  /** Sets the pod end's address, brings it up and adds the default route. */
  configurePod(netns: string, ifName: string, addr: PodAddressing): Promise<void>;
  /** `ethtool -K <ifName> tx off` inside the pod namespace (gotcha G1). */
  disableTxOffload(netns: string, ifName: string): Promise<void>;
  /** Deletes a host-side link. @returns false when it did not exist */
  deleteHost(name: string): Promise<boolean>;
  /** Reads a host-side link, or `undefined` when it does not exist. */
  hostLink(name: string): Promise<LinkState | undefined>;
  /** Reads a link inside a pod namespace, or `undefined` when it does not exist. */
  podLink(netns: string, ifName: string): Promise<LinkState | undefined>;
  /** Lists the routes through a link inside a pod namespace. */
  podRoutes(netns: string, ifName: string, family: 4 | 6): Promise<RouteState[]>;
}

/** Paths of the programs {@linkcode IpVeth} runs. */
export interface IpVethOptions {
  ip?: string;
  nsenter?: string;
  ethtool?: string;
  /** Directory of the `ip -batch` files (default: the system's temporary directory). */
  tempDir?: string;
}

const NO_DEVICE = /Cannot find device|does not exist|No such device/;

interface IpAddrJson {
  ifname?: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: { local?: string; prefixlen?: number; scope?: string }[];
}

function toLinkState(j: IpAddrJson): LinkState {
  return {
    name: j.ifname ?? "",
    mac: (j.address ?? "").toLowerCase(),
    mtu: j.mtu ?? 0,
    up: (j.flags ?? []).includes("UP"),
    addresses: (j.addr_info ?? [])
      .filter((a) => a.scope === "global" && a.local !== undefined)
      .map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/**
 * {@linkcode VethOps} with iproute2, nsenter and ethtool. Needs root and `--allow-run`.
 */
export class IpVeth implements VethOps {
  #run: Runner;
  #ip: string;
  #nsenter: string;
  #ethtool: string;
  #tempDir: string | undefined;

  /**
   * @param runner the process runner
   * @param opts program paths (default: found on PATH)
   */
  constructor(runner: Runner, opts: IpVethOptions = {}) {
    this.#run = runner;
    this.#ip = opts.ip ?? "ip";
    this.#nsenter = opts.nsenter ?? "nsenter";
    this.#ethtool = opts.ethtool ?? "ethtool";
    this.#tempDir = opts.tempDir;
  }

  #inNetns(netns: string, argv: string[]): string[] {
    return [this.#nsenter, `--net=${netns}`, ...argv];
  }

  /** @inheritdoc */
  async create(s: VethSpec): Promise<void> {
    const mtu = String(s.mtu);
    await this.#run.run([
      this.#ip,
      "link",
      "add",
      s.hostName,
      "address",
      s.hostMac,
      "mtu",
      mtu,
      "up",
      "type",
      "veth",
      "peer",
      "name",
      s.podName,
      ...(s.podMac ? ["address", s.podMac] : []),
      "mtu",
      mtu,
      "netns",
      s.netns,
    ]);
  }

  /** @inheritdoc */
  async configurePod(netns: string, ifName: string, a: PodAddressing): Promise<void> {
    const batch = [
      ...(a.mac ? [`link set dev ${ifName} address ${a.mac}`] : []),
      `addr add ${a.cidr} dev ${ifName}`,
      `link set ${ifName} up`,
      `route add default via ${a.gateway} dev ${ifName}`,
    ].join("\n") + "\n";
    // A file rather than stdin: writing a child's stdin costs a fresh process ~2 ms of
    // stream setup (nsenter changes only the network namespace: the path stays valid).
    const file = await Deno.makeTempFile({
      prefix: "ovn-k8s-cni-batch-",
      ...(this.#tempDir ? { dir: this.#tempDir } : {}),
    });
    try {
      await Deno.writeTextFile(file, batch);
      await this.#run.run(this.#inNetns(netns, [this.#ip, "-batch", file]));
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  }

  /** @inheritdoc */
  async disableTxOffload(netns: string, ifName: string): Promise<void> {
    await this.#run.run(this.#inNetns(netns, [this.#ethtool, "-K", ifName, "tx", "off"]));
  }

  /** @inheritdoc */
  async deleteHost(name: string): Promise<boolean> {
    const r = await this.#run.run([this.#ip, "link", "del", name], { check: false });
    if (r.code === 0) return true;
    if (NO_DEVICE.test(r.stderr)) return false;
    throw new CommandError([this.#ip, "link", "del", name], r.code, r.stderr, r.stdout);
  }

  async #link(argv: string[]): Promise<LinkState | undefined> {
    const r = await this.#run.run(argv, { check: false });
    if (r.code !== 0) {
      if (NO_DEVICE.test(r.stderr)) return undefined;
      throw new CommandError(argv, r.code, r.stderr, r.stdout);
    }
    const list = JSON.parse(r.stdout || "[]") as IpAddrJson[];
    return list[0] ? toLinkState(list[0]) : undefined;
  }

  /** @inheritdoc */
  hostLink(name: string): Promise<LinkState | undefined> {
    return this.#link([this.#ip, "-j", "addr", "show", "dev", name]);
  }

  /** @inheritdoc */
  podLink(netns: string, ifName: string): Promise<LinkState | undefined> {
    return this.#link(this.#inNetns(netns, [this.#ip, "-j", "addr", "show", "dev", ifName]));
  }

  /** @inheritdoc */
  async podRoutes(netns: string, ifName: string, family: 4 | 6): Promise<RouteState[]> {
    const r = await this.#run.run(
      this.#inNetns(netns, [this.#ip, "-j", `-${family}`, "route", "show", "dev", ifName]),
    );
    const list = JSON.parse(r.stdout || "[]") as { dst?: string; gateway?: string }[];
    return list.map((e) => {
      const dst = e.dst === "default" ? (family === 4 ? "0.0.0.0/0" : "::/0") : e.dst ?? "";
      return e.gateway ? { dst, gw: e.gateway } : { dst };
    });
  }
}

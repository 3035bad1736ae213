/**
 * What master-init and minion-init share (reference §4-§6): validate every input,
 * read OVN NB, plan the cluster and node objects, commit them in ONE transaction (none
 * when nothing changed), add the management port to the local OVS, configure it on the
 * host through `ip`, and (minion) install the CNI link and config file.
 *
 * Order matters for "bad input writes nothing": everything that can be checked,
 * including the checks against NB (overlapping subnets, the cluster router), runs before
 * the first write. `--node-subnet auto` commits its choice under a `wait` on every
 * switch's subnet, and retries from a fresh read when another node won the race.
 *
 * @module
 */
import { ValidationError } from "../cli/mod.ts";
import type { Runner } from "../exec/mod.ts";
import { HostNet } from "../host/mod.ts";
import { findSubnetConflict, nextFreeSubnet } from "../ipam/mod.ts";
import type { Logger } from "../log/mod.ts";
import { formatIpv4, interfaceNameProblem, Ipv4Cidr } from "../net/mod.ts";
import {
  chooseManagementMac,
  findClusterRouter,
  hasWrites,
  makeManagementInterfaceName,
  makeManagementPortName,
  makeNodeSwitchName,
  type NbState,
  nbStateReadOps,
  nodeAddresses,
  nodeSubnets,
  normalizeNodeName,
  parseNbState,
  planCluster,
  planNode,
  recordedClusterSubnet,
  type RouterRef,
  SUBNET_ALLOCATED_ID,
  subnetGuardOp,
} from "../ovn/mod.ts";
import { type Operation, OvsdbError } from "../ovsdb/mod.ts";
import { HOST_KEYS, INTEGRATION_BRIDGE, managementPortOps } from "../ovs/mod.ts";
import {
  connectLocal,
  connectNb,
  type DbConnector,
  type DbHandle,
  type NbSslFiles,
  readOvsState,
} from "./_local_ovs.ts";

/** Default overlay MTU (geneve headroom), as the original. */
export const DEFAULT_MTU = 1400;
/** Default prefix length of an allocated node subnet. */
export const DEFAULT_NODE_SUBNET_SIZE = 24;
/** How often the NB step is retried (lost `auto` races, NB leader changes). */
const NB_ATTEMPTS = 10;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where the CNI plugin goes (minion-init). */
export interface CniInstall {
  /** Directory of the `ovn_cni` link (default `/opt/cni/bin`). */
  binDir: string;
  /** Directory of the network config (default `/etc/cni/net.d`). */
  confDir: string;
  /** Config file name (default `10-net.conf`, as the original). */
  confFile: string;
  /** The plugin executable the link points to (this binary). */
  plugin: string;
}

/** Validated inputs of {@linkcode initNode}. */
export interface NodeInitOptions {
  /** `master` also makes the cluster-wide objects. */
  role: "master" | "minion";
  /** Lowercased, validated node name. */
  node: string;
  /** The cluster subnet; a minion may leave it to NB (recorded by master-init). */
  clusterSubnet?: Ipv4Cidr;
  /** The node subnet, or `auto`. */
  nodeSubnet: Ipv4Cidr | "auto";
  /** Prefix length for `auto`. */
  nodeSubnetSize: number;
  /** Service CIDR: routed through the management port when given. */
  serviceCidr?: Ipv4Cidr;
  /** Overlay MTU of the management port. */
  mtu: number;
  /** The management port's OVS interface name. */
  managementInterface: string;
  /** Local OVSDB remote. */
  ovsDb: string;
  /** NB SSL files. */
  nbSsl: NbSslFiles;
  /** Connect timeout for NB and the local database. */
  timeoutMs: number;
  /** The name of the subnet flag in messages (`--master-switch-subnet`, ...). */
  subnetFlag: string;
  /** CNI installation (minion). */
  cni?: CniInstall;
}

/** Injected boundaries of {@linkcode initNode}. */
export interface NodeInitDeps {
  /** Runs `ip` (and nothing else) on this host. */
  runner: Runner;
  /** Opens OVSDB connections. */
  connect: DbConnector;
  /** Reads a text file (SSL files, the current CNI config). */
  readTextFile: (path: string) => Promise<string>;
  /** Filesystem writes for the CNI installation. */
  fs: CniFs;
  /** Logger. */
  log: Logger;
  /** Time to wait for the management interface to appear (default 20 s). */
  linkTimeoutMs?: number;
  /** Sleeps between polls (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

/** The filesystem operations of the CNI installation. */
export interface CniFs {
  mkdir(path: string): Promise<void>;
  readLink(path: string): Promise<string | undefined>;
  /** Replaces `path` atomically with a symlink to `target`. */
  symlinkAtomic(target: string, path: string): Promise<void>;
  /** Replaces `path` atomically (temp file, then rename). */
  writeAtomic(path: string, text: string): Promise<void>;
}

/** What {@linkcode initNode} did. */
export interface NodeInitResult {
  /** The node subnet used. */
  subnet: Ipv4Cidr;
  /** The cluster subnet used. */
  clusterSubnet: Ipv4Cidr;
  /** NB transactions that wrote (0 when NB already matched). */
  nbWrites: number;
  /** Local OVSDB transactions that wrote. */
  ovsWrites: number;
  /** The management port's MAC. */
  managementMac: string;
}

/**
 * Parses a CIDR flag.
 *
 * @param flag flag name for the message
 * @param text its value
 * @returns the network
 * @throws {ValidationError} naming the flag, the value and the fix
 */
export function parseCidrFlag(flag: string, text: string): Ipv4Cidr {
  try {
    return Ipv4Cidr.parse(text);
  } catch (err) {
    const reason = err instanceof SyntaxError
      ? "not an IPv4 CIDR (A.B.C.D/N); pass a network such as 10.244.0.0/16"
      : (err as Error).message.replace(/^Cannot (parse|use) "[^"]*": /, "");
    throw new ValidationError(`Cannot use ${flag} "${text}": ${reason}`);
  }
}

/**
 * Validates a node name.
 *
 * @param flag where it came from
 * @param raw the value
 * @returns the lowercased name
 * @throws {ValidationError} when empty or invalid
 */
export function parseNodeName(flag: string, raw: string | undefined): string {
  try {
    return normalizeNodeName(raw ?? "");
  } catch (err) {
    throw new ValidationError(
      `Cannot use ${flag} "${raw ?? ""}": ${(err as Error).message}; ` +
        "pass the node's Kubernetes name (as kubelet registers it, e.g. the hostname)",
    );
  }
}

/**
 * Validates an interface name.
 *
 * @param flag where it came from
 * @param name the name
 * @returns the name
 * @throws {ValidationError} when Linux would refuse it
 */
export function checkInterfaceName(flag: string, name: string): string {
  const problem = interfaceNameProblem(name);
  if (problem) {
    throw new ValidationError(
      `Cannot use ${flag} "${name}": ${problem}; choose a name of at most 15 characters`,
    );
  }
  return name;
}

/**
 * Checks the pure relations between the inputs (before any connection).
 *
 * @param o options
 * @throws {ValidationError} for a cluster subnet smaller than the node subnet, a node
 *   subnet outside it, or an impossible `auto` size
 */
export function checkStaticInputs(o: NodeInitOptions): void {
  const c = o.clusterSubnet;
  if (!c) return;
  if (o.nodeSubnet === "auto") {
    if (o.nodeSubnetSize < c.prefix || o.nodeSubnetSize > 29) {
      throw new ValidationError(
        `Cannot allocate a /${o.nodeSubnetSize} node subnet from --cluster-ip-subnet ${c}: ` +
          `the size must be between /${c.prefix} and /29; fix --node-subnet-size`,
      );
    }
    return;
  }
  describeConflict(o, c, o.nodeSubnet, new Map());
}

function describeConflict(
  o: NodeInitOptions,
  cluster: Ipv4Cidr,
  subnet: Ipv4Cidr,
  others: ReadonlyMap<string, Ipv4Cidr>,
): void {
  const conflict = findSubnetConflict(cluster, subnet, others);
  if (!conflict) return;
  const head = `Cannot use ${o.subnetFlag} ${subnet}`;
  switch (conflict.kind) {
    case "cluster-too-small":
      throw new ValidationError(
        `${head}: --cluster-ip-subnet ${cluster} is smaller than the node subnet; ` +
          "give a cluster subnet that holds every node subnet (e.g. a /16 for /24 nodes)",
      );
    case "outside":
      throw new ValidationError(
        `${head}: it is outside --cluster-ip-subnet ${cluster}; pick a subnet inside it, ` +
          "or --node-subnet auto",
      );
    case "too-small":
      throw new ValidationError(
        `${head}: it leaves no address for pods after .1 (router) and .2 (management); use /29 or larger`,
      );
    case "overlap":
      throw new ValidationError(
        `${head}: it overlaps node "${conflict.owner}"'s subnet ${conflict.subnet} (read from ` +
          "OVN NB); pick a free subnet, or --node-subnet auto",
      );
    default: {
      const never: never = conflict;
      throw new Error(`unhandled conflict ${JSON.stringify(never)}`);
    }
  }
}

/** Reads the NB state for a node. */
async function readNb(nb: DbHandle, node: string): Promise<NbState> {
  return parseNbState(await nb.transact(nbStateReadOps(node)));
}

/**
 * Decides the cluster subnet: the flag, checked against what master-init recorded; or
 * (minion) the recorded one.
 */
function resolveClusterSubnet(o: NodeInitOptions, state: NbState): Ipv4Cidr {
  const recorded = recordedClusterSubnet(state);
  if (o.role === "minion" && !findClusterRouter(state)) {
    throw new ValidationError(
      "Cannot initialise a minion: OVN NB has no cluster router " +
        "(external_ids:k8s-cluster-router=yes); run master-init on the master first",
    );
  }
  if (o.clusterSubnet && recorded && !recorded.equals(o.clusterSubnet)) {
    throw new ValidationError(
      `Cannot use --cluster-ip-subnet ${o.clusterSubnet}: the cluster was initialised with ` +
        `${recorded} (external_ids:k8s-cluster-subnet on the cluster router); pass ${recorded}`,
    );
  }
  const c = o.clusterSubnet ?? recorded;
  if (!c) {
    throw new ValidationError(
      "Cannot initialise the node: --cluster-ip-subnet is missing and the cluster router " +
        "records none; pass --cluster-ip-subnet",
    );
  }
  return c;
}

/** Picks the node subnet (validated against NB) for one attempt. */
function resolveNodeSubnet(
  o: NodeInitOptions,
  state: NbState,
  cluster: Ipv4Cidr,
): { subnet: Ipv4Cidr; allocated: boolean; guarded: boolean } {
  const switchName = makeNodeSwitchName(o.node);
  const others = nodeSubnets(state, switchName);
  const own = state.switches.find((s) => s.name === switchName);
  if (o.nodeSubnet !== "auto") {
    describeConflict(o, cluster, o.nodeSubnet, others);
    const current = own?.other_config["subnet"];
    return {
      subnet: o.nodeSubnet,
      allocated: false,
      guarded: current !== o.nodeSubnet.toString(),
    };
  }
  // auto: keep the subnet recorded on the node switch, if it still fits.
  const recorded = own?.other_config["subnet"];
  if (recorded) {
    try {
      const s = Ipv4Cidr.parse(recorded);
      if (!findSubnetConflict(cluster, s, others)) {
        return {
          subnet: s,
          allocated: own?.external_ids[SUBNET_ALLOCATED_ID] === "auto",
          guarded: false,
        };
      }
    } catch { /* allocate a new one below */ }
  }
  const free = nextFreeSubnet(cluster, o.nodeSubnetSize, [...others.values()]);
  if (!free) {
    throw new ValidationError(
      `Cannot allocate a /${o.nodeSubnetSize} node subnet: --cluster-ip-subnet ${cluster} is ` +
        `full (${others.size} node subnets); use a larger cluster subnet or a smaller --node-subnet-size`,
    );
  }
  return { subnet: free, allocated: true, guarded: true };
}

function isConnectionLoss(err: unknown): boolean {
  return err instanceof OvsdbError && (err.kind === "disconnected" || err.kind === "timeout");
}

function isGuardFailure(err: unknown): boolean {
  return err instanceof OvsdbError && err.kind === "operation" && err.index === 0 &&
    err.error === "timed out";
}

/** What the NB step decided and wrote. */
interface NbApplied {
  subnet: Ipv4Cidr;
  cluster: Ipv4Cidr;
  mac: string;
  /** 1 when a transaction was committed, 0 when NB already matched. */
  nbWrites: number;
}

/**
 * The NB step: read, validate against NB, plan, and commit once (nothing when NB already
 * matches). Retries from a fresh read after a lost `auto` race or a lost connection (the
 * plan is a diff, so a commit that did happen plans nothing the second time).
 */
async function applyNb(
  o: NodeInitOptions,
  deps: NodeInitDeps,
  nb: DbHandle,
  ovsMac: string | undefined,
): Promise<NbApplied> {
  const log = deps.log;
  for (let attempt = 1;; attempt++) {
    let state: NbState;
    try {
      state = await readNb(nb, o.node);
    } catch (err) {
      if (!isConnectionLoss(err) || attempt >= NB_ATTEMPTS) throw err;
      log.warn("NB connection lost while reading; retrying", { attempt });
      await (deps.sleep ?? delay)(200);
      continue;
    }
    const cluster = resolveClusterSubnet(o, state);
    const chosen = resolveNodeSubnet(o, state, cluster);
    const subnet = chosen.subnet;
    const mac = chooseManagementMac(state, o.node, subnet, ovsMac);
    let clusterOps: Operation[] = [];
    let router: RouterRef;
    let lbs: string[];
    if (o.role === "master") {
      const plan = planCluster(state, cluster);
      clusterOps = plan.ops;
      router = plan.router;
      lbs = plan.loadBalancers;
    } else {
      const r = findClusterRouter(state)!;
      router = { ref: r._uuid, name: r.name };
      lbs = [...state.tcpLoadBalancers, ...state.udpLoadBalancers].map((l) => l._uuid);
    }
    const nodeOps = planNode(state, {
      node: o.node,
      subnet,
      managementMac: mac,
      router,
      loadBalancers: lbs,
      allocated: chosen.allocated,
    });
    const ops = [...clusterOps, ...nodeOps];
    if (!hasWrites(ops)) {
      log.info("OVN NB already up to date: nothing written", {
        node: o.node,
        subnet: subnet.toString(),
      });
      return { subnet, cluster, mac, nbWrites: 0 };
    }
    try {
      await nb.transact(chosen.guarded ? [subnetGuardOp(state), ...ops] : ops);
      log.info("OVN NB updated", {
        node: o.node,
        subnet: subnet.toString(),
        operations: ops.length,
      });
      return { subnet, cluster, mac, nbWrites: 1 };
    } catch (err) {
      if (attempt >= NB_ATTEMPTS) throw err;
      if (isGuardFailure(err)) {
        log.info("node subnets changed while choosing; retrying", { attempt });
      } else if (isConnectionLoss(err)) {
        // The plan is a diff: re-reading shows whether the lost commit happened.
        log.warn("NB connection lost during the commit; re-reading and retrying", {
          attempt,
          error: (err as Error).message,
        });
        await (deps.sleep ?? delay)(200);
      } else throw err;
    }
  }
}

/**
 * Runs master-init or minion-init.
 *
 * @param o validated options
 * @param deps boundaries
 * @returns what was done
 * @throws {ValidationError} for bad input (nothing written); other errors for failures
 */
export async function initNode(o: NodeInitOptions, deps: NodeInitDeps): Promise<NodeInitResult> {
  const log = deps.log;
  checkStaticInputs(o);
  const local = await connectLocal(deps.connect, o.ovsDb, o.timeoutMs);
  try {
    const ifname = o.managementInterface;
    const ovsState = await readOvsState(local, ifname);
    const ids = ovsState.root?.external_ids ?? {};
    const nbRemote = ids[HOST_KEYS.ovnNb];
    if (!nbRemote) {
      throw new ValidationError(
        `Cannot find OVN NB: external_ids:${HOST_KEYS.ovnNb} is not set in the local ` +
          `Open_vSwitch table (${o.ovsDb}); run ovn-k8s setup-host --ovn-nb tcp:CENTRAL_IP:6641`,
      );
    }
    if (!ids[HOST_KEYS.systemId]) {
      throw new ValidationError(
        `Cannot initialise the node: external_ids:${HOST_KEYS.systemId} is not set in the local ` +
          `Open_vSwitch table (${o.ovsDb}); run ovn-k8s setup-host (it keeps one in a file)`,
      );
    }
    const nb = await connectNb(deps.connect, nbRemote, o.nbSsl, o.timeoutMs, deps.readTextFile);
    let applied: NbApplied;
    try {
      applied = await applyNb(o, deps, nb, ovsState.iface?.mac[0]);
    } finally {
      nb.close();
    }
    const { subnet, cluster, mac, nbWrites } = applied;

    // Local OVS: br-int and the management port with its MAC pinned.
    let ovsWrites = 0;
    const portOps = managementPortOps(ovsState, {
      bridge: INTEGRATION_BRIDGE,
      name: ifname,
      ifaceId: makeManagementPortName(o.node),
      mtu: o.mtu,
      mac,
      ...(ids[HOST_KEYS.bridgeDatapathType]
        ? { datapathType: ids[HOST_KEYS.bridgeDatapathType] }
        : {}),
    });
    if (portOps.length) {
      await local.transact(portOps);
      ovsWrites++;
      log.info("management port configured in OVS", { interface: ifname, mac, mtu: o.mtu });
    }

    await configureHost(deps, o, ifname, subnet, cluster);
    if (o.cni) await installCni(deps, o.cni, o);
    return { subnet, clusterSubnet: cluster, nbWrites, ovsWrites, managementMac: mac };
  } finally {
    local.close();
  }
}

/**
 * Waits for the management interface, then gives it its address and the routes to the
 * cluster subnet (and the service CIDR) via the node switch's router port. Idempotent.
 */
async function configureHost(
  deps: NodeInitDeps,
  o: NodeInitOptions,
  ifname: string,
  subnet: Ipv4Cidr,
  cluster: Ipv4Cidr,
): Promise<void> {
  const host = new HostNet(deps.runner);
  const sleep = deps.sleep ?? delay;
  const deadline = Date.now() + (deps.linkTimeoutMs ?? 20_000);
  while (!(await host.linkExists(ifname))) {
    if (Date.now() > deadline) {
      throw new Error(
        `Cannot configure the management port: interface "${ifname}" did not appear within ` +
          `${(deps.linkTimeoutMs ?? 20_000) / 1000} s; is ovs-vswitchd running?`,
      );
    }
    await sleep(100);
  }
  const { routerIp, managementIp } = nodeAddresses(subnet);
  const want = `${managementIp}/${subnet.prefix}`;
  await host.ip(["link", "set", ifname, "up"]);
  const have = (await host.addresses()).filter((a) => a.ifname === ifname).map((a) => a.cidr);
  for (const stale of have.filter((a) => a !== want)) {
    await host.ip(["addr", "del", stale, "dev", ifname]);
  }
  if (!have.includes(want)) await host.ip(["addr", "add", want, "dev", ifname]);
  const routes = [cluster, ...(o.serviceCidr ? [o.serviceCidr] : [])];
  for (const r of routes) {
    await host.ip(["route", "replace", r.toString(), "via", routerIp, "dev", ifname]);
  }
  deps.log.info("management port configured on the host", {
    interface: ifname,
    address: want,
    routes: routes.map(String).join(","),
    via: routerIp,
  });
}

/**
 * The CNI network configuration minion-init writes.
 *
 * @param o options (MTU, local database)
 * @returns the JSON text
 */
export function cniConfig(o: Pick<NodeInitOptions, "mtu" | "ovsDb">): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "ovn-kubernetes",
      type: "ovn_cni",
      bridge: INTEGRATION_BRIDGE,
      mtu: o.mtu,
      ovsdb: o.ovsDb,
    },
    null,
    2,
  ) + "\n";
}

async function installCni(deps: NodeInitDeps, cni: CniInstall, o: NodeInitOptions): Promise<void> {
  await deps.fs.mkdir(cni.binDir);
  const link = `${cni.binDir.replace(/\/+$/, "")}/ovn_cni`;
  if ((await deps.fs.readLink(link)) !== cni.plugin) {
    await deps.fs.symlinkAtomic(cni.plugin, link);
    deps.log.info("CNI plugin linked", { link, target: cni.plugin });
  }
  await deps.fs.mkdir(cni.confDir);
  const conf = `${cni.confDir.replace(/\/+$/, "")}/${cni.confFile}`;
  const text = cniConfig(o);
  const current = await deps.readTextFile(conf).catch(() => undefined);
  if (current !== text) {
    await deps.fs.writeAtomic(conf, text);
    deps.log.info("CNI network config written", { path: conf });
  }
}

/** The real filesystem (needs --allow-read, --allow-write). */
export const realCniFs: CniFs = {
  mkdir: (path) => Deno.mkdir(path, { recursive: true }),
  readLink: async (path) => {
    try {
      return await Deno.readLink(path);
    } catch {
      return undefined;
    }
  },
  symlinkAtomic: async (target, path) => {
    const tmp = `${path}.tmp-${Deno.pid}`;
    await Deno.remove(tmp).catch(() => {});
    await Deno.symlink(target, tmp);
    await Deno.rename(tmp, path);
  },
  writeAtomic: async (path, text) => {
    const tmp = `${path}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, text, { mode: 0o644 });
    await Deno.rename(tmp, path);
  },
};

/**
 * The path of this program for the `ovn_cni` link: the compiled binary, or the bundle's
 * launcher (`dist/ovn-k8s` beside `dist/ovn-k8s.js`, or above `dist/split/main.js`).
 *
 * @returns an absolute path
 */
export function selfExecutable(): string {
  const main = Deno.mainModule;
  if (main.startsWith("file:") && main.endsWith(".js")) {
    // The code-split bundle's entry (dist/split/main.js) has its launcher one level up.
    if (main.endsWith("/split/main.js")) return new URL("../ovn-k8s", main).pathname;
    const path = new URL(main).pathname;
    return path.replace(/\.js$/, "");
  }
  return Deno.execPath();
}

/** Formats an address for logs (re-exported for the roles). */
export { formatIpv4, makeManagementInterfaceName };

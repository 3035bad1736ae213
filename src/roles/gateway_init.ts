/**
 * `ovn-k8s gateway-init` (also `ovn-k8s-overlay gateway-init`): this node's gateway
 * router, join and external ports, routes, SNAT and per-router load balancers (reference
 * §7), attached to the outside through a dedicated NIC (`--physical-interface`) or a
 * shared OVS bridge (`--bridge-interface`). Every input, including the checks against
 * the local OVS and NB, is validated before the first write (bad input: exit 2, nothing
 * written); an unchanged re-run writes nothing. The join IP is allocated under a `wait`
 * on the join ports, so two gateways initialised at once never share one.
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import {
  gatewayOvsReadOps,
  makeBridgeNetworkName,
  nicPortOps,
  parseGatewayOvsState,
  sharedBridgeOps,
} from "../gateway/mod.ts";
import { HostNet } from "../host/mod.ts";
import type { Logger } from "../log/mod.ts";
import { formatIpv4, Ipv4Cidr, parseIpv4, parseMac } from "../net/mod.ts";
import {
  type ExternalAttachment,
  gatewayStateReadOps,
  makeExternalPortName,
  makeGatewayRouterName,
  parseGatewayState,
  planGateway,
  recordedClusterSubnet,
} from "../ovn/mod.ts";
import { type Operation, OvsdbError } from "../ovsdb/mod.ts";
import { HOST_KEYS } from "../ovs/mod.ts";
import {
  connectLocal,
  connectNb,
  connectOvsdb,
  type DbConnector,
  type NbSslFiles,
} from "./_local_ovs.ts";
import { buildDbOptions, DB_OPTIONS, type DbInputs, dbInputsFromFlags } from "./_init_cli.ts";
import { checkInterfaceName, parseCidrFlag, parseNodeName } from "./_node_init.ts";
import type { EnvReader, RoleContext } from "./context.ts";

const OPTIONS = {
  "cluster-ip-subnet": {
    type: "string",
    arg: "CIDR",
    help: "cluster pod subnet (default: the one master-init recorded)",
  },
  "physical-interface": {
    type: "string",
    arg: "NIC",
    help: "a NIC given wholly to OVN (its addresses are flushed)",
  },
  "bridge-interface": {
    type: "string",
    arg: "BRIDGE",
    help: "an OVS bridge shared with the host (see nics-to-bridge)",
  },
  "physical-ip": { type: "string", arg: "IP/MASK", help: "the gateway's external address" },
  "default-gw": { type: "string", arg: "IP", help: "external next hop" },
  "node-name": { type: "string", arg: "NAME", help: "the Kubernetes node name (lowercased)" },
  "rampout-ip-subnets": {
    type: "string",
    arg: "CIDR,...",
    help: "sources whose egress leaves through this gateway",
  },
  ...DB_OPTIONS,
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s gateway-init --physical-interface NIC|--bridge-interface BRIDGE --physical-ip IP/MASK --node-name NAME [options]",
  "Create this node's gateway router and attach it to the outside.",
  OPTIONS,
);

/** Raw inputs (from flags, or from external_ids for `run`). */
export interface GatewayInputs extends DbInputs {
  clusterSubnet?: string | undefined;
  physicalInterface?: string | undefined;
  bridgeInterface?: string | undefined;
  physicalIp?: string | undefined;
  defaultGw?: string | undefined;
  nodeName?: string | undefined;
  rampout?: string | undefined;
}

/** Validated inputs of {@linkcode initGateway}. */
export interface GatewayOptions {
  node: string;
  clusterSubnet?: Ipv4Cidr;
  /**
   * `nic`: a dedicated NIC; `bridge`: a shared OVS bridge; `auto` (run): `bridge` when an
   * OVS bridge of that name exists, else `nic`.
   */
  mode: "nic" | "bridge" | "auto";
  /** The NIC or bridge. */
  iface: string;
  physicalIp: string;
  physicalPrefix: number;
  defaultGw?: string;
  rampout: Ipv4Cidr[];
  ovsDb: string;
  nbSsl: NbSslFiles;
  timeoutMs: number;
}

/** Injected boundaries of {@linkcode initGateway}. */
export interface GatewayDeps {
  /** Runs `ip` on this host. */
  runner: Runner;
  /** Opens OVSDB connections. */
  connect: DbConnector;
  /** Reads SSL files. */
  readTextFile: (path: string) => Promise<string>;
  log: Logger;
  /** Sleeps between retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

/** What {@linkcode initGateway} did. */
export interface GatewayResult {
  router: string;
  /** The mode used (`auto` resolved). */
  mode: "nic" | "bridge";
  joinIp: string;
  /** NB transactions that wrote (0 when NB already matched). */
  nbWrites: number;
  /** Local OVSDB transactions that wrote. */
  ovsWrites: number;
  /** Host commands that changed something (address flush, link up). */
  hostWrites: number;
}

function parseIpFlag(flag: string, text: string): string {
  const n = parseIpv4(text.trim());
  if (n === undefined) {
    throw new ValidationError(`Cannot use ${flag} "${text}": not an IPv4 address; pass A.B.C.D`);
  }
  return formatIpv4(n);
}

/**
 * Validates gateway-init inputs (no I/O).
 *
 * @param i raw inputs
 * @param env environment (OVS_RUNDIR)
 * @param names how the interface inputs are named in messages
 * @returns validated options
 * @throws {ValidationError} for any bad or missing value
 */
export function buildGatewayOptions(
  i: GatewayInputs,
  env: EnvReader,
  names = { physical: "--physical-interface", bridge: "--bridge-interface" },
): GatewayOptions {
  const node = parseNodeName("--node-name", i.nodeName);
  const nic = i.physicalInterface?.trim() || undefined;
  const br = i.bridgeInterface?.trim() || undefined;
  if ((nic === undefined) === (br === undefined)) {
    throw new ValidationError(
      `Cannot run gateway-init: ${
        nic ? "both" : "neither"
      } ${names.physical} and ${names.bridge} given; pass exactly one (a NIC given to OVN, ` +
        "or an OVS bridge shared with the host)",
    );
  }
  const mode = nic ? "nic" as const : "bridge" as const;
  const iface = checkInterfaceName(mode === "nic" ? names.physical : names.bridge, (nic ?? br)!);
  if (!i.physicalIp) {
    throw new ValidationError(
      "Cannot run gateway-init: --physical-ip is missing; pass the gateway's address as IP/MASK",
    );
  }
  let phys: { address: number; cidr: Ipv4Cidr };
  try {
    phys = Ipv4Cidr.parseInterface(i.physicalIp);
  } catch {
    throw new ValidationError(
      `Cannot use --physical-ip "${i.physicalIp}": not an IPv4 address with prefix length; ` +
        "pass IP/MASK such as 172.16.0.10/24",
    );
  }
  const physicalIp = formatIpv4(phys.address);
  if (
    phys.cidr.prefix > 30 || phys.address === phys.cidr.network || phys.address === phys.cidr.last
  ) {
    throw new ValidationError(
      `Cannot use --physical-ip "${i.physicalIp}": not a host address of its subnet; ` +
        "pass the NIC's own address with its prefix length",
    );
  }
  const o: GatewayOptions = {
    node,
    mode,
    iface,
    physicalIp,
    physicalPrefix: phys.cidr.prefix,
    rampout: [],
    ...buildDbOptions(i, env),
  };
  if (i.clusterSubnet) o.clusterSubnet = parseCidrFlag("--cluster-ip-subnet", i.clusterSubnet);
  if (i.defaultGw) {
    const gw = parseIpFlag("--default-gw", i.defaultGw);
    if (!phys.cidr.contains(parseIpv4(gw)!) || gw === physicalIp) {
      throw new ValidationError(
        `Cannot use --default-gw ${gw}: it is not another address of --physical-ip's subnet ` +
          `${phys.cidr}; pass the external router's address on that subnet`,
      );
    }
    o.defaultGw = gw;
  }
  for (const part of (i.rampout ?? "").split(",").map((s) => s.trim()).filter((s) => s)) {
    o.rampout.push(parseCidrFlag("--rampout-ip-subnets", part));
  }
  return o;
}

/**
 * Reads a link's MAC with `ip -j link show`.
 *
 * @returns the MAC, or `undefined` when the link does not exist
 */
async function linkMac(host: HostNet, dev: string): Promise<string | undefined> {
  const r = await host.ip(["-j", "link", "show", "dev", dev], { check: false });
  if (r.code !== 0) return undefined;
  const rows = JSON.parse(r.stdout || "[]") as Array<{ address?: string }>;
  return parseMac(rows[0]?.address ?? "");
}

const NB_ATTEMPTS = 10;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function retriable(err: unknown): boolean {
  return err instanceof OvsdbError &&
    (err.kind === "disconnected" || err.kind === "timeout" ||
      (err.kind === "operation" && err.index === 0 && err.error === "timed out"));
}

/**
 * Runs gateway-init.
 *
 * @param o validated options
 * @param deps boundaries
 * @returns what was done
 * @throws {ValidationError} for bad input (nothing written); other errors for failures
 */
export async function initGateway(o: GatewayOptions, deps: GatewayDeps): Promise<GatewayResult> {
  const log = deps.log;
  const host = new HostNet(deps.runner);
  const local = await connectLocal(deps.connect, o.ovsDb, o.timeoutMs);
  try {
    const ovs = parseGatewayOvsState(o.iface, await local.transact(gatewayOvsReadOps(o.iface)));
    const ids = ovs.root?.external_ids ?? {};
    const chassis = ids[HOST_KEYS.systemId];
    if (!chassis) {
      throw new ValidationError(
        `Cannot initialise the gateway: external_ids:${HOST_KEYS.systemId} is not set in the ` +
          `local Open_vSwitch table (${o.ovsDb}); run ovn-k8s setup-host`,
      );
    }
    const nbRemote = ids[HOST_KEYS.ovnNb];
    if (!nbRemote) {
      throw new ValidationError(
        `Cannot find OVN NB: external_ids:${HOST_KEYS.ovnNb} is not set in the local ` +
          `Open_vSwitch table (${o.ovsDb}); run ovn-k8s setup-host --ovn-nb tcp:CENTRAL_IP:6641`,
      );
    }
    const mode = o.mode === "auto" ? (ovs.bridge ? "bridge" : "nic") : o.mode;
    const flag = mode === "nic" ? "--physical-interface" : "--bridge-interface";
    const mac = parseMac(ovs.iface?.mac_in_use[0] ?? "") ?? await linkMac(host, o.iface);
    if (!mac) {
      throw new ValidationError(
        `Cannot use ${flag} ${o.iface}: no such interface on this host; pass an existing ` +
          (mode === "nic" ? "NIC" : "OVS bridge"),
      );
    }
    let ovsOps: Operation[];
    const portName = makeExternalPortName(o.iface, o.node);
    try {
      ovsOps = mode === "nic"
        ? nicPortOps(ovs, o.iface, portName)
        : sharedBridgeOps(ovs, o.iface, mac);
    } catch (err) {
      throw new ValidationError((err as Error).message);
    }
    const attachment: ExternalAttachment = mode === "nic"
      ? { kind: "vif" }
      : { kind: "localnet", network: makeBridgeNetworkName(o.iface) };

    const nb = await connectNb(deps.connect, nbRemote, o.nbSsl, o.timeoutMs, deps.readTextFile);
    let joinIp = "";
    let nbWrites = 0;
    try {
      for (let attempt = 1;; attempt++) {
        const router = makeGatewayRouterName(o.node);
        const state = parseGatewayState(
          await nb.transact(gatewayStateReadOps(o.node, router, portName)),
        );
        if (!state.base.clusterRouters[0]) {
          throw new ValidationError(
            "Cannot initialise the gateway: OVN NB has no cluster router " +
              "(external_ids:k8s-cluster-router=yes); run master-init first",
          );
        }
        const recorded = recordedClusterSubnet(state.base);
        if (o.clusterSubnet && recorded && !recorded.equals(o.clusterSubnet)) {
          throw new ValidationError(
            `Cannot use --cluster-ip-subnet ${o.clusterSubnet}: the cluster was initialised ` +
              `with ${recorded} (external_ids:k8s-cluster-subnet on the cluster router); pass ${recorded}`,
          );
        }
        const cluster = o.clusterSubnet ?? recorded;
        if (!cluster) {
          throw new ValidationError(
            "Cannot initialise the gateway: --cluster-ip-subnet is missing and the cluster " +
              "router records none; pass --cluster-ip-subnet",
          );
        }
        let plan;
        try {
          plan = planGateway(state, {
            node: o.node,
            chassis,
            clusterSubnet: cluster,
            physicalIp: o.physicalIp,
            physicalPrefix: o.physicalPrefix,
            mac,
            defaultGw: o.defaultGw,
            externalPortName: portName,
            attachment,
            rampout: o.rampout,
          });
        } catch (err) {
          if (err instanceof RangeError) throw new ValidationError(err.message);
          throw err;
        }
        joinIp = plan.joinIp;
        if (plan.ops.length === 0) {
          log.info("OVN NB already up to date: nothing written", { router, joinIp });
          break;
        }
        try {
          await nb.transact(plan.ops);
          nbWrites = 1;
          log.info("gateway router written to OVN NB", {
            router,
            joinIp,
            operations: plan.ops.length,
          });
          break;
        } catch (err) {
          if (!retriable(err) || attempt >= NB_ATTEMPTS) throw err;
          log.info("join ports changed or NB connection lost while committing; retrying", {
            attempt,
          });
          await (deps.sleep ?? delay)(100 * attempt);
        }
      }
    } finally {
      nb.close();
    }

    let ovsWrites = 0;
    if (ovsOps.length) {
      await local.transact(ovsOps);
      ovsWrites = 1;
      log.info("gateway interface configured in OVS", { interface: o.iface, mode, mac });
    }
    let hostWrites = 0;
    if (mode === "nic") {
      // The NIC belongs to OVN now: its host addresses would answer for the gateway's IP.
      const have = (await host.addresses()).filter((a) => a.ifname === o.iface);
      if (have.length) {
        await host.ip(["addr", "flush", "dev", o.iface]);
        hostWrites++;
        log.warn("host addresses flushed from the gateway NIC", {
          interface: o.iface,
          addresses: have.map((a) => a.cidr).join(","),
        });
      }
      const up = await host.ip(["-j", "link", "show", "dev", o.iface]);
      if (!/"UP"/.test(up.stdout)) {
        await host.ip(["link", "set", o.iface, "up"]);
        hostWrites++;
      }
    }
    return {
      router: makeGatewayRouterName(o.node),
      joinIp,
      mode,
      nbWrites,
      ovsWrites,
      hostWrites,
    };
  } finally {
    local.close();
  }
}

/** The local `Open_vSwitch` external_ids keys `run` reads for the gateway role. */
export const GATEWAY_KEYS = {
  /** The NIC or OVS bridge (HOST_KEYS.gatewayInterface). */
  interface: HOST_KEYS.gatewayInterface,
  /** `nic`, `bridge` or `auto` (default: bridge when an OVS bridge of that name exists). */
  mode: HOST_KEYS.gatewayMode,
  /** The gateway's external address, `IP/MASK` (required). */
  ip: HOST_KEYS.gatewayIp,
  /** The external next hop. */
  nextHop: HOST_KEYS.gatewayNextHop,
  /** Comma-separated rampout CIDRs. */
  rampout: HOST_KEYS.gatewayRampout,
  /** Bridge mode: the NIC on the bridge, for the helper (default: the bridge name without `br`). */
  nic: HOST_KEYS.gatewayNic,
} as const;

/** What `run` does for the gateway role. */
export interface GatewayRunPlan {
  options: GatewayOptions;
  /**
   * The helper's NIC when the helper may be needed (mode `bridge`, or `auto`); the
   * helper runs only when gateway-init settled on bridge mode.
   */
  helperNic: string | undefined;
}

/**
 * Builds gateway-init's options from `external_ids` (for `run`).
 *
 * @param ids the `Open_vSwitch` row's external_ids
 * @param node the node name `run` decided
 * @param ovsDb local database remote
 * @param timeoutS connect timeout
 * @param env environment
 * @returns options, and the helper's NIC
 * @throws {ValidationError} naming the external_ids key to fix
 */
export function gatewayFromExternalIds(
  ids: Record<string, string>,
  node: string,
  ovsDb: string,
  timeoutS: number,
  env: EnvReader,
): GatewayRunPlan {
  const iface = ids[GATEWAY_KEYS.interface];
  if (!iface) {
    throw new ValidationError(
      `Cannot run the gateway role: external_ids:${GATEWAY_KEYS.interface} is not set; ` +
        "ovn-k8s setup-host --gateway-interface NIC|BRIDGE (or ovs-vsctl set open . external_ids:...)",
    );
  }
  if (!ids[GATEWAY_KEYS.ip]) {
    throw new ValidationError(
      `Cannot run the gateway role: external_ids:${GATEWAY_KEYS.ip} is not set; set it to ` +
        `the gateway's IP/MASK (ovs-vsctl set open . external_ids:${GATEWAY_KEYS.ip}=IP/MASK)`,
    );
  }
  const mode = (ids[GATEWAY_KEYS.mode] ?? "auto").toLowerCase();
  if (mode !== "nic" && mode !== "bridge" && mode !== "auto") {
    throw new ValidationError(
      `Cannot use external_ids:${GATEWAY_KEYS.mode}="${mode}": expected nic, bridge or auto`,
    );
  }
  const names = {
    physical: `external_ids:${GATEWAY_KEYS.interface}`,
    bridge: `external_ids:${GATEWAY_KEYS.interface}`,
  };
  const options = buildGatewayOptions(
    {
      nodeName: node,
      ...(mode === "bridge" ? { bridgeInterface: iface } : { physicalInterface: iface }),
      physicalIp: ids[GATEWAY_KEYS.ip],
      defaultGw: ids[GATEWAY_KEYS.nextHop],
      rampout: ids[GATEWAY_KEYS.rampout],
      clusterSubnet: ids[HOST_KEYS.clusterSubnet],
      ovsDb,
      timeout: String(timeoutS),
    },
    env,
    names,
  );
  options.mode = mode;
  const helperNic = mode === "nic" ? undefined : ids[GATEWAY_KEYS.nic] ??
    (iface.startsWith("br") && iface.length > 2 ? iface.slice(2) : undefined);
  return { options, helperNic };
}

/**
 * The real boundaries.
 *
 * @param log logger
 * @returns processes, OVSDB, files
 */
export function realGatewayDeps(log: Logger): GatewayDeps {
  return {
    runner: new ProcessRunner(),
    connect: connectOvsdb,
    readTextFile: (path) => Deno.readTextFile(path),
    log,
  };
}

/**
 * Runs gateway-init with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries
 * @returns exit code
 */
export async function runGatewayInit(
  args: string[],
  ctx: RoleContext,
  deps: GatewayDeps = realGatewayDeps(ctx.log),
): Promise<number> {
  const p = parseCommand(args, OPTIONS, USAGE);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  const o = buildGatewayOptions({
    clusterSubnet: p.string("cluster-ip-subnet"),
    physicalInterface: p.string("physical-interface"),
    bridgeInterface: p.string("bridge-interface"),
    physicalIp: p.string("physical-ip"),
    defaultGw: p.string("default-gw"),
    nodeName: p.string("node-name"),
    rampout: p.string("rampout-ip-subnets"),
    ...dbInputsFromFlags(p),
  }, ctx.env);
  const r = await initGateway(o, deps);
  ctx.stdout(
    `Gateway initialization complete. router=${r.router} join-ip=${r.joinIp} ` +
      `nb-writes=${r.nbWrites} ovs-writes=${r.ovsWrites} host-writes=${r.hostWrites}`,
  );
  return 0;
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runGatewayInit(args, ctx);
}

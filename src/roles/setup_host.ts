/**
 * `ovn-k8s setup-host`: the seed's one-time host setup (reference §2), done by the
 * binary: writes `ovn-remote`, `ovn-nb`, `ovn-encap-ip`, `ovn-encap-type`, a persistent
 * `system-id` (kept in a file and reused), `k8s-api-server` and the ovn-k8s role
 * settings that `ovn-k8s run` reads, into the local `Open_vSwitch` row's
 * `external_ids` over OVSDB. Only changed keys are written; a second run writes
 * nothing. Every value is checked before anything is written.
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { interfaceNameProblem, isIpv4 } from "../net/mod.ts";
import { parseRemotes } from "../ovsdb/mod.ts";
import { HOST_KEYS, setHostIdsOps } from "../ovs/mod.ts";
import {
  connectLocal,
  connectOvsdb,
  type DbConnector,
  DEFAULT_DB_TIMEOUT_S,
  readOvsState,
  resolveOvsDb,
} from "./_local_ovs.ts";
import { parseIntFlag } from "./_init_cli.ts";
import { parseCidrFlag, parseNodeName } from "./_node_init.ts";
import type { RoleContext } from "./context.ts";

/** Roles `ovn-k8s run` knows. */
export const KNOWN_ROLES = ["central", "master", "minion", "gateway"] as const;
/** Tunnel types OVN supports. */
export const ENCAP_TYPES = ["geneve", "stt", "vxlan"] as const;
/** Where the system-id is kept, as the seed README suggests. */
export const DEFAULT_SYSTEM_ID_FILE = "/etc/openvswitch/system-id.conf";

const OPTIONS = {
  "ovn-remote": { type: "string", arg: "REMOTE", help: "OVN SB for ovn-controller (tcp:IP:6642)" },
  "ovn-nb": { type: "string", arg: "REMOTE", help: "OVN NB for the init roles (tcp:IP:6641)" },
  "encap-ip": { type: "string", arg: "IP", help: "this host's tunnel endpoint" },
  "encap-type": { type: "string", arg: "TYPE", help: "geneve (default), stt or vxlan" },
  "system-id-file": {
    type: "string",
    arg: "FILE",
    help: `where the persistent system-id is kept (${DEFAULT_SYSTEM_ID_FILE})`,
  },
  "k8s-api-server": { type: "string", arg: "URL", help: "Kubernetes API server" },
  roles: { type: "string", arg: "LIST", help: `comma-separated: ${KNOWN_ROLES.join(", ")}` },
  "node-name": { type: "string", arg: "NAME", help: "Kubernetes node name (lowercased)" },
  "cluster-ip-subnet": { type: "string", arg: "CIDR", help: "cluster pod subnet" },
  "node-subnet": { type: "string", arg: "CIDR|auto", help: "this node's subnet" },
  "node-subnet-size": { type: "string", arg: "N", help: "prefix length of an auto subnet" },
  "service-cluster-ip-range": { type: "string", arg: "CIDR", help: "service subnet" },
  "gateway-interface": { type: "string", arg: "NAME", help: "gateway NIC or bridge" },
  "gateway-mode": { type: "string", arg: "MODE", help: "gateway: nic, bridge or auto" },
  "gateway-ip": { type: "string", arg: "IP/MASK", help: "gateway: external address" },
  "gateway-nexthop": { type: "string", arg: "IP", help: "gateway: external next hop" },
  "gateway-rampout": {
    type: "string",
    arg: "CIDRS",
    help: "gateway: node subnets pinned to this gateway",
  },
  "gateway-nic": {
    type: "string",
    arg: "NAME",
    help: "gateway: the NIC on a shared bridge (helper)",
  },
  mtu: { type: "string", arg: "N", help: "overlay MTU" },
  "bridge-datapath-type": {
    type: "string",
    arg: "TYPE",
    help: "br-int datapath type (netdev for the userspace datapath)",
  },
  "central-options": {
    type: "string",
    arg: "ARGS",
    help: "flags `run` passes to the central role (space-separated)",
  },
  "watcher-options": {
    type: "string",
    arg: "ARGS",
    help: "flags `run` passes to the watcher on a master (space-separated)",
  },
  "ovs-db": { type: "string", arg: "REMOTE", help: "local OVSDB (default $OVS_RUNDIR/db.sock)" },
  timeout: { type: "string", arg: "SECONDS", help: `connect timeout (${DEFAULT_DB_TIMEOUT_S})` },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;
const USAGE = renderUsage(
  "ovn-k8s setup-host [--ovn-remote R] [--ovn-nb R] [--encap-ip IP] [--roles LIST] [options]",
  "Write this host's OVN and ovn-k8s settings into the local Open_vSwitch external_ids.",
  OPTIONS,
);

/** Injected boundaries of {@linkcode runSetupHost}. */
export interface SetupHostDeps {
  connect: DbConnector;
  readTextFile: (path: string) => Promise<string>;
  /** Writes the system-id file atomically (creating its directory). */
  writeFileAtomic: (path: string, text: string) => Promise<void>;
  newId: () => string;
}

const realDeps: SetupHostDeps = {
  connect: connectOvsdb,
  readTextFile: (p) => Deno.readTextFile(p),
  writeFileAtomic: async (path, text) => {
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir) await Deno.mkdir(dir, { recursive: true });
    const tmp = `${path}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, text, { mode: 0o644 });
    await Deno.rename(tmp, path);
  },
  newId: () => crypto.randomUUID(),
};

function checkRemote(flag: string, value: string): string {
  try {
    parseRemotes(value);
    return value;
  } catch (err) {
    throw new ValidationError(`Cannot use ${flag} "${value}": ${(err as Error).message}`);
  }
}

/**
 * Validates the flags into the `external_ids` to set (no I/O).
 *
 * @param p parsed flags
 * @returns keys and values
 * @throws {ValidationError} naming the flag and the fix
 */
export function desiredHostIds(
  p: { string(name: string): string | undefined },
): Record<string, string> {
  const ids: Record<string, string> = {};
  const set = (key: string, v: string | undefined) => {
    if (v !== undefined) ids[key] = v;
  };
  const remote = p.string("ovn-remote");
  if (remote !== undefined) set(HOST_KEYS.ovnRemote, checkRemote("--ovn-remote", remote));
  const nb = p.string("ovn-nb");
  if (nb !== undefined) set(HOST_KEYS.ovnNb, checkRemote("--ovn-nb", nb));
  const encapIp = p.string("encap-ip");
  if (encapIp !== undefined && !isIpv4(encapIp)) {
    throw new ValidationError(
      `Cannot use --encap-ip "${encapIp}": not an IPv4 address; give this host's underlay address`,
    );
  }
  set(HOST_KEYS.encapIp, encapIp);
  const encapType = p.string("encap-type") ?? (encapIp !== undefined ? "geneve" : undefined);
  if (encapType !== undefined && !(ENCAP_TYPES as readonly string[]).includes(encapType)) {
    throw new ValidationError(
      `Cannot use --encap-type "${encapType}": expected one of ${ENCAP_TYPES.join(", ")}`,
    );
  }
  set(HOST_KEYS.encapType, encapType);
  const api = p.string("k8s-api-server");
  if (api !== undefined) {
    const url = /^https?:\/\//.test(api) ? api : `http://${api}`;
    try {
      new URL(url);
    } catch {
      throw new ValidationError(
        `Cannot use --k8s-api-server "${api}": not a URL or HOST:PORT; give e.g. https://10.0.0.1:6443`,
      );
    }
    set(HOST_KEYS.apiServer, api);
  }
  const roles = p.string("roles");
  if (roles !== undefined) {
    const list = roles.split(",").map((r) => r.trim().toLowerCase()).filter((r) => r !== "");
    const bad = list.filter((r) => !(KNOWN_ROLES as readonly string[]).includes(r));
    if (!list.length || bad.length) {
      throw new ValidationError(
        `Cannot use --roles "${roles}": ${
          bad.length ? `unknown role ${bad.join(", ")}` : "empty"
        }; give a comma-separated list of ${KNOWN_ROLES.join(", ")}`,
      );
    }
    set(HOST_KEYS.roles, [...new Set(list)].join(","));
  }
  const node = p.string("node-name");
  if (node !== undefined) set(HOST_KEYS.nodeName, parseNodeName("--node-name", node));
  const cluster = p.string("cluster-ip-subnet");
  const clusterCidr = cluster !== undefined
    ? parseCidrFlag("--cluster-ip-subnet", cluster)
    : undefined;
  set(HOST_KEYS.clusterSubnet, clusterCidr?.toString());
  const subnet = p.string("node-subnet");
  if (subnet !== undefined && subnet !== "auto") {
    const s = parseCidrFlag("--node-subnet", subnet);
    if (clusterCidr && !clusterCidr.contains(s)) {
      throw new ValidationError(
        `Cannot use --node-subnet ${s}: it is outside --cluster-ip-subnet ${clusterCidr}; ` +
          "pick a subnet inside it, or auto",
      );
    }
    set(HOST_KEYS.nodeSubnet, s.toString());
  } else set(HOST_KEYS.nodeSubnet, subnet);
  const size = p.string("node-subnet-size");
  if (size !== undefined) {
    set(HOST_KEYS.nodeSubnetSize, String(parseIntFlag("--node-subnet-size", size, 1, 29)));
  }
  const svc = p.string("service-cluster-ip-range");
  if (svc !== undefined) {
    set(HOST_KEYS.serviceCidr, parseCidrFlag("--service-cluster-ip-range", svc).toString());
  }
  const gw = p.string("gateway-interface");
  if (gw !== undefined) {
    const problem = interfaceNameProblem(gw);
    if (problem) {
      throw new ValidationError(
        `Cannot use --gateway-interface "${gw}": ${problem}; give the NIC or bridge name`,
      );
    }
    set(HOST_KEYS.gatewayInterface, gw);
  }
  const mode = p.string("gateway-mode");
  if (mode !== undefined) {
    if (!["nic", "bridge", "auto"].includes(mode)) {
      throw new ValidationError(
        `Cannot use --gateway-mode "${mode}": expected nic, bridge or auto`,
      );
    }
    set(HOST_KEYS.gatewayMode, mode);
  }
  const gwIp = p.string("gateway-ip");
  if (gwIp !== undefined) {
    const [ip, len, extra] = gwIp.split("/");
    const n = Number(len);
    if (!ip || !isIpv4(ip) || !/^\d+$/.test(len ?? "") || n < 1 || n > 32 || extra !== undefined) {
      throw new ValidationError(
        `Cannot use --gateway-ip "${gwIp}": not an IPv4 address with prefix length; ` +
          "give the gateway's external address as IP/MASK, e.g. 198.51.100.11/24",
      );
    }
    set(HOST_KEYS.gatewayIp, gwIp);
  }
  const nextHop = p.string("gateway-nexthop");
  if (nextHop !== undefined) {
    if (!isIpv4(nextHop)) {
      throw new ValidationError(
        `Cannot use --gateway-nexthop "${nextHop}": not an IPv4 address; give the external router's address`,
      );
    }
    set(HOST_KEYS.gatewayNextHop, nextHop);
  }
  const rampout = p.string("gateway-rampout");
  if (rampout !== undefined) {
    const list = rampout.split(",").map((c) => c.trim()).filter((c) => c !== "");
    set(
      HOST_KEYS.gatewayRampout,
      list.map((c) => parseCidrFlag("--gateway-rampout", c).toString()).join(","),
    );
  }
  const gwNic = p.string("gateway-nic");
  if (gwNic !== undefined) {
    const problem = interfaceNameProblem(gwNic);
    if (problem) {
      throw new ValidationError(
        `Cannot use --gateway-nic "${gwNic}": ${problem}; give the NIC's name`,
      );
    }
    set(HOST_KEYS.gatewayNic, gwNic);
  }
  const mtu = p.string("mtu");
  if (mtu !== undefined) set(HOST_KEYS.mtu, String(parseIntFlag("--mtu", mtu, 576, 65000)));
  const dp = p.string("bridge-datapath-type");
  if (dp !== undefined) {
    if (!["system", "netdev"].includes(dp)) {
      throw new ValidationError(
        `Cannot use --bridge-datapath-type "${dp}": expected system or netdev`,
      );
    }
    set(HOST_KEYS.bridgeDatapathType, dp);
  }
  set(HOST_KEYS.centralOptions, p.string("central-options"));
  set(HOST_KEYS.watcherOptions, p.string("watcher-options"));
  return ids;
}

/**
 * Runs setup-host with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries
 * @returns exit code
 */
export async function runSetupHost(
  args: string[],
  ctx: RoleContext,
  deps: SetupHostDeps = realDeps,
): Promise<number> {
  const p = parseCommand(args, OPTIONS, USAGE);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  const ids = desiredHostIds(p);
  const timeoutMs = 1000 *
    (p.string("timeout") ? parseIntFlag("--timeout", p.string("timeout")!, 1, 3600) : 10);
  const idFile = p.string("system-id-file") ?? DEFAULT_SYSTEM_ID_FILE;
  const remote = resolveOvsDb(p.string("ovs-db"), ctx.env);
  const db = await connectLocal(deps.connect, remote, timeoutMs);
  try {
    const state = await readOvsState(db);
    const current = state.root?.external_ids ?? {};
    // The system-id: the file's, else the one OVS already has, else a new one.
    const fromFile = (await deps.readTextFile(idFile).catch(() => "")).trim();
    const systemId = fromFile || current[HOST_KEYS.systemId] || deps.newId();
    if (fromFile && current[HOST_KEYS.systemId] && current[HOST_KEYS.systemId] !== fromFile) {
      ctx.log.warn("system-id in OVS differs from the file; the file wins", {
        file: idFile,
        ovs: current[HOST_KEYS.systemId],
        kept: fromFile,
      });
    }
    if (!fromFile) {
      await deps.writeFileAtomic(idFile, `${systemId}\n`);
      ctx.log.info("system-id recorded", { file: idFile, systemId });
    }
    ids[HOST_KEYS.systemId] = systemId;
    const ops = setHostIdsOps(state.root, ids);
    if (ops.length) await db.transact(ops);
    const changed = Object.keys(ids).filter((k) => current[k] !== ids[k]).sort();
    ctx.log.info(changed.length ? "host settings written" : "host settings already up to date", {
      changed: changed.join(","),
    });
    ctx.stdout(
      changed.length
        ? `setup-host: set ${changed.map((k) => `${k}=${ids[k]}`).join(" ")}`
        : "setup-host: nothing to change",
    );
    return 0;
  } finally {
    db.close();
  }
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runSetupHost(args, ctx);
}

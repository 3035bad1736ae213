/**
 * The command lines of master-init and minion-init: the seed's flags plus ours, their
 * conversion into validated {@linkcode NodeInitOptions}, the run function both roles
 * share, and the real boundaries they wire in.
 *
 * @module
 */
import {
  type OptionTable,
  parseCommand,
  type Parsed,
  UsageError,
  ValidationError,
} from "../cli/mod.ts";
import { ProcessRunner } from "../exec/mod.ts";
import type { Logger } from "../log/mod.ts";
import { makeManagementInterfaceName } from "../ovn/mod.ts";
import {
  connectOvsdb,
  DEFAULT_DB_TIMEOUT_S,
  DEFAULT_NB_SSL,
  type NbSslFiles,
  resolveOvsDb,
} from "./_local_ovs.ts";
import {
  checkInterfaceName,
  DEFAULT_MTU,
  DEFAULT_NODE_SUBNET_SIZE,
  initNode,
  type NodeInitDeps,
  type NodeInitOptions,
  parseCidrFlag,
  parseNodeName,
  realCniFs,
  selfExecutable,
} from "./_node_init.ts";
import type { EnvReader, RoleContext } from "./context.ts";

/** Flags of the local OVSDB and NB connections, shared by master-, minion- and gateway-init. */
export const DB_OPTIONS: OptionTable = {
  "ovs-db": {
    type: "string",
    arg: "REMOTE",
    help: "local OVSDB (default $OVS_RUNDIR/db.sock, else /var/run/openvswitch/db.sock)",
  },
  "nb-privkey": { type: "string", arg: "FILE", help: `NB SSL key (${DEFAULT_NB_SSL.privkey})` },
  "nb-cert": { type: "string", arg: "FILE", help: `NB SSL certificate (${DEFAULT_NB_SSL.cert})` },
  "nb-cacert": { type: "string", arg: "FILE", help: `NB SSL CA (${DEFAULT_NB_SSL.cacert})` },
  "nb-timeout": {
    type: "string",
    arg: "SECONDS",
    help: `connect timeout for NB and OVS (default ${DEFAULT_DB_TIMEOUT_S})`,
  },
};

/** Flags common to master-init and minion-init. */
export const COMMON_INIT_OPTIONS: OptionTable = {
  "cluster-ip-subnet": { type: "string", arg: "CIDR", help: "cluster-wide pod subnet" },
  "node-subnet": {
    type: "string",
    arg: "CIDR|auto",
    help: "this node's subnet, or auto (allocate the next free one)",
  },
  "node-subnet-size": {
    type: "string",
    arg: "N",
    help: `prefix length of an auto node subnet (default ${DEFAULT_NODE_SUBNET_SIZE})`,
  },
  "node-name": { type: "string", arg: "NAME", help: "the Kubernetes node name (lowercased)" },
  "service-cluster-ip-range": {
    type: "string",
    arg: "CIDR",
    help: "service subnet, routed via the management port",
  },
  mtu: { type: "string", arg: "N", help: `overlay MTU (default ${DEFAULT_MTU})` },
  "management-interface": {
    type: "string",
    arg: "NAME",
    help: "management port interface (default k8s-<node[:11]>)",
  },
  ...DB_OPTIONS,
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** Flags of minion-init's CNI installation. */
export const CNI_OPTIONS: OptionTable = {
  "cni-bin-dir": { type: "string", arg: "DIR", help: "where the ovn_cni link goes (/opt/cni/bin)" },
  "cni-conf-dir": { type: "string", arg: "DIR", help: "CNI config directory (/etc/cni/net.d)" },
  "cni-conf-file": { type: "string", arg: "NAME", help: "CNI config file name (10-net.conf)" },
  "cni-plugin": { type: "string", arg: "PATH", help: "plugin the link points to (this binary)" },
};

/**
 * Parses a positive integer flag.
 *
 * @param flag flag name
 * @param text value
 * @param min lowest allowed
 * @param max highest allowed
 * @returns the number
 * @throws {ValidationError} naming the flag and the range
 */
export function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new ValidationError(
      `Cannot use ${flag} "${text}": expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/** Raw values of the {@linkcode DB_OPTIONS} flags (from flags or from external_ids). */
export interface DbInputs {
  ovsDb?: string | undefined;
  nbPrivkey?: string | undefined;
  nbCert?: string | undefined;
  nbCacert?: string | undefined;
  timeout?: string | undefined;
}

/** Validated {@linkcode DbInputs}. */
export interface DbOptions {
  ovsDb: string;
  nbSsl: NbSslFiles;
  timeoutMs: number;
}

/**
 * Validates the connection inputs, filling in the defaults.
 *
 * @param i raw values
 * @param env environment (OVS_RUNDIR)
 * @returns the local OVSDB remote, the NB SSL files and the connect timeout
 * @throws {ValidationError} for a bad --nb-timeout
 */
export function buildDbOptions(i: DbInputs, env: EnvReader): DbOptions {
  return {
    ovsDb: resolveOvsDb(i.ovsDb, env),
    nbSsl: {
      privkey: i.nbPrivkey ?? DEFAULT_NB_SSL.privkey,
      cert: i.nbCert ?? DEFAULT_NB_SSL.cert,
      cacert: i.nbCacert ?? DEFAULT_NB_SSL.cacert,
    },
    timeoutMs: 1000 *
      (i.timeout ? parseIntFlag("--nb-timeout", i.timeout, 1, 3600) : DEFAULT_DB_TIMEOUT_S),
  };
}

/**
 * Reads the {@linkcode DB_OPTIONS} flags.
 *
 * @param p parsed flags
 * @returns raw values
 */
export function dbInputsFromFlags(p: Parsed): DbInputs {
  return {
    ovsDb: p.string("ovs-db"),
    nbPrivkey: p.string("nb-privkey"),
    nbCert: p.string("nb-cert"),
    nbCacert: p.string("nb-cacert"),
    timeout: p.string("nb-timeout"),
  };
}

/** Raw values for {@linkcode buildInitOptions} (from flags or from external_ids). */
export interface InitInputs extends DbInputs {
  clusterSubnet?: string | undefined;
  nodeSubnet?: string | undefined;
  nodeSubnetSize?: string | undefined;
  nodeName?: string | undefined;
  serviceCidr?: string | undefined;
  mtu?: string | undefined;
  managementInterface?: string | undefined;
  cniBinDir?: string | undefined;
  cniConfDir?: string | undefined;
  cniConfFile?: string | undefined;
  cniPlugin?: string | undefined;
}

/** How each input is named in messages (flags, or external_ids keys for `run`). */
export interface InputNames {
  clusterSubnet: string;
  nodeSubnet: string;
  nodeName: string;
}

/**
 * Validates init inputs.
 *
 * @param role master or minion
 * @param i raw values
 * @param names how to name the inputs in messages
 * @param env environment (OVS_RUNDIR)
 * @returns validated options
 * @throws {ValidationError} for any bad value
 */
export function buildInitOptions(
  role: "master" | "minion",
  i: InitInputs,
  names: InputNames,
  env: EnvReader,
): NodeInitOptions {
  const node = parseNodeName(names.nodeName, i.nodeName);
  if (role === "master" && !i.clusterSubnet) {
    throw new ValidationError(
      `Cannot run master-init: ${names.clusterSubnet} is missing; pass the cluster subnet`,
    );
  }
  const clusterSubnet = i.clusterSubnet
    ? parseCidrFlag(names.clusterSubnet, i.clusterSubnet)
    : undefined;
  if (!i.nodeSubnet) {
    throw new ValidationError(
      `Cannot run ${role}-init: ${names.nodeSubnet} is missing; pass the node's subnet, or auto`,
    );
  }
  const nodeSubnet = i.nodeSubnet === "auto"
    ? "auto" as const
    : parseCidrFlag(names.nodeSubnet, i.nodeSubnet);
  const managementInterface = checkInterfaceName(
    "--management-interface",
    i.managementInterface ?? makeManagementInterfaceName(node),
  );
  const o: NodeInitOptions = {
    role,
    node,
    nodeSubnet,
    nodeSubnetSize: i.nodeSubnetSize
      ? parseIntFlag("--node-subnet-size", i.nodeSubnetSize, 1, 30)
      : DEFAULT_NODE_SUBNET_SIZE,
    mtu: i.mtu ? parseIntFlag("--mtu", i.mtu, 576, 65000) : DEFAULT_MTU,
    managementInterface,
    ...buildDbOptions(i, env),
    subnetFlag: names.nodeSubnet,
  };
  if (clusterSubnet) o.clusterSubnet = clusterSubnet;
  if (i.serviceCidr) o.serviceCidr = parseCidrFlag("--service-cluster-ip-range", i.serviceCidr);
  if (role === "minion") {
    o.cni = {
      binDir: i.cniBinDir ?? "/opt/cni/bin",
      confDir: i.cniConfDir ?? "/etc/cni/net.d",
      confFile: i.cniConfFile ?? "10-net.conf",
      plugin: i.cniPlugin ?? selfExecutable(),
    };
    if (/[/\s]/.test(o.cni.confFile) || !o.cni.confFile.endsWith(".conf")) {
      throw new ValidationError(
        `Cannot use --cni-conf-file "${o.cni.confFile}": expected a file name ending in .conf`,
      );
    }
  }
  return o;
}

/**
 * Reads init inputs from parsed flags.
 *
 * @param p parsed flags
 * @param subnetFlag the seed's subnet flag (`master-switch-subnet`, `minion-switch-subnet`)
 * @param usage usage text for errors
 * @returns raw inputs
 * @throws {UsageError} when the seed's subnet flag and --node-subnet disagree
 */
export function inputsFromFlags(p: Parsed, subnetFlag: string, usage: string): InitInputs {
  const seed = p.string(subnetFlag);
  const ours = p.string("node-subnet");
  if (seed !== undefined && ours !== undefined && seed !== ours) {
    throw new UsageError(`--${subnetFlag} and --node-subnet disagree; give one of them`, usage);
  }
  return {
    clusterSubnet: p.string("cluster-ip-subnet"),
    nodeSubnet: seed ?? ours,
    nodeSubnetSize: p.string("node-subnet-size"),
    nodeName: p.string("node-name"),
    serviceCidr: p.string("service-cluster-ip-range"),
    mtu: p.string("mtu"),
    managementInterface: p.string("management-interface"),
    ...dbInputsFromFlags(p),
    cniBinDir: p.string("cni-bin-dir"),
    cniConfDir: p.string("cni-conf-dir"),
    cniConfFile: p.string("cni-conf-file"),
    cniPlugin: p.string("cni-plugin"),
  };
}

/**
 * The real boundaries of the init roles.
 *
 * @param log logger
 * @returns processes, OVSDB, files
 */
export function realInitDeps(log: Logger): NodeInitDeps {
  return {
    runner: new ProcessRunner(),
    connect: connectOvsdb,
    readTextFile: (path) => Deno.readTextFile(path),
    fs: realCniFs,
    log,
  };
}

/** The command line of one init role, for {@linkcode runNodeInitCommand}. */
export interface InitCommand {
  /** `master` or `minion`. */
  role: "master" | "minion";
  /** The seed's subnet flag without dashes (`master-switch-subnet`, `minion-switch-subnet`). */
  subnetFlag: string;
  /** The role's flags (the seed's subnet flag, {@linkcode COMMON_INIT_OPTIONS}, ...). */
  options: OptionTable;
  /** The role's usage text. */
  usage: string;
}

/**
 * Runs master-init or minion-init: parses the flags, validates them, initialises the
 * node and prints the summary line.
 *
 * @param cmd the role's command line
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries
 * @returns exit code
 * @throws {ValidationError} for bad input (exit 2)
 */
export async function runNodeInitCommand(
  cmd: InitCommand,
  args: string[],
  ctx: RoleContext,
  deps: NodeInitDeps,
): Promise<number> {
  const p = parseCommand(args, cmd.options, cmd.usage);
  if (p.flag("help")) {
    ctx.stdout(cmd.usage);
    return 0;
  }
  const o = buildInitOptions(cmd.role, inputsFromFlags(p, cmd.subnetFlag, cmd.usage), {
    clusterSubnet: "--cluster-ip-subnet",
    nodeSubnet: p.string(cmd.subnetFlag) !== undefined ? `--${cmd.subnetFlag}` : "--node-subnet",
    nodeName: "--node-name",
  }, ctx.env);
  const r = await initNode(o, deps);
  ctx.stdout(`Initialization complete. node=${o.node} subnet=${r.subnet} nb-writes=${r.nbWrites}`);
  return 0;
}

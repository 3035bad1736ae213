/**
 * `ovn-k8s status`: what this host runs and how it is connected, as an operator would
 * check it by hand. Reads the local `Open_vSwitch` row (the settings setup-host wrote),
 * prints them (a fixed list of keys: never a token or certificate text), then checks
 * each configured part live, every check bounded by `--timeout`, all at once:
 *
 * - the local OVSDB answers; `br-int` exists (and its datapath type);
 * - the management port `k8s-<node>`: interface, ofport, MAC, `ovn-installed`;
 * - ovn-controller: its unixctl `connection-status` (through `ovn-appctl`), and this
 *   host's `Chassis` and `Encap` rows in SB (at `ovn-remote`);
 * - NB (at `ovn-nb`): the cluster router, this node's switch and subnet, its router port;
 * - the central daemons (live pidfiles) and the watcher (`/healthz`), when configured
 *   or found running;
 * - the CNI config file and the `ovn_cni` link.
 *
 * Exit code: 0 when every configured part is healthy, 1 when one is not (or the local
 * OVSDB cannot be read), 2 on bad input. The pure part ({@linkcode formatStatus},
 * {@linkcode statusExitCode}, {@linkcode hostSettings}, the `*Check` evaluators) is
 * tested with fakes; {@linkcode gatherStatus} takes its boundaries injected.
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { DEFAULT_METRICS_ADDRESS } from "../controllers/metrics_server.ts";
import { DISTRO_DIRS, livePid, type Processes, systemProcesses } from "../daemons/mod.ts";
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import {
  CLUSTER_ROUTER_NAME,
  makeManagementInterfaceName,
  makeManagementPortName,
  makeNodeSwitchName,
  makeRouterToSwitchPortName,
} from "../ovn/mod.ts";
import { HOST_KEYS, type OvsState } from "../ovs/mod.ts";
import {
  type Condition,
  type Operation,
  type OperationResult,
  parseRemotes,
  type TlsOptions,
} from "../ovsdb/mod.ts";
import {
  connectOvsdb,
  type DbConnector,
  type DbHandle,
  DEFAULT_NB_SSL,
  type NbSslFiles,
  readOvsState,
  resolveOvsDb,
} from "./_local_ovs.ts";
import { parseIntFlag } from "./_init_cli.ts";
import type { RoleContext } from "./context.ts";
import { planRun } from "./run.ts";

/** Default bound of each check, in seconds. */
export const DEFAULT_STATUS_TIMEOUT_S = 5;

const OPTIONS = {
  "ovs-db": { type: "string", arg: "REMOTE", help: "local OVSDB (default $OVS_RUNDIR/db.sock)" },
  json: { type: "boolean", help: "print the status as JSON" },
  timeout: {
    type: "string",
    arg: "SECONDS",
    help: `bound of each check (default ${DEFAULT_STATUS_TIMEOUT_S})`,
  },
  "management-interface": {
    type: "string",
    arg: "NAME",
    help: "management port interface (default k8s-<node[:11]>)",
  },
  "cni-bin-dir": { type: "string", arg: "DIR", help: "where the ovn_cni link is (/opt/cni/bin)" },
  "cni-conf-dir": { type: "string", arg: "DIR", help: "CNI config directory (/etc/cni/net.d)" },
  "cni-conf-file": { type: "string", arg: "NAME", help: "CNI config file name (10-net.conf)" },
  "nb-privkey": { type: "string", arg: "FILE", help: `SSL key (${DEFAULT_NB_SSL.privkey})` },
  "nb-cert": { type: "string", arg: "FILE", help: `SSL certificate (${DEFAULT_NB_SSL.cert})` },
  "nb-cacert": { type: "string", arg: "FILE", help: `SSL CA (${DEFAULT_NB_SSL.cacert})` },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;
const USAGE = renderUsage(
  "ovn-k8s status [--json] [--ovs-db REMOTE] [--timeout SECONDS] [options]",
  "Show this host's ovn-k8s settings and the live state of each configured part.\n" +
    "Exit 0: all configured parts healthy; 1: one is not; 2: bad input.",
  OPTIONS,
);

/** How a check came out: healthy, unhealthy, or not applicable / informational. */
export type CheckState = "ok" | "fail" | "skip";

/** One line of the status. */
export interface StatusCheck {
  /** What is checked (`br-int`, `ovn-controller`, ...). */
  name: string;
  state: CheckState;
  /** What was found, or why it is unhealthy. */
  detail: string;
}

/** Everything `status` reports. */
export interface HostStatus {
  /** The local OVSDB remote read. */
  ovsDb: string;
  /** Roles, configured or inferred; empty when none. */
  roles: string[];
  /** How the roles were found (`configured`, `inferred from ...`, or why none). */
  rolesSource: string;
  /** The Kubernetes node name. */
  nodeName: string | undefined;
  /** This host's settings (secrets never included). */
  settings: Record<string, string>;
  checks: StatusCheck[];
}

/** The settings shown, in order: label and `external_ids` key. */
export const SHOWN_SETTINGS: readonly (readonly [string, string])[] = [
  ["roles", HOST_KEYS.roles],
  ["node name", HOST_KEYS.nodeName],
  ["cluster subnet", HOST_KEYS.clusterSubnet],
  ["node subnet", HOST_KEYS.nodeSubnet],
  ["service cidr", HOST_KEYS.serviceCidr],
  ["ovn-nb", HOST_KEYS.ovnNb],
  ["ovn-remote", HOST_KEYS.ovnRemote],
  ["encap", HOST_KEYS.encapIp],
  ["encap type", HOST_KEYS.encapType],
  ["system-id", HOST_KEYS.systemId],
  ["k8s-api-server", HOST_KEYS.apiServer],
  ["mtu", HOST_KEYS.mtu],
  ["gateway interface", HOST_KEYS.gatewayInterface],
  ["datapath type", HOST_KEYS.bridgeDatapathType],
];

/**
 * The settings to show: only the keys of {@linkcode SHOWN_SETTINGS}, so an API token
 * or CA text kept in `external_ids` is never printed. Pure.
 *
 * @param ids the `Open_vSwitch` row's external_ids
 * @returns key -> value for the keys present
 */
export function hostSettings(ids: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, key] of SHOWN_SETTINGS) {
    const v = ids[key];
    if (v !== undefined && v !== "") out[key] = v;
  }
  return out;
}

/**
 * Roles and node name as `run` would take them (configured, else inferred). Pure.
 *
 * @param ids external_ids
 * @param hostname this host's name
 * @returns roles, how they were found, node name
 */
export function statusRoles(
  ids: Record<string, string>,
  hostname: string,
): { roles: string[]; source: string; nodeName: string | undefined } {
  try {
    const plan = planRun(ids, hostname);
    const inferred = plan.inferred.find((l) => l.startsWith("roles="));
    return {
      roles: plan.roles,
      source: inferred ? `inferred ${inferred.replace(/^roles=\S+ /, "")}` : "configured",
      nodeName: plan.init.nodeName,
    };
  } catch (err) {
    return {
      roles: [],
      source: `none: ${(err as Error).message}`,
      nodeName: ids[HOST_KEYS.nodeName] || undefined,
    };
  }
}

const ok = (name: string, detail: string): StatusCheck => ({ name, state: "ok", detail });
const fail = (name: string, detail: string): StatusCheck => ({ name, state: "fail", detail });
const skip = (name: string, detail: string): StatusCheck => ({ name, state: "skip", detail });

/**
 * Evaluates `br-int`. Pure.
 *
 * @param state local OVS state
 * @param ids external_ids (ovn-remote, ovn-bridge-datapath-type)
 * @returns the check
 */
export function bridgeCheck(state: OvsState, ids: Record<string, string>): StatusCheck {
  const b = state.bridge;
  const wanted = ids[HOST_KEYS.bridgeDatapathType];
  if (!b) {
    return ids[HOST_KEYS.ovnRemote]
      ? fail("br-int", "missing; ovn-controller creates it once it runs against ovn-remote")
      : skip("br-int", "missing (no ovn-remote configured)");
  }
  const dp = b.datapath_type || "system";
  const detail = `present, datapath ${dp}, ${b.ports.length} ports`;
  if (wanted && wanted !== dp) {
    return fail("br-int", `${detail}; but ${HOST_KEYS.bridgeDatapathType} is ${wanted}`);
  }
  return ok("br-int", detail);
}

/**
 * Evaluates the management port's interface. Pure.
 *
 * @param state local OVS state read with the management interface
 * @param name the interface name
 * @returns the check
 */
export function managementPortCheck(state: OvsState, name: string): StatusCheck {
  const label = "management port";
  const i = state.iface;
  if (!i || !state.port) {
    return fail(label, `${name}: no such port in OVS; run minion-init (or master-init)`);
  }
  const ofport = i.ofport[0];
  const mac = i.mac_in_use[0] ?? i.mac[0] ?? "no mac";
  const installed = i.external_ids["ovn-installed"] === "true";
  const detail = `${name} ofport ${ofport ?? "none"} mac ${mac}${
    installed ? " ovn-installed" : ""
  }`;
  if (i.error[0]) return fail(label, `${detail}; error: ${i.error[0]}`);
  if (ofport === undefined || ofport <= 0) return fail(label, `${detail}; no OpenFlow port`);
  if (!installed) {
    return fail(label, `${detail}; not ovn-installed (ovn-controller has not bound it)`);
  }
  return ok(label, detail);
}

/**
 * Evaluates ovn-controller's `connection-status` answer. Pure.
 *
 * @param r the `ovn-appctl` result
 * @returns the check
 */
export function controllerCheck(r: { code: number; stdout: string; stderr: string }): StatusCheck {
  const out = r.stdout.trim();
  if (r.code !== 0) {
    const why = (r.stderr.trim().split("\n").pop() ?? "") || `exit ${r.code}`;
    return fail("ovn-controller", `not running or not answering: ${why}`);
  }
  return out === "connected"
    ? ok("ovn-controller", "running, connected to SB")
    : fail("ovn-controller", `running, ${out || "no answer"} to SB`);
}

/**
 * Evaluates this host's SB rows (results of {@linkcode chassisReadOps}). Pure.
 *
 * @param results select results: Chassis, Encap
 * @param systemId this host's system-id
 * @param ids external_ids (encap ip/type)
 * @returns the check
 */
export function chassisCheck(
  results: readonly OperationResult[],
  systemId: string,
  ids: Record<string, string>,
): StatusCheck {
  const chassis = results[0]?.rows?.[0];
  if (!chassis) {
    return fail(
      "chassis",
      `no Chassis "${systemId}" in SB; ovn-controller has not registered this host`,
    );
  }
  const encaps = (results[1]?.rows ?? []).map((e) => `${String(e.type)} ${String(e.ip)}`).sort();
  const detail = `${systemId} registered, encap ${encaps.join(", ") || "none"}`;
  const ip = ids[HOST_KEYS.encapIp];
  const type = ids[HOST_KEYS.encapType] ?? "geneve";
  if (ip && !encaps.includes(`${type} ${ip}`)) {
    return fail("chassis", `${detail}; expected ${type} ${ip} (${HOST_KEYS.encapIp})`);
  }
  return ok("chassis", detail);
}

/**
 * SB reads for {@linkcode chassisCheck}.
 *
 * @param systemId chassis name
 * @returns select operations
 */
export function chassisReadOps(systemId: string): Operation[] {
  return [
    {
      op: "select",
      table: "Chassis",
      where: [["name", "==", systemId]],
      columns: ["name", "hostname"],
    },
    {
      op: "select",
      table: "Encap",
      where: [["chassis_name", "==", systemId]],
      columns: ["type", "ip"],
    },
  ];
}

/**
 * NB reads for {@linkcode nbCheck}.
 *
 * @param node node name, or `undefined` for the router only
 * @returns select operations: router, switch, router port, management port
 */
export function nbReadOps(node: string | undefined): Operation[] {
  const by = (name: string): Condition[] => [["name", "==", name]];
  const n = node ?? "";
  return [
    {
      op: "select",
      table: "Logical_Router",
      where: by(CLUSTER_ROUTER_NAME),
      columns: ["name"],
    },
    {
      op: "select",
      table: "Logical_Switch",
      where: by(makeNodeSwitchName(n)),
      columns: ["name", "other_config"],
    },
    {
      op: "select",
      table: "Logical_Router_Port",
      where: by(makeRouterToSwitchPortName(n)),
      columns: ["name", "networks"],
    },
    {
      op: "select",
      table: "Logical_Switch_Port",
      where: by(makeManagementPortName(n)),
      columns: ["name", "up"],
    },
  ];
}

/**
 * Evaluates NB (results of {@linkcode nbReadOps}). Pure.
 *
 * @param results select results
 * @param node node name when this host is a node (master or minion)
 * @returns the check
 */
export function nbCheck(
  results: readonly OperationResult[],
  node: string | undefined,
): StatusCheck {
  if (!results[0]?.rows?.length) {
    return fail("nb", `no ${CLUSTER_ROUTER_NAME}; run master-init on the master`);
  }
  if (node === undefined) return ok("nb", `reachable, ${CLUSTER_ROUTER_NAME} present`);
  const ls = results[1]?.rows?.[0];
  const lrp = results[2]?.rows?.[0];
  const lsp = results[3]?.rows?.[0];
  const sw = makeNodeSwitchName(node);
  if (!ls) return fail("nb", `no switch ${sw}; run minion-init (or master-init) on this host`);
  const subnet = (ls.other_config as Record<string, string> | undefined)?.subnet ?? "no subnet";
  const nets = lrp ? ((lrp.networks as string[] | undefined) ?? []).join(",") : "";
  const detail = `${CLUSTER_ROUTER_NAME}, switch ${sw} ${subnet}, ${
    lrp ? `port ${String(lrp.name)} ${nets}` : "no router port"
  }${lsp ? `, ${String(lsp.name)} ${(lsp.up as boolean[] | undefined)?.[0] ? "up" : "down"}` : ""}`;
  if (!lrp) return fail("nb", `${detail}; run the init again`);
  if (subnet === "no subnet") return fail("nb", detail);
  return ok("nb", detail);
}

/**
 * Evaluates the central daemons' pidfiles. Pure.
 *
 * @param pids pidfile -> live pid (or `undefined`)
 * @param configured whether `central` is one of this host's roles
 * @returns the check
 */
export function centralCheck(
  pids: Record<string, number | undefined>,
  configured: boolean,
): StatusCheck {
  const entries = Object.entries(pids);
  const live = entries.filter(([, p]) => p !== undefined);
  const name = (f: string) => f.replace(/^.*\//, "").replace(/\.pid$/, "");
  const detail = entries.map(([f, p]) => `${name(f)} ${p === undefined ? "DOWN" : `pid ${p}`}`)
    .join(", ");
  if (!configured) {
    return skip("central", live.length ? `not a role here, yet running: ${detail}` : "not a role");
  }
  return live.length === entries.length
    ? ok("central", detail)
    : fail("central", `${detail} (pidfiles in ${entries[0]?.[0].replace(/\/[^/]*$/, "")})`);
}

/**
 * Evaluates the watcher's `/healthz` answer. Pure.
 *
 * @param url the URL asked
 * @param answer HTTP status, or the error text
 * @param configured whether `master` is one of this host's roles
 * @returns the check
 */
export function watcherCheck(
  url: string,
  answer: number | string,
  configured: boolean,
): StatusCheck {
  const healthy = answer === 200;
  if (!configured) {
    return skip("watcher", healthy ? `not a role here, yet ${url} answers` : "not a role");
  }
  return healthy
    ? ok("watcher", `${url} ok`)
    : fail("watcher", `${url}: ${typeof answer === "number" ? `HTTP ${answer}` : answer}`);
}

/**
 * Formats the status as text, one `ok`/`FAIL`/`-` line per check. Pure.
 *
 * @param s the status
 * @returns the text
 */
export function formatStatus(s: HostStatus): string {
  const lines = [
    `ovn-k8s status of ${s.nodeName ?? "this host"} (local OVSDB ${s.ovsDb})`,
    `  roles: ${s.roles.join(",") || "none"} (${s.rolesSource})`,
  ];
  for (const [label, key] of SHOWN_SETTINGS) {
    const v = s.settings[key];
    if (v !== undefined && key !== HOST_KEYS.roles) lines.push(`  ${label}: ${v}`);
  }
  const mark: Record<CheckState, string> = { ok: "ok", fail: "FAIL", skip: "-" };
  const width = Math.max(...s.checks.map((c) => c.name.length), 0);
  for (const c of s.checks) {
    lines.push(`${mark[c.state].padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  }
  return lines.join("\n");
}

/**
 * The exit code: 1 when any check failed, else 0. Pure.
 *
 * @param s the status
 * @returns 0 or 1
 */
export function statusExitCode(s: HostStatus): number {
  return s.checks.some((c) => c.state === "fail") ? 1 : 0;
}

/** Inputs of {@linkcode gatherStatus}. */
export interface StatusOptions {
  ovsDb: string;
  timeoutMs: number;
  managementInterface?: string | undefined;
  cni: { binDir: string; confDir: string; confFile: string };
  ssl: NbSslFiles;
}

/** Injected boundaries of {@linkcode gatherStatus}. */
export interface StatusDeps {
  connect: DbConnector;
  /** Runs `ovn-appctl` (never throws on a non-zero exit with `check: false`). */
  runner: Runner;
  /** The process table (pidfiles). */
  procs: Processes;
  readTextFile: (path: string) => Promise<string>;
  readLink: (path: string) => Promise<string>;
  /** Whether a path exists (following links). */
  exists: (path: string) => Promise<boolean>;
  /** GETs a URL; resolves to the HTTP status. */
  httpStatus: (url: string, timeoutMs: number) => Promise<number>;
  hostname: () => string;
}

/**
 * Runs `fn` but gives up after `ms`: a check never hangs. A late result is handed to
 * `late` (to close a connection that came too late).
 */
async function bounded<T>(ms: number, fn: () => Promise<T>, late?: (v: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const work = fn();
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`no answer within ${ms / 1000} s`));
        }, ms);
      }),
    ]);
  } catch (err) {
    if (timedOut && late) work.then(late, () => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connect bounded at twice its own timeout: the client's own error (which names the
 * last failure, e.g. "Connection refused") comes first; the bound only stops a hang.
 */
function connectBounded(ms: number, fn: () => Promise<DbHandle>): Promise<DbHandle> {
  return bounded(2 * ms, fn, (h) => h.close());
}

async function guarded(name: string, ms: number, fn: () => Promise<StatusCheck>) {
  try {
    // Room for a connect (2 × the bound, see connectBounded) and one request.
    return await bounded(3 * ms, fn);
  } catch (err) {
    return fail(name, err instanceof Error ? err.message : String(err));
  }
}

async function remoteDb(
  deps: StatusDeps,
  remote: string,
  database: string,
  o: StatusOptions,
): Promise<DbHandle> {
  let tls: TlsOptions | undefined;
  if (parseRemotes(remote).some((r) => r.kind === "ssl")) {
    const read = (path: string, flag: string) =>
      deps.readTextFile(path).catch((err) => {
        throw new Error(
          `Cannot read ${flag} "${path}" for the ssl: remote: ${(err as Error).message}; ` +
            `pass ${flag} with the right file`,
        );
      });
    tls = {
      key: await read(o.ssl.privkey, "--nb-privkey"),
      cert: await read(o.ssl.cert, "--nb-cert"),
      caCert: await read(o.ssl.cacert, "--nb-cacert"),
    };
  }
  return await connectBounded(
    o.timeoutMs,
    () =>
      deps.connect({ remotes: remote, database, timeoutMs: o.timeoutMs, ...(tls ? { tls } : {}) }),
  );
}

async function query(
  deps: StatusDeps,
  remote: string,
  database: string,
  o: StatusOptions,
  ops: Parameters<DbHandle["transact"]>[0],
): Promise<OperationResult[]> {
  const db = await remoteDb(deps, remote, database, o);
  try {
    return await db.transact(ops, { timeoutMs: o.timeoutMs });
  } finally {
    db.close();
  }
}

/** The value of `--name=V` or `--name V` in a space-separated option string. */
function optionIn(words: string | undefined, name: string): string | undefined {
  const a = (words ?? "").split(/\s+/);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === `--${name}`) return a[i + 1];
    if (a[i]?.startsWith(`--${name}=`)) return a[i]!.slice(name.length + 3);
  }
  return undefined;
}

/**
 * Reads the local settings and checks every part, each within `o.timeoutMs`, all at once.
 *
 * @param o where to look and the bound of each check
 * @param deps boundaries
 * @returns the status (the local OVSDB failing is a `fail` check, not an exception)
 */
export async function gatherStatus(o: StatusOptions, deps: StatusDeps): Promise<HostStatus> {
  const status: HostStatus = {
    ovsDb: o.ovsDb,
    roles: [],
    rolesSource: "unknown: the local OVSDB was not read",
    nodeName: undefined,
    settings: {},
    checks: [],
  };
  let local: DbHandle;
  let ids: Record<string, string>;
  try {
    local = await connectBounded(
      o.timeoutMs,
      () => deps.connect({ remotes: o.ovsDb, database: "Open_vSwitch", timeoutMs: o.timeoutMs }),
    );
  } catch (err) {
    status.checks.push(
      fail(
        "local OVSDB",
        `${o.ovsDb}: ${
          (err as Error).message
        }; start ovsdb-server, or pass --ovs-db (or set OVS_RUNDIR)`,
      ),
    );
    return status;
  }
  let ovs: OvsState;
  try {
    const root = (await bounded(o.timeoutMs, () => readOvsState(local))).root;
    ids = root?.external_ids ?? {};
    const r = statusRoles(ids, deps.hostname());
    Object.assign(status, {
      roles: r.roles,
      rolesSource: r.source,
      nodeName: r.nodeName,
      settings: hostSettings(ids),
    });
    const mgmt = o.managementInterface ??
      (r.nodeName ? makeManagementInterfaceName(r.nodeName) : undefined);
    ovs = await bounded(o.timeoutMs, () => readOvsState(local, mgmt));
    status.checks.push(
      ok("local OVSDB", `${o.ovsDb} answers${root ? "" : "; but has no Open_vSwitch row"}`),
    );
  } catch (err) {
    status.checks.push(fail("local OVSDB", `${o.ovsDb}: ${(err as Error).message}`));
    return status;
  } finally {
    local.close();
  }

  const roles = status.roles;
  const node = status.nodeName;
  const isNode = roles.includes("master") || roles.includes("minion");
  const ms = o.timeoutMs;
  const systemId = ids[HOST_KEYS.systemId];
  const sb = ids[HOST_KEYS.ovnRemote];
  const nb = ids[HOST_KEYS.ovnNb];
  const checks: Promise<StatusCheck>[] = [
    Promise.resolve(bridgeCheck(ovs, ids)),
    Promise.resolve(
      isNode && node
        ? managementPortCheck(ovs, o.managementInterface ?? makeManagementInterfaceName(node))
        : skip("management port", "not a node (no master or minion role)"),
    ),
    sb
      ? guarded("ovn-controller", ms, async () =>
        controllerCheck(
          await deps.runner.run(
            [
              "ovn-appctl",
              "-t",
              "ovn-controller",
              `--timeout=${Math.ceil(ms / 1000)}`,
              "connection-status",
            ],
            { check: false, timeoutMs: ms },
          ),
        ))
      : Promise.resolve(skip("ovn-controller", `no ${HOST_KEYS.ovnRemote} configured`)),
    !sb
      ? Promise.resolve(skip("chassis", `no ${HOST_KEYS.ovnRemote} configured`))
      : !systemId
      ? Promise.resolve(fail("chassis", "no system-id; run ovn-k8s setup-host"))
      : guarded("chassis", ms, async () => {
        try {
          return chassisCheck(
            await query(deps, sb, "OVN_Southbound", o, chassisReadOps(systemId)),
            systemId,
            ids,
          );
        } catch (err) {
          return fail("chassis", `SB at ${sb}: ${(err as Error).message}`);
        }
      }),
    nb
      ? guarded("nb", ms, async () => {
        try {
          return nbCheck(
            await query(deps, nb, "OVN_Northbound", o, nbReadOps(isNode ? node : undefined)),
            isNode ? node : undefined,
          );
        } catch (err) {
          return fail("nb", `NB at ${nb}: ${(err as Error).message}`);
        }
      })
      : Promise.resolve(
        isNode
          ? fail("nb", `no ${HOST_KEYS.ovnNb} configured; run ovn-k8s setup-host --ovn-nb`)
          : skip("nb", `no ${HOST_KEYS.ovnNb} configured`),
      ),
    guarded("central", ms, async () => {
      const dir = (optionIn(ids[HOST_KEYS.centralOptions], "run-dir") ?? DISTRO_DIRS.runDir)
        .replace(/\/+$/, "");
      const pids: Record<string, number | undefined> = {};
      for (const f of ["ovnnb_db.pid", "ovnsb_db.pid", "ovn-northd.pid"]) {
        pids[`${dir}/${f}`] = await livePid(deps.procs, `${dir}/${f}`);
      }
      return centralCheck(pids, roles.includes("central"));
    }),
    guarded("watcher", ms, async () => {
      const addr = optionIn(ids[HOST_KEYS.watcherOptions], "metrics-address") ??
        DEFAULT_METRICS_ADDRESS;
      const master = roles.includes("master");
      if (addr === "off") {
        return skip(
          "watcher",
          master ? "metrics off (--metrics-address=off): cannot tell" : "not a role",
        );
      }
      const url = `http://${addr}/healthz`;
      const answer = await deps.httpStatus(url, ms).catch((err) => (err as Error).message);
      return watcherCheck(url, answer, master);
    }),
    roles.includes("minion") ? guarded("cni", ms, () => cniCheck(o.cni, deps)) : Promise.resolve(
      skip("cni", "not a minion"),
    ),
  ];
  status.checks.push(...await Promise.all(checks));
  return status;
}

async function cniCheck(cni: StatusOptions["cni"], deps: StatusDeps): Promise<StatusCheck> {
  const conf = `${cni.confDir.replace(/\/+$/, "")}/${cni.confFile}`;
  const link = `${cni.binDir.replace(/\/+$/, "")}/ovn_cni`;
  let type: unknown;
  try {
    type = (JSON.parse(await deps.readTextFile(conf)) as { type?: unknown }).type;
  } catch (err) {
    return fail("cni", `${conf}: ${(err as Error).message}; run minion-init (--cni-conf-dir)`);
  }
  if (type !== "ovn_cni") return fail("cni", `${conf}: type is ${String(type)}, not ovn_cni`);
  let target: string;
  try {
    target = await deps.readLink(link);
  } catch (err) {
    return fail("cni", `${link}: ${(err as Error).message}; run minion-init (--cni-bin-dir)`);
  }
  if (!(await deps.exists(link))) return fail("cni", `${link} -> ${target}: the target is missing`);
  return ok("cni", `${conf}, ${link} -> ${target}`);
}

function realStatusDeps(): StatusDeps {
  const runner = new ProcessRunner();
  return {
    connect: connectOvsdb,
    runner,
    procs: systemProcesses(runner),
    readTextFile: (p) => Deno.readTextFile(p),
    readLink: (p) => Deno.readLink(p),
    exists: (p) => Deno.stat(p).then(() => true, () => false),
    httpStatus: async (url, timeoutMs) => {
      const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await r.body?.cancel();
      return r.status;
    },
    hostname: () => Deno.hostname(),
  };
}

/**
 * Runs `ovn-k8s status` with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries
 * @returns 0 healthy, 1 something configured is unhealthy
 * @throws {UsageError|ValidationError} on bad input (exit 2)
 */
export async function runStatus(
  args: string[],
  ctx: RoleContext,
  deps: StatusDeps = realStatusDeps(),
): Promise<number> {
  const p = parseCommand(args, OPTIONS, USAGE);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  const timeout = p.string("timeout");
  const timeoutMs = 1000 *
    (timeout ? parseIntFlag("--timeout", timeout, 1, 300) : DEFAULT_STATUS_TIMEOUT_S);
  const ovsDb = resolveOvsDb(p.string("ovs-db"), ctx.env);
  try {
    parseRemotes(ovsDb);
  } catch (err) {
    throw new ValidationError(`Cannot use --ovs-db "${ovsDb}": ${(err as Error).message}`);
  }
  const confFile = p.string("cni-conf-file") ?? "10-net.conf";
  if (/[/\s]/.test(confFile)) {
    throw new ValidationError(
      `Cannot use --cni-conf-file "${confFile}": expected a file name, not a path`,
    );
  }
  const status = await gatherStatus({
    ovsDb,
    timeoutMs,
    managementInterface: p.string("management-interface"),
    cni: {
      binDir: p.string("cni-bin-dir") ?? "/opt/cni/bin",
      confDir: p.string("cni-conf-dir") ?? "/etc/cni/net.d",
      confFile,
    },
    ssl: {
      privkey: p.string("nb-privkey") ?? DEFAULT_NB_SSL.privkey,
      cert: p.string("nb-cert") ?? DEFAULT_NB_SSL.cert,
      cacert: p.string("nb-cacert") ?? DEFAULT_NB_SSL.cacert,
    },
  }, deps);
  const code = statusExitCode(status);
  ctx.stdout(
    p.flag("json")
      ? JSON.stringify({ ...status, healthy: code === 0 }, null, 2)
      : formatStatus(status),
  );
  return code;
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runStatus(args, ctx);
}

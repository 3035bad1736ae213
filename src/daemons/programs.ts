/**
 * {@linkcode DaemonSpec}s for the OVS and OVN daemons ovn-k8s runs: ovsdb-server (OVN NB,
 * OVN SB, standalone or RAFT member; or a host's Open_vSwitch database), ovn-northd,
 * ovs-vswitchd and ovn-controller. Pure builders: paths in, argv out; the only I/O is the
 * `prepare` hook that creates a missing database file with `ovsdb-tool`.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";
import type { DaemonSpec } from "./daemon.ts";

/** Schemas installed by the Debian packages. */
export const SCHEMAS = {
  nb: "/usr/share/ovn/ovn-nb.ovsschema",
  sb: "/usr/share/ovn/ovn-sb.ovsschema",
  vswitch: "/usr/share/openvswitch/vswitch.ovsschema",
} as const;

/** PEM files for SSL: our private key, our certificate, the CA that signs peers. */
export interface SslFiles {
  key: string;
  cert: string;
  ca: string;
}

/** RAFT membership of one ovsdb-server. */
export interface RaftMember {
  /** This member's RAFT address, `tcp:IP:PORT` or `ssl:IP:PORT`. */
  local: string;
  /** Members to join through; empty when this member creates the cluster. */
  remotes: string[];
}

/** Common daemon options. */
interface Placement {
  /** Network namespace to run in. */
  netns?: string;
  /** Extra environment. */
  env?: Record<string, string>;
}

/** Options of {@linkcode ovsdbServerSpec}. */
export interface OvsdbServerOptions extends Placement {
  /** Name for logs ("nb", "sb", "ovsdb-server"). */
  name: string;
  /** Database name inside the schema (`OVN_Northbound`). */
  dbName: string;
  /** Schema file used to create the database. */
  schema: string;
  /** Database file. */
  dbFile: string;
  /** Pidfile, unixctl socket, log file. */
  pidfile: string;
  ctl: string;
  logFile: string;
  /** Remotes (`punix:PATH`, `ptcp:6641:0.0.0.0`, `pssl:...`, `db:DB,TABLE,COLUMN`). */
  remotes: string[];
  /** Key, certificate and CA for pssl remotes and RAFT over ssl. */
  ssl?: SslFiles;
  /** RAFT membership; absent for a standalone database. */
  raft?: RaftMember;
  /**
   * Operations written into a new database before its server first starts (standalone,
   * or the member that creates a RAFT cluster; a joining member gets them from the
   * cluster), so that no client ever sees the database without these rows.
   */
  seed?: readonly Record<string, unknown>[];
}

/**
 * Describes an ovsdb-server serving one database.
 *
 * @param o paths, remotes, SSL, RAFT membership
 * @param runner used by `prepare` to create the database file when missing
 * @returns the daemon spec
 */
export function ovsdbServerSpec(o: OvsdbServerOptions, runner: Runner): DaemonSpec {
  const argv = [
    ...detachedArgv("ovsdb-server", o.pidfile, o.logFile, o.ctl),
    ...o.remotes.map((r) => `--remote=${r}`),
    ...sslArgv(o.ssl),
    o.dbFile,
  ];
  return {
    name: o.name,
    argv,
    pidfile: o.pidfile,
    ctl: o.ctl,
    appctl: "ovs-appctl",
    ...placement(o),
    prepare: async () => {
      if (await exists(o.dbFile)) return;
      const seed = seedFile(o.dbFile);
      const steps = createDbSteps(o, seed);
      if (steps.length === 1) {
        await runner.run(steps[0]!, { timeoutMs: 20_000 });
        return;
      }
      // Seeded: built in a side file, then renamed into place (or turned into the cluster),
      // so an interrupted start never leaves a database file without the seed rows.
      await removeSeedFile(seed);
      try {
        for (const argv of steps) await runner.run(argv, { timeoutMs: 20_000 });
        if (!o.raft) await Deno.rename(seed, o.dbFile);
      } finally {
        await removeSeedFile(seed);
      }
    },
    health: {
      command: ["ovsdb-server/list-dbs"],
      ok: (out) => out.split("\n").map((l) => l.trim()).includes(o.dbName),
    },
  };
}

/**
 * The `ovsdb-tool` command that creates a database file: standalone, a new RAFT cluster,
 * or a member joining one.
 *
 * @param o database, schema and RAFT membership
 * @returns the argv
 */
export function createDbArgv(
  o: Pick<OvsdbServerOptions, "dbFile" | "schema" | "dbName" | "raft">,
): string[] {
  if (!o.raft) return ["ovsdb-tool", "create", o.dbFile, o.schema];
  if (o.raft.remotes.length === 0) {
    return ["ovsdb-tool", "create-cluster", o.dbFile, o.schema, o.raft.local];
  }
  return ["ovsdb-tool", "join-cluster", o.dbFile, o.dbName, o.raft.local, ...o.raft.remotes];
}

/**
 * The `ovsdb-tool` commands that create a database file with its seed rows: without a
 * seed (or for a joining member) just {@linkcode createDbArgv}; with one, a standalone
 * database at `seedPath` gets the rows by `transact`, and then either becomes the
 * database (the caller renames it) or is the contents `create-cluster` starts from.
 *
 * @param o database, schema, RAFT membership and seed operations
 * @param seedPath the side file the seeded database is built in
 * @returns the argv of each step, in order
 */
export function createDbSteps(
  o: Pick<OvsdbServerOptions, "dbFile" | "schema" | "dbName" | "raft" | "seed">,
  seedPath: string,
): string[][] {
  const joining = o.raft !== undefined && o.raft.remotes.length > 0;
  if (!o.seed?.length || joining) return [createDbArgv(o)];
  const steps = [
    ["ovsdb-tool", "create", seedPath, o.schema],
    ["ovsdb-tool", "transact", seedPath, JSON.stringify([o.dbName, ...o.seed])],
  ];
  if (o.raft) steps.push(["ovsdb-tool", "create-cluster", o.dbFile, seedPath, o.raft.local]);
  return steps;
}

function seedFile(dbFile: string): string {
  return `${dbFile}.seed.tmp`;
}

/** Removes the seed side file and the lock file `ovsdb-tool` leaves beside it. */
async function removeSeedFile(path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const lock = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.~lock~`;
  for (const p of [path, lock]) {
    await Deno.remove(p).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

/** Options of {@linkcode northdSpec}. */
export interface NorthdOptions extends Placement {
  /** NB and SB connection strings (comma-separated lists allowed). */
  nbDb: string;
  sbDb: string;
  pidfile: string;
  ctl: string;
  logFile: string;
  /** Client key/cert/CA for ssl: remotes. */
  ssl?: SslFiles;
}

/**
 * Describes ovn-northd.
 *
 * @param o databases and paths
 * @returns the daemon spec; healthy when `status` answers active, standby or paused
 */
export function northdSpec(o: NorthdOptions): DaemonSpec {
  return {
    name: "northd",
    argv: [
      ...detachedArgv("ovn-northd", o.pidfile, o.logFile, o.ctl),
      `--ovnnb-db=${o.nbDb}`,
      `--ovnsb-db=${o.sbDb}`,
      ...sslArgv(o.ssl),
    ],
    pidfile: o.pidfile,
    ctl: o.ctl,
    appctl: "ovn-appctl",
    ...placement(o),
    health: { command: ["status"], ok: (out) => /Status: (active|standby|paused)/.test(out) },
  };
}

/** Files of one host's Open_vSwitch database and switch daemons, all in one run directory. */
export interface OvsHostOptions extends Placement {
  /** Directory holding conf.db, db.sock, pidfiles, control sockets and logs. */
  runDir: string;
}

/**
 * The conventional paths inside a host's OVS run directory.
 *
 * @param runDir the directory
 * @returns the paths
 */
export function ovsHostPaths(runDir: string): {
  dbFile: string;
  dbSock: string;
  ovsdbPid: string;
  ovsdbCtl: string;
  vswitchdPid: string;
  vswitchdCtl: string;
  controllerPid: string;
} {
  return {
    dbFile: `${runDir}/conf.db`,
    dbSock: `${runDir}/db.sock`,
    ovsdbPid: `${runDir}/ovsdb-server.pid`,
    ovsdbCtl: `${runDir}/ovsdb-server.ctl`,
    vswitchdPid: `${runDir}/ovs-vswitchd.pid`,
    vswitchdCtl: `${runDir}/ovs-vswitchd.ctl`,
    controllerPid: `${runDir}/ovn-controller.pid`,
  };
}

/**
 * The environment that points OVS and OVN tools at one run directory (gotcha G7: the
 * system defaults do not exist, and vswitchd puts `br-int.mgmt` there).
 *
 * @param runDir the directory
 * @returns OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR, OVN_RUNDIR, OVN_LOGDIR, OVN_DBDIR
 */
export function rundirEnv(runDir: string): Record<string, string> {
  return {
    OVS_RUNDIR: runDir,
    OVS_DBDIR: runDir,
    OVS_LOGDIR: runDir,
    OVN_RUNDIR: runDir,
    OVN_LOGDIR: runDir,
    OVN_DBDIR: runDir,
  };
}

/**
 * Describes a host's Open_vSwitch ovsdb-server.
 *
 * @param o run directory and namespace
 * @param runner used to create conf.db when missing
 * @returns the daemon spec
 */
export function hostOvsdbSpec(o: OvsHostOptions, runner: Runner): DaemonSpec {
  const p = ovsHostPaths(o.runDir);
  return ovsdbServerSpec({
    name: "ovsdb-server",
    dbName: "Open_vSwitch",
    schema: SCHEMAS.vswitch,
    dbFile: p.dbFile,
    pidfile: p.ovsdbPid,
    ctl: p.ovsdbCtl,
    logFile: `${o.runDir}/ovsdb-server.log`,
    remotes: [`punix:${p.dbSock}`, "db:Open_vSwitch,Open_vSwitch,manager_options"],
    ...(o.netns ? { netns: o.netns } : {}),
    env: { ...rundirEnv(o.runDir), ...o.env },
  }, runner);
}

/**
 * Describes a host's ovs-vswitchd.
 *
 * @param o run directory and namespace
 * @returns the daemon spec
 */
export function vswitchdSpec(o: OvsHostOptions): DaemonSpec {
  const p = ovsHostPaths(o.runDir);
  return {
    name: "ovs-vswitchd",
    argv: [
      ...detachedArgv(
        "ovs-vswitchd",
        p.vswitchdPid,
        `${o.runDir}/ovs-vswitchd.log`,
        p.vswitchdCtl,
      ),
      `unix:${p.dbSock}`,
    ],
    pidfile: p.vswitchdPid,
    ctl: p.vswitchdCtl,
    appctl: "ovs-appctl",
    ...(o.netns ? { netns: o.netns } : {}),
    env: { ...rundirEnv(o.runDir), ...o.env },
    health: { command: ["version"] },
  };
}

/**
 * Describes a host's ovn-controller. It has no `--unixctl` option in OVN 23.03: its
 * control socket is `$OVN_RUNDIR/ovn-controller.PID.ctl`.
 *
 * @param o run directory and namespace; `ssl` for an ssl: SB remote
 * @returns the daemon spec
 */
export function ovnControllerSpec(o: OvsHostOptions & { ssl?: SslFiles }): DaemonSpec {
  const p = ovsHostPaths(o.runDir);
  return {
    name: "ovn-controller",
    argv: [
      ...detachedArgv("ovn-controller", p.controllerPid, `${o.runDir}/ovn-controller.log`),
      ...sslArgv(o.ssl),
      `unix:${p.dbSock}`,
    ],
    pidfile: p.controllerPid,
    ctl: (pid) => `${o.runDir}/ovn-controller.${pid}.ctl`,
    appctl: "ovn-appctl",
    ...(o.netns ? { netns: o.netns } : {}),
    env: { ...rundirEnv(o.runDir), ...o.env },
    health: { command: ["version"] },
  };
}

/**
 * The start of an OVS/OVN daemon's argv: detached, no chdir, logging to a file only.
 *
 * @param program the daemon
 * @param pidfile its pidfile
 * @param logFile its log file
 * @param ctl its control socket (`--unixctl`); ovn-controller 23.03 takes none
 * @returns the argv up to the daemon's own options
 */
function detachedArgv(program: string, pidfile: string, logFile: string, ctl?: string): string[] {
  return [
    program,
    "--detach",
    "--no-chdir",
    "-vconsole:off",
    `--pidfile=${pidfile}`,
    `--log-file=${logFile}`,
    ...(ctl ? [`--unixctl=${ctl}`] : []),
  ];
}

/**
 * The SSL options of an OVS/OVN daemon.
 *
 * @param ssl key, certificate and CA; none for no SSL
 * @returns the options (none without `ssl`)
 */
function sslArgv(ssl: SslFiles | undefined): string[] {
  return ssl
    ? [`--private-key=${ssl.key}`, `--certificate=${ssl.cert}`, `--ca-cert=${ssl.ca}`]
    : [];
}

function placement(o: Placement): Placement {
  return { ...(o.netns ? { netns: o.netns } : {}), ...(o.env ? { env: o.env } : {}) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

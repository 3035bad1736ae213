/**
 * The central OVN control plane: the NB and SB ovsdb-servers and ovn-northd, started or
 * adopted with explicit paths, optionally as one member of a 3-member RAFT cluster, opened
 * to the cluster on ptcp (or pssl with key/cert/CA). Used by `ovn-k8s central` and by the
 * sandbox.
 *
 * Listening remotes are given on the command line, not written into the databases, so
 * adopting a running central writes nothing. The `connections` column is also honoured,
 * so an operator can still add remotes with `ovn-nbctl set-connection`.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  type ClusterStatus,
  formatRemote,
  parseClusterStatus,
  splitRemote,
} from "./cluster_status.ts";
import { Daemon, DAEMON_TIMEOUT_MS, type EnsureResult } from "./daemon.ts";
import { type Processes, systemProcesses } from "./process.ts";
import { northdSpec, ovsdbServerSpec, SCHEMAS, type SslFiles } from "./programs.ts";
import { superviseDaemons } from "./supervise.ts";
import { pollUntil } from "./wait.ts";

/** Where the distribution keeps OVN's databases, sockets and logs. */
export const DISTRO_DIRS = {
  dataDir: "/var/lib/ovn",
  runDir: "/var/run/ovn",
  logDir: "/var/log/ovn",
} as const;

/** Default client ports and RAFT ports (as ovn-ctl). */
export const DEFAULT_PORTS = { nb: 6641, sb: 6642, nbRaft: 6643, sbRaft: 6644 } as const;

/** RAFT settings of one central member. */
export interface CentralRaft {
  /** This member's address (an IP of this host), used for RAFT and advertised to clients. */
  localAddr: string;
  /** Addresses of members to join; empty when this member creates the cluster. */
  remoteAddrs: string[];
  /** RAFT ports (default 6643 / 6644). */
  nbPort: number;
  sbPort: number;
}

/** Everything `central` needs. */
export interface CentralConfig {
  /** Database files (default /var/lib/ovn). */
  dataDir: string;
  /** Sockets and pidfiles (default /var/run/ovn). */
  runDir: string;
  /** Log files (default /var/log/ovn). */
  logDir: string;
  /** Address the client remotes listen on (`0.0.0.0`, `::`, or one address). */
  listenAddress: string;
  /** Client ports (default 6641 / 6642). */
  nbPort: number;
  sbPort: number;
  /** pssl instead of ptcp, with these files. */
  ssl?: SslFiles;
  /** RAFT membership; absent for standalone databases. */
  raft?: CentralRaft;
  /** Network namespace to run the daemons in. */
  netns?: string;
  /** Whether to run ovn-northd (default true). */
  northd?: boolean;
}

/** The files of a central, derived from its directories. */
export interface CentralPaths {
  nb: DbPaths;
  sb: DbPaths;
  northd: { pidfile: string; ctl: string; logFile: string };
}

/** One database's files. */
export interface DbPaths {
  dbFile: string;
  sock: string;
  ctl: string;
  pidfile: string;
  logFile: string;
}

/**
 * The file layout of a central (the distribution's names, under the given directories).
 *
 * @param c directories
 * @returns the paths
 */
export function centralPaths(
  c: Pick<CentralConfig, "dataDir" | "runDir" | "logDir">,
): CentralPaths {
  const db = (n: "nb" | "sb"): DbPaths => ({
    dbFile: `${c.dataDir}/ovn${n}_db.db`,
    sock: `${c.runDir}/ovn${n}_db.sock`,
    ctl: `${c.runDir}/ovn${n}_db.ctl`,
    pidfile: `${c.runDir}/ovn${n}_db.pid`,
    logFile: `${c.logDir}/ovsdb-server-${n}.log`,
  });
  return {
    nb: db("nb"),
    sb: db("sb"),
    northd: {
      pidfile: `${c.runDir}/ovn-northd.pid`,
      ctl: `${c.runDir}/ovn-northd.ctl`,
      logFile: `${c.logDir}/ovn-northd.log`,
    },
  };
}

/** What {@linkcode Central.ensure} did per daemon. */
export type CentralEnsureResult = Record<"nb" | "sb" | "northd", EnsureResult | "disabled">;

/** Status of one database server. */
export interface DbStatus {
  pid?: number;
  healthy: boolean;
  /** RAFT status when clustered. */
  cluster?: ClusterStatus;
}

/** Status of a central. */
export interface CentralStatus {
  nb: DbStatus;
  sb: DbStatus;
  northd: { pid?: number; status: string };
  /** Client remote lists (every known member). */
  nbRemote: string;
  sbRemote: string;
}

/** Injected boundaries of {@linkcode Central}. */
export interface CentralDeps {
  runner: Runner;
  log: Logger;
  procs?: Processes;
  /** Addresses of the namespace the central runs in, for a wildcard listen address. */
  hostAddresses?: () => Promise<string[]>;
}

/** The NB, SB and northd daemons of one central. */
export class Central {
  /** The NB ovsdb-server. */
  readonly nb: Daemon;
  /** The SB ovsdb-server. */
  readonly sb: Daemon;
  /** ovn-northd, when enabled (rebuilt when the RAFT membership it connects to changes). */
  northd: Daemon | undefined;
  /** The files. */
  readonly paths: CentralPaths;

  /**
   * @param config directories, addresses, SSL and RAFT settings
   * @param deps runner, logger, process table
   */
  constructor(readonly config: CentralConfig, readonly deps: CentralDeps) {
    const p = this.paths = centralPaths(config);
    const ddeps = {
      runner: deps.runner,
      procs: deps.procs ?? systemProcesses(deps.runner),
      log: deps.log,
    };
    const proto = config.ssl ? "pssl" : "ptcp";
    const raftProto = config.ssl ? "ssl" : "tcp";
    const place = config.netns ? { netns: config.netns } : {};
    const db = (n: "nb" | "sb") => {
      const port = n === "nb" ? config.nbPort : config.sbPort;
      const dbName = n === "nb" ? "OVN_Northbound" : "OVN_Southbound";
      const table = n === "nb" ? "NB_Global" : "SB_Global";
      const raft = config.raft;
      const raftPort = raft ? (n === "nb" ? raft.nbPort : raft.sbPort) : 0;
      return new Daemon(
        ovsdbServerSpec({
          name: n,
          dbName,
          schema: SCHEMAS[n],
          ...p[n],
          remotes: [
            `punix:${p[n].sock}`,
            formatRemote(proto, config.listenAddress, port),
            `db:${dbName},${table},connections`,
          ],
          ...(config.ssl ? { ssl: config.ssl } : {}),
          // OVN 23.03's ovn-controller dies (SIGSEGV, nothing logged) when it connects to
          // an SB without an SB_Global row, i.e. between the SB's start and ovn-northd's
          // first write: a chassis pointed at a central that is just starting lost its
          // ovn-controller. The row exists from the start; northd fills it in as usual.
          ...(n === "sb" ? { seed: [{ op: "insert", table: "SB_Global", row: {} }] } : {}),
          ...(raft
            ? {
              raft: {
                local: formatRemote(raftProto, raft.localAddr, raftPort),
                remotes: raft.remoteAddrs.map((a) => formatRemote(raftProto, a, raftPort)),
              },
            }
            : {}),
          ...place,
        }, deps.runner),
        ddeps,
      );
    };
    this.nb = db("nb");
    this.sb = db("sb");
    this.#ddeps = ddeps;
    this.northd = config.northd === false ? undefined : this.#makeNorthd(
      config.raft ? this.#raftClientLists([config.raft.localAddr, ...config.raft.remoteAddrs]) : {
        nbRemote: `unix:${p.nb.sock}`,
        sbRemote: `unix:${p.sb.sock}`,
      },
    );
  }

  readonly #ddeps: { runner: Runner; procs: Processes; log: Logger };

  #makeNorthd(db: { nbRemote: string; sbRemote: string }): Daemon {
    return new Daemon(
      northdSpec({
        nbDb: db.nbRemote,
        sbDb: db.sbRemote,
        ...this.paths.northd,
        ...(this.config.netns ? { netns: this.config.netns } : {}),
        // Clustered: northd reaches every member over tcp/ssl (it only uses leaders).
        ...(this.config.raft && this.config.ssl ? { ssl: this.config.ssl } : {}),
      }),
      this.#ddeps,
    );
  }

  #raftClientLists(hosts: string[]): { nbRemote: string; sbRemote: string } {
    const proto = this.config.ssl ? "ssl" : "tcp";
    const uniq = [...new Set(hosts)];
    return {
      nbRemote: uniq.map((h) => formatRemote(proto, h, this.config.nbPort)).join(","),
      sbRemote: uniq.map((h) => formatRemote(proto, h, this.config.sbPort)).join(","),
    };
  }

  /**
   * With RAFT, makes northd connect to every current member: when the running northd
   * was started with another member list (members joined since), it is restarted.
   *
   * @param opts deadline and abort signal
   * @returns true when northd was (re)started
   */
  async refreshNorthd(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (!this.northd || !this.config.raft) return false;
    const want = await this.remotes();
    const current = this.northd.spec.argv.includes(`--ovnnb-db=${want.nbRemote}`) &&
      this.northd.spec.argv.includes(`--ovnsb-db=${want.sbRemote}`);
    if (current) return false;
    const old = this.northd;
    this.northd = this.#makeNorthd(want);
    const pid = await old.pid();
    if (pid === undefined) return false;
    const argv = await this.#ddeps.procs.cmdline(pid);
    if (
      argv?.includes(`--ovnnb-db=${want.nbRemote}`) && argv.includes(`--ovnsb-db=${want.sbRemote}`)
    ) {
      return false;
    }
    this.deps.log.info("cluster members changed; restarting northd", { nb: want.nbRemote });
    await old.stop();
    await this.northd.start(opts);
    return true;
  }

  /** The daemons, in start order. */
  get daemons(): Daemon[] {
    return [this.nb, this.sb, ...(this.northd ? [this.northd] : [])];
  }

  /**
   * Starts what is not running and adopts what is; with RAFT, waits until both databases
   * are cluster members.
   *
   * @param opts deadline per step and abort signal
   * @returns what happened to each daemon
   */
  async ensure(
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<CentralEnsureResult> {
    const p = this.paths;
    for (const dir of new Set([dirOf(p.nb.dbFile), dirOf(p.nb.sock), dirOf(p.nb.logFile)])) {
      await Deno.mkdir(dir, { recursive: true });
    }
    const nb = await this.nb.ensure(opts);
    const sb = await this.sb.ensure(opts);
    if (this.config.raft) await this.waitClusterMember(opts);
    const restarted = await this.refreshNorthd(opts);
    const northd = this.northd
      ? (restarted ? "started" : await this.northd.ensure(opts))
      : "disabled";
    return { nb, sb, northd };
  }

  /**
   * Waits until both databases report `Status: cluster member` (a joining member needs a
   * running member to join through).
   *
   * @param opts deadline and abort signal
   */
  async waitClusterMember(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    for (const [d, name] of [[this.nb, "OVN_Northbound"], [this.sb, "OVN_Southbound"]] as const) {
      await pollUntil(
        `${d.name} to become a RAFT cluster member (joining through ${
          this.config.raft?.remoteAddrs.join(", ") || "itself"
        }; is a member running there?)`,
        async () =>
          parseClusterStatus(await d.appctl(["cluster/status", name])).status === "cluster member",
        {
          timeoutMs: opts.timeoutMs ?? DAEMON_TIMEOUT_MS,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      );
    }
  }

  /**
   * The client connection lists: every RAFT member known to this one (or this server
   * alone), with the client port and tcp/ssl.
   *
   * @returns NB and SB remotes, comma-separated as OVS clients take them
   */
  async remotes(): Promise<{ nbRemote: string; sbRemote: string }> {
    const raft = this.config.raft;
    if (!raft) {
      const proto = this.config.ssl ? "ssl" : "tcp";
      const host = await this.advertisedAddress();
      return {
        nbRemote: formatRemote(proto, host, this.config.nbPort),
        sbRemote: formatRemote(proto, host, this.config.sbPort),
      };
    }
    const hosts = [raft.localAddr, ...raft.remoteAddrs];
    for (const [d, dbName] of [[this.nb, "OVN_Northbound"], [this.sb, "OVN_Southbound"]] as const) {
      try {
        const st = parseClusterStatus(await d.appctl(["cluster/status", dbName]));
        for (const s of st.servers) {
          const host = splitRemote(s.address)?.host;
          if (host) hosts.push(host);
        }
      } catch (err) {
        this.deps.log.warn("cannot read cluster members", { db: d.name, err });
      }
    }
    return this.#raftClientLists(hosts);
  }

  /** The address clients should use for a standalone central. */
  async advertisedAddress(): Promise<string> {
    const a = this.config.listenAddress;
    if (a !== "0.0.0.0" && a !== "::") return a;
    const found = (await this.deps.hostAddresses?.()) ?? [];
    return found[0] ?? (a === "::" ? "::1" : "127.0.0.1");
  }

  /**
   * Reads the status of every daemon (unixctl only; database contents are the caller's).
   *
   * @returns pids, health, RAFT roles, northd status and the client remotes
   */
  async status(): Promise<CentralStatus> {
    const db = async (d: Daemon, dbName: string): Promise<DbStatus> => {
      const pid = await d.pid();
      const healthy = pid !== undefined && await d.healthy();
      const out: DbStatus = { healthy, ...(pid !== undefined ? { pid } : {}) };
      if (healthy && this.config.raft) {
        out.cluster = parseClusterStatus(await d.appctl(["cluster/status", dbName]));
      }
      return out;
    };
    const northdPid = await this.northd?.pid();
    let northdStatus = this.northd ? "not running" : "disabled";
    if (this.northd && northdPid !== undefined) {
      northdStatus = await this.northd.appctl(["status"]).then(
        (o) => /Status: (\S+)/.exec(o)?.[1] ?? o,
        (e) => `not answering: ${e instanceof Error ? e.message : e}`,
      );
    }
    return {
      nb: await db(this.nb, "OVN_Northbound"),
      sb: await db(this.sb, "OVN_Southbound"),
      northd: { status: northdStatus, ...(northdPid !== undefined ? { pid: northdPid } : {}) },
      ...(await this.remotes()),
    };
  }

  /**
   * Restarts any daemon that dies, until the signal aborts; then stops them all unless
   * `leaveRunning`.
   *
   * @param opts abort signal, poll interval, whether to leave the daemons running
   */
  async supervise(
    opts: { signal: AbortSignal; intervalMs?: number; leaveRunning?: boolean },
  ): Promise<void> {
    let tick = 0;
    await superviseDaemons(() => this.daemons, {
      ...opts,
      log: this.deps.log,
      // With RAFT, every ~10 polls: follow membership changes in northd's remote lists.
      ...(this.config.raft
        ? {
          beforeTick: async () => {
            if (tick++ % 10 === 0) await this.refreshNorthd({ signal: opts.signal });
          },
        }
        : {}),
    });
    if (!opts.leaveRunning) await this.stop();
  }

  /** Stops northd, SB and NB (reverse start order). Succeeds when not running. */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    for (const d of [...this.daemons].reverse()) await d.stop(opts);
  }
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

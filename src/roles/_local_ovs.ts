/**
 * Shared plumbing of the node roles (setup-host, master-init, minion-init, run): where
 * the local Open_vSwitch database is, connecting to it and to OVN NB with timeouts, and
 * turning connection failures into messages that name the setting to fix.
 *
 * @module
 */
import { ValidationError } from "../cli/mod.ts";
import {
  type Operation,
  type OperationResult,
  OvsdbClient,
  OvsdbError,
  parseRemotes,
  type TlsOptions,
} from "../ovsdb/mod.ts";
import { type OvsState, ovsStateReadOps, parseOvsState } from "../ovs/mod.ts";
import type { EnvReader } from "./context.ts";

/** The local database when neither `--ovs-db` nor `OVS_RUNDIR` is given. */
export const DEFAULT_OVS_DB = "unix:/var/run/openvswitch/db.sock";
/** Default connect timeout of the local database and NB, in seconds. */
export const DEFAULT_DB_TIMEOUT_S = 10;

/** The part of an OVSDB client the roles use (tests substitute a fake). */
export interface DbHandle {
  /** Runs one transaction. */
  transact(ops: readonly Operation[], opts?: { timeoutMs?: number }): Promise<OperationResult[]>;
  /** Closes the connection. */
  close(): void;
}

/** Opens a database connection. */
export type DbConnector = (opts: {
  remotes: string;
  database: string;
  timeoutMs: number;
  tls?: TlsOptions;
}) => Promise<DbHandle>;

/** The real connector: {@linkcode OvsdbClient.connect}. Needs `--allow-net` (and read for unix). */
export const connectOvsdb: DbConnector = (opts) =>
  OvsdbClient.connect({
    remotes: opts.remotes,
    database: opts.database,
    timeoutMs: opts.timeoutMs,
    requestTimeoutMs: Math.max(opts.timeoutMs, 5_000),
    ...(opts.tls ? { tls: opts.tls } : {}),
  });

/**
 * Where the local Open_vSwitch database is: `--ovs-db`, else `$OVS_RUNDIR/db.sock`,
 * else {@linkcode DEFAULT_OVS_DB}. A bare path means a unix socket.
 *
 * @param flag the `--ovs-db` value
 * @param env environment
 * @returns an OVSDB remote
 */
export function resolveOvsDb(flag: string | undefined, env: EnvReader): string {
  if (flag !== undefined && flag !== "") return flag.startsWith("/") ? `unix:${flag}` : flag;
  const rundir = env("OVS_RUNDIR");
  if (rundir) return `unix:${rundir.replace(/\/+$/, "")}/db.sock`;
  return DEFAULT_OVS_DB;
}

/**
 * Connects to the local Open_vSwitch database.
 *
 * @param connect connector
 * @param remote the remote (see {@linkcode resolveOvsDb})
 * @param timeoutMs connect timeout
 * @returns the handle
 * @throws {ValidationError} naming `--ovs-db` when it cannot be reached in time
 */
export async function connectLocal(
  connect: DbConnector,
  remote: string,
  timeoutMs: number,
): Promise<DbHandle> {
  try {
    parseRemotes(remote);
  } catch (err) {
    throw new ValidationError(`Cannot use --ovs-db "${remote}": ${(err as Error).message}`);
  }
  try {
    return await connect({ remotes: remote, database: "Open_vSwitch", timeoutMs });
  } catch (err) {
    throw new ValidationError(
      `Cannot connect to the local Open vSwitch database at ${remote} within ${
        timeoutMs / 1000
      } s: ${(err as Error).message}; start ovsdb-server, or pass --ovs-db (or set OVS_RUNDIR)`,
      { cause: err },
    );
  }
}

/**
 * Reads the local Open_vSwitch state.
 *
 * @param db local database
 * @param portName a port/interface to read too
 * @returns the state
 */
export async function readOvsState(db: DbHandle, portName?: string): Promise<OvsState> {
  return parseOvsState(await db.transact(ovsStateReadOps(portName)));
}

/** SSL files for NB (`--nb-privkey`, `--nb-cert`, `--nb-cacert`). */
export interface NbSslFiles {
  privkey: string;
  cert: string;
  cacert: string;
}

/** The original's defaults (reference §12.1). */
export const DEFAULT_NB_SSL: NbSslFiles = {
  privkey: "/etc/openvswitch/ovncontroller-privkey.pem",
  cert: "/etc/openvswitch/ovncontroller-cert.pem",
  cacert: "/etc/openvswitch/ovnnb-ca.cert",
};

/**
 * Connects to OVN NB: `tcp:`, `ssl:` (with key, certificate and CA files) or `unix:`,
 * or a comma-separated list of cluster members, within a timeout.
 *
 * @param connect connector
 * @param remote `external_ids:ovn-nb`
 * @param ssl SSL file paths (read only for `ssl:` remotes)
 * @param timeoutMs connect timeout
 * @param readFile file reader
 * @returns the handle
 * @throws {ValidationError} for a malformed remote, a missing SSL file, or no NB member
 *   answering within the timeout (the message names the setting to fix)
 */
export async function connectNb(
  connect: DbConnector,
  remote: string,
  ssl: NbSslFiles,
  timeoutMs: number,
  readFile: (path: string) => Promise<string>,
): Promise<DbHandle> {
  let remotes;
  try {
    remotes = parseRemotes(remote);
  } catch (err) {
    throw new ValidationError(
      `Cannot use external_ids:ovn-nb "${remote}": ${(err as Error).message}; ` +
        "fix it with ovn-k8s setup-host --ovn-nb",
    );
  }
  let tls: TlsOptions | undefined;
  if (remotes.some((r) => r.kind === "ssl")) {
    const read = async (path: string, flag: string) => {
      try {
        return await readFile(path);
      } catch (err) {
        throw new ValidationError(
          `Cannot read ${flag} "${path}" for the ssl: NB remote: ${(err as Error).message}; ` +
            `pass ${flag} with the right file`,
        );
      }
    };
    tls = {
      key: await read(ssl.privkey, "--nb-privkey"),
      cert: await read(ssl.cert, "--nb-cert"),
      caCert: await read(ssl.cacert, "--nb-cacert"),
    };
  }
  try {
    return await connect({
      remotes: remote,
      database: "OVN_Northbound",
      timeoutMs,
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    const why = err instanceof OvsdbError || err instanceof Error ? err.message : String(err);
    throw new ValidationError(
      `Cannot connect to OVN NB at ${remote} within ${timeoutMs / 1000} s: ${why}; check ` +
        "external_ids:ovn-nb (ovn-k8s setup-host --ovn-nb) and that the central databases " +
        "run and are reachable, or raise --nb-timeout",
      { cause: err },
    );
  }
}

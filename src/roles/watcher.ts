/**
 * `ovn-k8s watcher` (also `ovn-k8s-watcher --overlay`, the original's name): the
 * composition root of the controllers. Resolves NB (`--nb`, else the local
 * `external_ids:ovn-nb`: tcp, ssl or unix, or a cluster member list; the original only
 * took the local unix socket) and the Kubernetes API (flags, else the original's
 * `external_ids:k8s-api-server`/`k8s-api-token`/`k8s-ca-certificate`, else in-cluster,
 * else kubeconfig), serves `/metrics`, takes part in the Lease election, and runs the
 * parts of `src/controllers/parts.ts` until SIGTERM.
 *
 * The original's daemon flags (reference §3.5) are accepted so its unit files keep
 * working: `--pidfile[=FILE]` writes a pidfile (removed on exit); `--log-file[=FILE]`
 * appends the log there too; `--detach`, `--monitor`, `--no-chdir`,
 * `--overwrite-pidfile`, `-v...`/`--verbose[=...]` are accepted and ignored (we stay in
 * the foreground for systemd; set `OVN_K8S_LOG_LEVEL` for the level). `--underlay` and
 * `--openstack` exit 2 "not implemented", as in the original; `--overlay` is the
 * default (the original demanded one of the three).
 *
 * Metrics: `/metrics` (Prometheus text) and `/healthz` on `--metrics-address`, default
 * `127.0.0.1:9476` (loopback only; `off` disables it; a taken port is logged and the
 * watcher runs without). Per-pod latencies (first seen -> port committed, -> annotated,
 * -> `Logical_Switch_Port.up`), queue depth, NB transaction counts and durations, memory.
 *
 * High availability: by default every watcher takes part in the election on the Lease
 * `kube-system/ovn-k8s-watcher` (`--lease-duration`, default 15 s); only the holder
 * works, a standby keeps its caches warm and takes over within the lease duration. A
 * leader that loses the Lease exits 1 (its supervisor restarts it as a standby).
 *
 * Memory: the watcher loads no npm package (its static module graph is checked by
 * `src/controllers/module_graph_test.ts`). What remains of its peak RSS in a burst is
 * V8's young generation, whose maximum is fixed before the process runs any code:
 * `--max-semi-space-size=8` brings a 10,000-pod burst from ~200 to ~150 MiB
 * (BENCHMARKS.md, watcher_pods). `deno run` takes it from `DENO_V8_FLAGS`; a compiled
 * binary needs it among the flags baked in at compile time (`scripts/permissions.ts`),
 * as compiled binaries do not read `DENO_V8_FLAGS` (denoland/deno#19808).
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import {
  DEFAULT_METRICS_ADDRESS,
  httpEventRecorder,
  httpLeaseApi,
  LeaderElector,
  MetricsRegistry,
  type MetricsServer,
  NbWriter,
  runWatcher,
  serveMetrics,
} from "../controllers/mod.ts";
import { watcherParts } from "../controllers/parts.ts";
import { resolveConnection } from "../k8s/connection.ts";
import { KubeHttp } from "../k8s/http.ts";
import { NB_DATABASE, type NbTables } from "../ovn/nb_models.ts";
import { HOST_KEYS } from "../ovs/mod.ts";
import { OvsdbClient, parseRemotes, type TlsOptions } from "../ovsdb/mod.ts";
import { parseIntFlag } from "./_init_cli.ts";
import {
  connectOvsdb,
  DEFAULT_DB_TIMEOUT_S,
  DEFAULT_NB_SSL,
  readOvsState,
  resolveOvsDb,
} from "./_local_ovs.ts";
import type { RoleContext } from "./context.ts";

const OPTIONS = {
  overlay: { type: "boolean", help: "overlay mode (the default; the original's flag)" },
  underlay: { type: "boolean", help: "not implemented (as in the original)" },
  openstack: { type: "boolean", help: "not implemented (as in the original)" },
  nb: {
    type: "string",
    arg: "REMOTE",
    help: "OVN NB: tcp:H:P, ssl:H:P, unix:PATH or a comma-separated member list " +
      "(default: external_ids:ovn-nb of the local OVSDB)",
  },
  "nb-privkey": { type: "string", arg: "FILE", help: `NB SSL key (${DEFAULT_NB_SSL.privkey})` },
  "nb-cert": { type: "string", arg: "FILE", help: `NB SSL certificate (${DEFAULT_NB_SSL.cert})` },
  "nb-cacert": { type: "string", arg: "FILE", help: `NB SSL CA (${DEFAULT_NB_SSL.cacert})` },
  "ovs-db": { type: "string", arg: "REMOTE", help: "local OVSDB (default $OVS_RUNDIR/db.sock)" },
  kubeconfig: { type: "string", arg: "PATH", help: "kubeconfig file" },
  "k8s-api-server": { type: "string", arg: "URL", help: "API server (or host:port = http)" },
  "k8s-token": { type: "string", arg: "TOKEN", help: "bearer token" },
  "k8s-cacert": { type: "string", arg: "PATH", help: "API server CA" },
  "insecure-skip-tls-verify": { type: "boolean", help: "do not verify the API server" },
  "metrics-address": {
    type: "string",
    arg: "HOST:PORT",
    help: `serve /metrics here (default ${DEFAULT_METRICS_ADDRESS}; "off" disables)`,
  },
  "no-leader-election": { type: "boolean", help: "work at once, without the Lease" },
  "lease-namespace": { type: "string", arg: "NS", help: "Lease namespace (kube-system)" },
  "lease-name": { type: "string", arg: "NAME", help: "Lease name (ovn-k8s-watcher)" },
  "lease-duration": { type: "string", arg: "SECONDS", help: "Lease duration (default 15)" },
  identity: { type: "string", arg: "ID", help: "this candidate's name (hostname_pid)" },
  "batch-size": { type: "string", arg: "N", help: "keys per NB transaction (default 500)" },
  "annotate-concurrency": {
    type: "string",
    arg: "N",
    help: "concurrent pod annotation patches (default 32)",
  },
  timeout: {
    type: "string",
    arg: "SECONDS",
    help: `connect timeout for OVS and NB (default ${DEFAULT_DB_TIMEOUT_S})`,
  },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s watcher [--overlay] [--nb REMOTE] [options]",
  "Program pods (and services) into OVN NB and annotate pods; also ovn-k8s-watcher --overlay.\n" +
    "Accepted and ignored as in the original's unit files: --detach --monitor --no-chdir " +
    "--overwrite-pidfile -v... --verbose[=...]; --pidfile[=FILE] and --log-file[=FILE] work.",
  OPTIONS,
);

/** The original's daemon flags, taken out before strict parsing. */
export interface DaemonFlags {
  /** `--pidfile[=FILE]`: the file, or `true` for the default path. */
  pidfile?: string | true;
  /** `--log-file[=FILE]`. */
  logFile?: string | true;
  /** Flags accepted and ignored. */
  ignored: string[];
}

/**
 * Splits the OVS daemon flags (`--pidfile[=F]`, `--log-file[=F]`, `--detach`, `-v...`)
 * from the rest. Pure.
 *
 * @param args the arguments
 * @returns the daemon flags and the remaining arguments
 */
export function splitDaemonFlags(args: string[]): { daemon: DaemonFlags; rest: string[] } {
  const daemon: DaemonFlags = { ignored: [] };
  const rest: string[] = [];
  for (const a of args) {
    const m = /^--(pidfile|log-file)(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[2] ? m[2] : true;
      if (m[1] === "pidfile") daemon.pidfile = v;
      else daemon.logFile = v;
    } else if (
      /^--(detach|monitor|no-chdir|overwrite-pidfile)$/.test(a) || /^-v/.test(a) ||
      /^--verbose(=.*)?$/.test(a)
    ) {
      daemon.ignored.push(a);
    } else rest.push(a);
  }
  return { daemon, rest };
}

async function writePidfile(path: string): Promise<void> {
  const tmp = `${path}.tmp${Deno.pid}`;
  await Deno.writeTextFile(tmp, `${Deno.pid}\n`);
  await Deno.rename(tmp, path);
}

function rundir(ctx: RoleContext): string {
  return (ctx.env("OVN_RUNDIR") ?? ctx.env("OVS_RUNDIR") ?? "/var/run/openvswitch").replace(
    /\/+$/,
    "",
  );
}

async function readFileFlag(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new ValidationError(
      `Cannot read ${flag} "${path}" for the ssl: NB remote: ${(err as Error).message}; ` +
        `pass ${flag} with the right file`,
    );
  }
}

/**
 * Runs the watcher.
 *
 * @param args arguments after the subcommand
 * @param ctx role context (its signal stops the watcher)
 * @returns exit code (0 after SIGTERM; 1 when leadership is lost or a fatal error)
 */
export async function runWatcherRole(args: string[], ctx: RoleContext): Promise<number> {
  const { daemon, rest } = splitDaemonFlags(args);
  const p = parseCommand(rest, OPTIONS, USAGE);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  for (const mode of ["underlay", "openstack"]) {
    if (p.flag(mode)) {
      throw new ValidationError(
        `Cannot run the watcher with --${mode}: not implemented (only --overlay, as in the original)`,
      );
    }
  }
  let log: Logger = ctx.log;
  if (daemon.logFile) {
    const file = daemon.logFile === true
      ? "/var/log/openvswitch/ovn-k8s-watcher.log"
      : daemon.logFile;
    const fileLog = createLogger("watcher", {
      sink: (line) => {
        try {
          Deno.writeTextFileSync(file, line + "\n", { append: true });
        } catch { /* unwritable log file: stderr still has it */ }
      },
    });
    const both = (a: Logger, b: Logger): Logger => ({
      debug: (m, f) => (a.debug(m, f), b.debug(m, f)),
      info: (m, f) => (a.info(m, f), b.info(m, f)),
      warn: (m, f) => (a.warn(m, f), b.warn(m, f)),
      error: (m, f) => (a.error(m, f), b.error(m, f)),
      child: (s) => both(a.child(s), b.child(s)),
    });
    log = both(ctx.log, fileLog);
  }
  if (daemon.ignored.length) {
    log.info("daemon flags accepted and ignored (running in the foreground)", {
      flags: daemon.ignored.join(" "),
    });
  }
  const timeoutS = p.string("timeout")
    ? parseIntFlag("--timeout", p.string("timeout")!, 1, 3600)
    : DEFAULT_DB_TIMEOUT_S;
  const batchSize = p.string("batch-size")
    ? parseIntFlag("--batch-size", p.string("batch-size")!, 1, 100_000)
    : undefined;
  const annotateConcurrency = p.string("annotate-concurrency")
    ? parseIntFlag("--annotate-concurrency", p.string("annotate-concurrency")!, 1, 1000)
    : undefined;
  const leaseS = p.string("lease-duration")
    ? parseIntFlag("--lease-duration", p.string("lease-duration")!, 3, 3600)
    : 15;
  const metricsAddress = p.string("metrics-address") ?? DEFAULT_METRICS_ADDRESS;

  // Local OVS: only when a setting must come from it (no --nb, or no API server flags).
  let ovsIds: Record<string, string> | undefined;
  const readOvsIds = async (): Promise<Record<string, string> | undefined> => {
    if (ovsIds) return ovsIds;
    const remote = resolveOvsDb(p.string("ovs-db"), ctx.env);
    try {
      const db = await connectOvsdb({
        remotes: remote,
        database: "Open_vSwitch",
        timeoutMs: timeoutS * 1000,
      });
      try {
        ovsIds = (await readOvsState(db)).root?.external_ids ?? {};
      } finally {
        db.close();
      }
    } catch (err) {
      log.debug("no local Open_vSwitch database", { remote, error: (err as Error).message });
      return undefined;
    }
    return ovsIds;
  };

  let nbRemote = p.string("nb");
  if (!nbRemote) {
    nbRemote = (await readOvsIds())?.[HOST_KEYS.ovnNb];
    if (!nbRemote) {
      throw new ValidationError(
        `Cannot find OVN NB: pass --nb (e.g. tcp:CENTRAL_IP:6641) or set external_ids:` +
          `${HOST_KEYS.ovnNb} in the local Open_vSwitch database (ovn-k8s setup-host --ovn-nb)`,
      );
    }
  }
  let remotes;
  try {
    remotes = parseRemotes(nbRemote);
  } catch (err) {
    throw new ValidationError(`Cannot use NB remote "${nbRemote}": ${(err as Error).message}`);
  }
  let tls: TlsOptions | undefined;
  if (remotes.some((r) => r.kind === "ssl")) {
    tls = {
      key: await readFileFlag(p.string("nb-privkey") ?? DEFAULT_NB_SSL.privkey, "--nb-privkey"),
      cert: await readFileFlag(p.string("nb-cert") ?? DEFAULT_NB_SSL.cert, "--nb-cert"),
      caCert: await readFileFlag(p.string("nb-cacert") ?? DEFAULT_NB_SSL.cacert, "--nb-cacert"),
    };
  }

  const apiFlags = {
    ...(p.string("kubeconfig") ? { kubeconfig: p.string("kubeconfig")! } : {}),
    ...(p.string("k8s-api-server") ? { apiServer: p.string("k8s-api-server")! } : {}),
    ...(p.string("k8s-token") ? { token: p.string("k8s-token")! } : {}),
    ...(p.string("k8s-cacert") ? { caCert: p.string("k8s-cacert")! } : {}),
    ...(p.flag("insecure-skip-tls-verify") ? { insecureSkipTlsVerify: true } : {}),
  };
  let conn;
  try {
    conn = await resolveConnection({
      flags: apiFlags,
      ovsExternalIds: () => readOvsIds(),
      env: ctx.env,
      log,
    });
  } catch (err) {
    throw new ValidationError(
      `Cannot find the Kubernetes API server: ${(err as Error).message}`,
      { cause: err },
    );
  }

  let pidfile: string | undefined;
  if (daemon.pidfile) {
    pidfile = daemon.pidfile === true ? `${rundir(ctx)}/ovn-k8s-watcher.pid` : daemon.pidfile;
    await writePidfile(pidfile);
  }

  const metrics = new MetricsRegistry();
  metrics.gauge("process_resident_memory_bytes", "Resident memory of the watcher process")
    .collect(() => [[undefined, Deno.memoryUsage().rss]]);
  metrics.gauge("ovnk8s_js_heap_used_bytes", "JavaScript heap in use")
    .collect(() => [[undefined, Deno.memoryUsage().heapUsed]]);
  metrics.gauge("ovnk8s_js_heap_total_bytes", "JavaScript heap reserved (used and free)")
    .collect(() => [[undefined, Deno.memoryUsage().heapTotal]]);
  metrics.gauge("ovnk8s_js_external_bytes", "Memory of JavaScript objects held outside the heap")
    .collect(() => [[undefined, Deno.memoryUsage().external]]);
  let metricsServer: MetricsServer | undefined;
  let nb: OvsdbClient<NbTables> | undefined;
  const http = new KubeHttp(conn);
  try {
    if (metricsAddress !== "off") {
      try {
        metricsServer = serveMetrics(metrics, metricsAddress, log);
      } catch (err) {
        if (err instanceof RangeError) throw new ValidationError(err.message);
        log.warn("cannot serve /metrics; running without", {
          address: metricsAddress,
          error: (err as Error).message,
        });
      }
    }
    try {
      nb = await OvsdbClient.connect<NbTables>({
        remotes: nbRemote,
        database: NB_DATABASE,
        timeoutMs: timeoutS * 1000,
        requestTimeoutMs: 60_000,
        logger: log.child("nb"),
        signal: ctx.signal,
        ...(tls ? { tls } : {}),
      });
    } catch (err) {
      if (ctx.signal.aborted) return 0;
      throw new ValidationError(
        `Cannot connect to OVN NB at ${nbRemote} within ${timeoutS} s: ${
          (err as Error).message
        }; ` +
          "check --nb / external_ids:ovn-nb and that the central databases run",
        { cause: err },
      );
    }
    const writer = new NbWriter(nb, metrics);
    const elector = p.flag("no-leader-election") ? undefined : new LeaderElector(
      httpLeaseApi(http),
      {
        identity: p.string("identity") ?? `${Deno.hostname()}_${Deno.pid}`,
        ...(p.string("lease-namespace") ? { namespace: p.string("lease-namespace")! } : {}),
        ...(p.string("lease-name") ? { name: p.string("lease-name")! } : {}),
        leaseDurationMs: leaseS * 1000,
        renewDeadlineMs: Math.round(leaseS * 1000 * 2 / 3),
        retryPeriodMs: Math.max(500, Math.round(leaseS * 1000 / 7.5)),
        log: log.child("lease"),
      },
    );
    log.info("watcher starting", {
      nb: nbRemote,
      api: conn.server,
      apiFrom: conn.source,
      leaderElection: elector ? "on" : "off",
    });
    try {
      await runWatcher({
        nb,
        writer,
        http,
        events: httpEventRecorder(http, "ovn-k8s-watcher", log.child("events")),
        metrics,
        parts: watcherParts({
          ...(batchSize ? { batchSize } : {}),
          ...(annotateConcurrency ? { annotateConcurrency } : {}),
        }),
        ...(elector ? { elector } : {}),
        log,
        onReady: () => log.info("watcher working"),
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) return 0;
      log.error("watcher stopped", { error: (err as Error).message });
      return 1;
    }
    return 0;
  } finally {
    nb?.close();
    http.close();
    await metricsServer?.close();
    if (pidfile) await Deno.remove(pidfile).catch(() => {});
  }
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runWatcherRole(args, ctx);
}

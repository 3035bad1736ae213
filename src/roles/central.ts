/**
 * `ovn-k8s central`: starts (or adopts, when already running) the OVN NB and SB databases
 * and ovn-northd, opens them to the cluster (ptcp, or pssl with key/cert/CA), optionally
 * as one member of a RAFT cluster, and prints the client remote lists with every member.
 *
 * Default is the foreground mode a systemd unit runs: supervise and restart the daemons
 * until SIGTERM, then stop them. `--one-shot` starts or adopts and exits. `--stop` stops
 * them. Every input is checked before anything starts: bad input exits 2 with a message
 * naming the input and the fix.
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import { HostNet } from "../host/mod.ts";
import { isIpv4 } from "../net/mod.ts";
import {
  Central,
  type CentralConfig,
  DEFAULT_PORTS,
  DISTRO_DIRS,
  livePid,
  systemProcesses,
} from "../daemons/mod.ts";
import type { RoleContext } from "./context.ts";

const OPTIONS = {
  "listen-address": {
    type: "string",
    arg: "ADDR",
    help: "address the NB/SB remotes listen on (default 0.0.0.0; :: for IPv6)",
  },
  "nb-port": { type: "string", arg: "PORT", help: "NB client port (default 6641)" },
  "sb-port": { type: "string", arg: "PORT", help: "SB client port (default 6642)" },
  "ssl-key": { type: "string", arg: "FILE", help: "private key (PEM): listen with pssl" },
  "ssl-cert": { type: "string", arg: "FILE", help: "certificate of the key (PEM)" },
  "ssl-ca": { type: "string", arg: "FILE", help: "CA certificate that signs the clients (PEM)" },
  "data-dir": {
    type: "string",
    arg: "DIR",
    help: `database files (default ${DISTRO_DIRS.dataDir})`,
  },
  "run-dir": {
    type: "string",
    arg: "DIR",
    help: `sockets, pidfiles (default ${DISTRO_DIRS.runDir})`,
  },
  "log-dir": { type: "string", arg: "DIR", help: `log files (default ${DISTRO_DIRS.logDir})` },
  "cluster-local-addr": {
    type: "string",
    arg: "IP",
    help: "RAFT: this member's address (turns clustering on)",
  },
  "cluster-remote-addr": {
    type: "string",
    arg: "IP",
    multiple: true,
    help: "RAFT: a member to join through (repeatable; none: create the cluster)",
  },
  "nb-cluster-port": { type: "string", arg: "PORT", help: "RAFT port of NB (default 6643)" },
  "sb-cluster-port": { type: "string", arg: "PORT", help: "RAFT port of SB (default 6644)" },
  "no-northd": { type: "boolean", help: "run the databases only" },
  "one-shot": { type: "boolean", help: "start or adopt, print the remotes, exit" },
  stop: { type: "boolean", help: "stop the daemons under these directories and exit" },
  timeout: { type: "string", arg: "SECONDS", help: "deadline of each step (default 30)" },
  json: { type: "boolean", help: "print the result as JSON" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s central [options]",
  "Start or adopt the OVN NB/SB databases and ovn-northd; supervise them until SIGTERM.",
  OPTIONS,
);

/** What the command line asks for. */
export interface CentralRequest {
  config: CentralConfig;
  mode: "foreground" | "one-shot" | "stop";
  timeoutMs: number;
  json: boolean;
}

/**
 * Parses and checks the command line (no I/O).
 *
 * @param args arguments after `central`
 * @returns the request
 * @throws {UsageError} on unknown flags; {ValidationError} on bad values
 */
export function parseCentralArgs(args: string[]): CentralRequest {
  const o = parseCommand(args, OPTIONS, USAGE);
  const listen = o.string("listen-address") ?? "0.0.0.0";
  checkIp(listen, "--listen-address", "an address of this host, 0.0.0.0 or ::");
  const port = (name: string, def: number) => {
    const v = o.string(name);
    if (v === undefined) return def;
    if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
      throw new ValidationError(`Cannot use --${name} "${v}": give a TCP port 1-65535`);
    }
    return Number(v);
  };
  const nbPort = port("nb-port", DEFAULT_PORTS.nb);
  const sbPort = port("sb-port", DEFAULT_PORTS.sb);
  const nbRaft = port("nb-cluster-port", DEFAULT_PORTS.nbRaft);
  const sbRaft = port("sb-cluster-port", DEFAULT_PORTS.sbRaft);
  const ssl = [o.string("ssl-key"), o.string("ssl-cert"), o.string("ssl-ca")];
  const given = ssl.filter((x) => x !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new ValidationError(
      "Cannot use SSL with only some of --ssl-key, --ssl-cert, --ssl-ca: give all three " +
        "(PEM files), or none for plain TCP",
    );
  }
  const local = o.string("cluster-local-addr");
  const remotes = o.strings("cluster-remote-addr");
  if (local === undefined && remotes.length) {
    throw new ValidationError(
      "Cannot use --cluster-remote-addr without --cluster-local-addr: give this member's " +
        "address too",
    );
  }
  if (local !== undefined) {
    checkIp(local, "--cluster-local-addr", "this member's own address (not 0.0.0.0)");
    if (local === "0.0.0.0" || local === "::") {
      throw new ValidationError(
        `Cannot use --cluster-local-addr "${local}": give this member's own address, ` +
          "which the other members connect to",
      );
    }
    for (const r of remotes) checkIp(r, "--cluster-remote-addr", "another member's address");
  }
  const ports = local !== undefined ? [nbPort, sbPort, nbRaft, sbRaft] : [nbPort, sbPort];
  if (new Set(ports).size !== ports.length) {
    throw new ValidationError(
      `Cannot use the same port twice (${ports.join(", ")}): give each of --nb-port, --sb-port` +
        (local !== undefined ? ", --nb-cluster-port, --sb-cluster-port" : "") + " its own",
    );
  }
  const dir = (name: string, def: string) => {
    const v = o.string(name) ?? def;
    if (v === "") throw new ValidationError(`Cannot use an empty --${name}: give a directory`);
    return v.startsWith("/") ? v : `${Deno.cwd()}/${v}`;
  };
  const timeout = o.string("timeout") ?? "30";
  if (!/^[0-9]+(\.[0-9]+)?$/.test(timeout) || Number(timeout) <= 0) {
    throw new ValidationError(`Cannot use --timeout "${timeout}": give a number of seconds > 0`);
  }
  const modes = ["one-shot", "stop"].filter((m) => o.flag(m));
  if (modes.length > 1) throw new ValidationError("Cannot use --one-shot with --stop: pick one");
  const config: CentralConfig = {
    dataDir: dir("data-dir", DISTRO_DIRS.dataDir),
    runDir: dir("run-dir", DISTRO_DIRS.runDir),
    logDir: dir("log-dir", DISTRO_DIRS.logDir),
    listenAddress: listen,
    nbPort,
    sbPort,
    northd: !o.flag("no-northd"),
    ...(given === 3 ? { ssl: { key: ssl[0]!, cert: ssl[1]!, ca: ssl[2]! } } : {}),
    ...(local !== undefined
      ? { raft: { localAddr: local, remoteAddrs: remotes, nbPort: nbRaft, sbPort: sbRaft } }
      : {}),
  };
  return {
    config,
    mode: (modes[0] as "one-shot" | "stop" | undefined) ?? "foreground",
    timeoutMs: Number(timeout) * 1000,
    json: o.flag("json"),
  };
}

/**
 * Checks what the command line names on this host before anything starts: SSL files
 * readable PEM, addresses assigned here, ports free (unless adopting).
 *
 * @param req the parsed request
 * @param deps runner (for `ip addr`) and whether the databases already run (adoption)
 * @throws {ValidationError} naming the input and the fix
 */
export async function checkCentralHost(
  req: CentralRequest,
  deps: { runner: Runner; running: boolean },
): Promise<void> {
  const c = req.config;
  if (c.ssl) {
    for (
      const [flag, path] of [["--ssl-key", c.ssl.key], ["--ssl-cert", c.ssl.cert], [
        "--ssl-ca",
        c.ssl.ca,
      ]] as const
    ) {
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (err) {
        const why = err instanceof Deno.errors.NotFound ? "no such file" : String(err);
        throw new ValidationError(
          `Cannot read ${flag} "${path}": ${why}; give the PEM file (ovs-pki makes them)`,
        );
      }
      if (!text.includes("-----BEGIN ")) {
        throw new ValidationError(
          `Cannot use ${flag} "${path}": not a PEM file (no "-----BEGIN"); give the PEM file`,
        );
      }
    }
  }
  const onHost = async (ip: string, flag: string) => {
    if (ip === "0.0.0.0" || ip === "::" || canBind(ip)) return;
    const host = new HostNet(deps.runner);
    const mine = [...await host.addresses(4), ...await host.addresses(6)].map((a) =>
      a.cidr.split("/")[0]!
    );
    throw new ValidationError(
      `Cannot listen on ${flag} "${ip}": it is not an address of this host; give one of ` +
        `${["0.0.0.0", ...mine].join(", ")}`,
    );
  };
  await onHost(c.listenAddress, "--listen-address");
  if (c.raft) await onHost(c.raft.localAddr, "--cluster-local-addr");
  if (deps.running) return;
  const busy = (addr: string, port: number, flag: string) => {
    try {
      const l = Deno.listen({ hostname: addr, port, transport: "tcp" });
      l.close();
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) {
        throw new ValidationError(
          `Cannot listen on ${addr} port ${port}: another program uses it; stop it or choose ${flag}`,
        );
      }
      throw err;
    }
  };
  busy(c.listenAddress, c.nbPort, "--nb-port");
  busy(c.listenAddress, c.sbPort, "--sb-port");
  if (c.raft) {
    busy(c.raft.localAddr, c.raft.nbPort, "--nb-cluster-port");
    busy(c.raft.localAddr, c.raft.sbPort, "--sb-cluster-port");
  }
}

/**
 * Runs `ovn-k8s central`.
 *
 * @param args command-line arguments
 * @param ctx role context
 * @param deps injected runner (tests)
 * @returns exit code
 */
export async function main(
  args: string[],
  ctx: RoleContext,
  deps: { runner?: Runner } = {},
): Promise<number> {
  const req = parseCentralArgs(args);
  const runner = deps.runner ?? new ProcessRunner();
  const log = ctx.log;
  const central = new Central(req.config, {
    runner,
    log,
    hostAddresses: async () =>
      (await new HostNet(runner).addresses(4)).map((a) => a.cidr.split("/")[0]!).filter((a) =>
        !a.startsWith("127.")
      ),
  });
  if (req.mode === "stop") {
    await central.stop({ timeoutMs: req.timeoutMs });
    ctx.stdout(req.json ? JSON.stringify({ stopped: true }) : "central: stopped");
    return 0;
  }
  const procs = systemProcesses(runner);
  const running = (await livePid(procs, central.paths.nb.pidfile)) !== undefined ||
    (await livePid(procs, central.paths.sb.pidfile)) !== undefined;
  await checkCentralHost(req, { runner, running });
  const done = await central.ensure({ timeoutMs: req.timeoutMs, signal: ctx.signal });
  const { nbRemote, sbRemote } = await central.remotes();
  if (req.json) {
    ctx.stdout(JSON.stringify({ ...done, nbRemote, sbRemote }));
  } else {
    ctx.stdout(
      [
        `central: nb ${done.nb}, sb ${done.sb}, northd ${done.northd}`,
        `ovn-nb=${nbRemote}`,
        `ovn-remote=${sbRemote}`,
      ].join("\n"),
    );
  }
  if (req.mode === "one-shot") return 0;
  log.info("supervising; SIGTERM stops", { daemons: central.daemons.map((d) => d.name).join(",") });
  await central.supervise({ signal: ctx.signal });
  return 0;
}

function canBind(ip: string): boolean {
  try {
    Deno.listen({ hostname: ip, port: 0, transport: "tcp" }).close();
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AddrNotAvailable) return false;
    throw err;
  }
}

function checkIp(value: string, flag: string, fix: string): void {
  if (isIpv4(value) || isIpv6(value)) return;
  throw new ValidationError(`Cannot use ${flag} "${value}": not an IP address; give ${fix}`);
}

function isIpv6(value: string): boolean {
  if (!value.includes(":") || !/^[0-9a-fA-F:.]+$/.test(value)) return false;
  try {
    new URL(`http://[${value}]/`);
    return true;
  } catch {
    return false;
  }
}

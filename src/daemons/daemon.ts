/**
 * One OVS/OVN daemon with explicit paths: start it detached, adopt it when it already
 * runs under its pidfile, check its health over its unixctl socket, stop it by pid.
 *
 * Design note: every daemon is started with `--detach`, so it outlives the process that
 * started it (the one-shot `central`, `sandbox up`) and a later process adopts it by its
 * pidfile. Supervision is polling the pid, not waiting on a child.
 *
 * @module
 */
import type { Runner, RunOptions } from "../exec/mod.ts";
import type { Logger } from "../log/mod.ts";
import { livePid, type Processes } from "./process.ts";
import { pollUntil, sleep } from "./wait.ts";

/** Everything needed to run one daemon. */
export interface DaemonSpec {
  /** Short name for logs and errors ("nb", "sb", "northd", "ovs-vswitchd", ...). */
  name: string;
  /** Program and arguments; must include `--detach` and `--pidfile=PIDFILE`. */
  argv: string[];
  /** The pidfile named in `argv`. */
  pidfile: string;
  /** Its unixctl socket, or how to find it from the pid (ovn-controller has no --unixctl). */
  ctl: string | ((pid: number) => string);
  /** `ovs-appctl` or `ovn-appctl`. */
  appctl: "ovs-appctl" | "ovn-appctl";
  /** Network namespace to start it in. */
  netns?: string;
  /** Extra environment (OVS_RUNDIR, OVN_RUNDIR, ...). */
  env?: Record<string, string>;
  /** Runs before each start (creates the database file when missing). */
  prepare?: () => Promise<void>;
  /** The unixctl command that proves it is serving, and a check of its output. */
  health: { command: string[]; ok?: (out: string) => boolean };
}

/** Injected boundaries of a {@linkcode Daemon}. */
export interface DaemonDeps {
  runner: Runner;
  procs: Processes;
  log: Logger;
}

/** What {@linkcode Daemon.ensure} did. */
export type EnsureResult = "started" | "adopted";

/** Default deadline for a daemon to start, answer or stop. */
export const DAEMON_TIMEOUT_MS = 20_000;

/** A daemon described by a {@linkcode DaemonSpec}. */
export class Daemon {
  /**
   * @param spec paths and argv
   * @param deps runner, process table, logger
   */
  constructor(readonly spec: DaemonSpec, readonly deps: DaemonDeps) {}

  /** The daemon's name. */
  get name(): string {
    return this.spec.name;
  }

  /** The live pid under the pidfile, or `undefined`. */
  pid(): Promise<number | undefined> {
    return livePid(this.deps.procs, this.spec.pidfile);
  }

  /**
   * The unixctl socket path of the running daemon.
   *
   * @param pid its pid (needed when the path depends on it)
   * @returns the socket path
   */
  ctlPath(pid: number): string {
    return typeof this.spec.ctl === "string" ? this.spec.ctl : this.spec.ctl(pid);
  }

  /**
   * Runs a unixctl command against the running daemon.
   *
   * @param args command and arguments (`["cluster/status", "OVN_Northbound"]`)
   * @param opts timeout (default 5 s)
   * @returns the command's stdout
   * @throws {Error} when the daemon is not running, or the command fails
   */
  async appctl(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    const pid = await this.pid();
    if (pid === undefined) throw new Error(`Cannot query ${this.name}: it is not running`);
    const secs = Math.max(1, Math.ceil((opts.timeoutMs ?? 5000) / 1000));
    const { stdout } = await this.deps.runner.run(
      [this.spec.appctl, `--timeout=${secs}`, "-t", this.ctlPath(pid), ...args],
      { timeoutMs: secs * 1000 + 2000, ...(this.spec.env ? { env: this.spec.env } : {}) },
    );
    return stdout;
  }

  /** Whether it runs and its health command answers as expected. */
  async healthy(): Promise<boolean> {
    try {
      const out = await this.appctl(this.spec.health.command, { timeoutMs: 3000 });
      return this.spec.health.ok ? this.spec.health.ok(out) : true;
    } catch {
      return false;
    }
  }

  /**
   * Waits until healthy.
   *
   * @param opts deadline and abort signal
   * @throws {Error} on timeout, naming the daemon and its health command
   */
  async waitHealthy(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    await pollUntil(
      `${this.name} to answer "${
        this.spec.health.command.join(" ")
      }" (pidfile ${this.spec.pidfile})`,
      () => this.healthy(),
      {
        timeoutMs: opts.timeoutMs ?? DAEMON_TIMEOUT_MS,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
  }

  /**
   * Starts the daemon (detached) and waits until it is healthy.
   *
   * @param opts deadline and abort signal
   * @returns its pid
   * @throws {CommandError} when the program fails to start; {Error} on timeout
   */
  async start(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    const timeoutMs = opts.timeoutMs ?? DAEMON_TIMEOUT_MS;
    await this.spec.prepare?.();
    const argv = this.spec.netns === undefined
      ? this.spec.argv
      : ["ip", "netns", "exec", this.spec.netns, ...this.spec.argv];
    const runOpts: RunOptions = { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
    if (this.spec.env) runOpts.env = this.spec.env;
    this.deps.log.debug("starting", { daemon: this.name, argv: argv.join(" ") });
    await this.deps.runner.run(argv, runOpts);
    await this.waitHealthy({ timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    const pid = await this.pid();
    if (pid === undefined) {
      throw new Error(`Cannot start ${this.name}: it exited right after start`);
    }
    this.deps.log.info("started", { daemon: this.name, pid });
    return pid;
  }

  /**
   * Adopts the daemon when it already runs under its pidfile, else starts it.
   *
   * @param opts deadline and abort signal
   * @returns whether it was started or adopted
   */
  async ensure(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<EnsureResult> {
    const pid = await this.pid();
    if (pid !== undefined) {
      await this.waitHealthy(opts);
      this.deps.log.info("adopted", { daemon: this.name, pid });
      return "adopted";
    }
    await this.start(opts);
    return "started";
  }

  /**
   * Stops the daemon: SIGTERM, then SIGKILL after the deadline. Succeeds when not running.
   *
   * @param opts deadline before SIGKILL (default 10 s)
   * @returns whether a process was stopped
   */
  async stop(opts: { timeoutMs?: number } = {}): Promise<boolean> {
    const pid = await this.pid();
    if (pid === undefined) return false;
    const { procs } = this.deps;
    procs.kill(pid, "SIGTERM");
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    while (await procs.alive(pid)) {
      if (Date.now() > deadline) {
        this.deps.log.warn("did not exit on SIGTERM, sending SIGKILL", { daemon: this.name, pid });
        procs.kill(pid, "SIGKILL");
        await pollUntil(
          `${this.name} (pid ${pid}) to exit after SIGKILL`,
          async () => !(await procs.alive(pid)),
          { timeoutMs: 5000 },
        );
        break;
      }
      await sleep(50);
    }
    this.deps.log.info("stopped", { daemon: this.name, pid });
    return true;
  }
}

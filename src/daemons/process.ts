/**
 * The process table as an injected boundary: pidfiles, liveness and signals. A daemon
 * that OVS started with `--detach` is re-parented to PID 1, which may reap it late, so a
 * zombie counts as dead. A pid is only taken as "ours" when its command line names the
 * pidfile we gave it, so a recycled pid is never adopted or killed.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";

/** Reads and signals processes. Tests substitute a fake. */
export interface Processes {
  /** Whether the pid names a live (not zombie) process. */
  alive(pid: number): Promise<boolean>;
  /** The process's argv, or `undefined` when it does not exist. */
  cmdline(pid: number): Promise<string[] | undefined>;
  /** Sends a signal; succeeds when the process is gone. */
  kill(pid: number, signal: Deno.Signal): void;
  /** Reads a text file, or `undefined` when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
}

/**
 * The real process table, read from /proc through the runner (`cat`): a Deno program
 * without `--allow-all` may not open /proc/PID files itself. Signals need `--allow-run`.
 *
 * @param runner command runner
 * @returns the process table
 */
export function systemProcesses(runner: Runner): Processes {
  const procText = async (pid: number, file: string) => {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const r = await runner.run(["cat", `/proc/${pid}/${file}`], { check: false, timeoutMs: 5000 });
    return r.code === 0 ? r.stdout : undefined;
  };
  return {
    async alive(pid) {
      const stat = await procText(pid, "stat");
      return stat !== undefined && isRunningStat(stat);
    },
    async cmdline(pid) {
      const raw = await procText(pid, "cmdline");
      return raw === undefined ? undefined : raw.split("\0").filter((a) => a !== "");
    },
    kill(pid, signal) {
      try {
        Deno.kill(pid, signal);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound) && !/ESRCH|No such process/.test(String(err))) {
          throw err;
        }
      }
    },
    readFile: readText,
  };
}

/**
 * Whether a /proc/PID/stat line describes a process that still runs (not a zombie).
 *
 * @param stat the line, `pid (comm) S ...`
 * @returns false for states Z and X
 */
export function isRunningStat(stat: string): boolean {
  const i = stat.lastIndexOf(")");
  const state = i < 0 ? "" : stat.slice(i + 2, i + 3);
  return state !== "" && state !== "Z" && state !== "X";
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Parses a pidfile's content.
 *
 * @param text file content
 * @returns the pid, or `undefined` when the text is not a positive integer
 */
export function parsePid(text: string | undefined): number | undefined {
  const t = text?.trim() ?? "";
  if (!/^[1-9][0-9]*$/.test(t)) return undefined;
  return Number(t);
}

/**
 * Reads the pid of a daemon that is still running under this pidfile: the pidfile names
 * a live process whose command line carries `--pidfile=PIDFILE`.
 *
 * @param procs process table
 * @param pidfile the pidfile path
 * @returns the live pid, or `undefined`
 */
export async function livePid(procs: Processes, pidfile: string): Promise<number | undefined> {
  const pid = parsePid(await procs.readFile(pidfile));
  if (pid === undefined || !(await procs.alive(pid))) return undefined;
  const argv = await procs.cmdline(pid);
  return argv?.includes(`--pidfile=${pidfile}`) ? pid : undefined;
}

/**
 * The process table as an injected boundary: pidfiles, liveness and signals. A daemon
 * that OVS started with `--detach` is re-parented to PID 1, which may reap it late, so a
 * zombie counts as dead. A pid is only taken as "ours" when its command line names the
 * pidfile we gave it, so a recycled pid is never adopted or killed.
 *
 * @module
 */

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
 * The real process table, read from /proc. Needs `--allow-read` and `--allow-run`
 * (signals).
 */
export const systemProcesses: Processes = {
  async alive(pid) {
    const stat = await readText(`/proc/${pid}/stat`);
    if (stat === undefined) return false;
    // "pid (comm) S ...": the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  },
  async cmdline(pid) {
    const raw = await readText(`/proc/${pid}/cmdline`);
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

/**
 * Helpers shared by the benchmarks: running a command, private ovsdb-server and
 * ovn-northd daemons in a temp directory (stopped by their pidfiles), and the statistics
 * they print.
 *
 * @module
 */

/** The OVN Northbound schema installed by the Debian packages. */
export const NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema";
/** The OVN Southbound schema installed by the Debian packages. */
export const SB_SCHEMA = "/usr/share/ovn/ovn-sb.ovsschema";

const dec = new TextDecoder();

/**
 * Runs a command to completion.
 *
 * @param argv program and arguments
 * @returns its stdout
 * @throws {Error} naming the command and its stderr when it exits non-zero
 */
export async function run(argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`${argv.join(" ")} failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/**
 * Sends SIGTERM to the process named by a pidfile; a missing file, an empty one or a
 * process already gone is not an error.
 *
 * @param path the pidfile
 */
export async function killPidfile(path: string): Promise<void> {
  const pid = Number((await Deno.readTextFile(path).catch(() => "0")).trim());
  try {
    if (pid > 0) Deno.kill(pid, "SIGTERM");
  } catch { /* gone */ }
}

/**
 * Creates `DIR/NAME.db` from a schema and serves it with a detached ovsdb-server on
 * `DIR/NAME.sock` (pidfile `DIR/NAME.pid`, unixctl `DIR/NAME.ctl`, log `DIR/NAME.log`).
 *
 * @param dir a private directory
 * @param name base name of the files
 * @param schema the .ovsschema file
 * @returns the socket path
 * @throws {Error} when ovsdb-tool or ovsdb-server fails
 */
export async function startOvsdbServer(dir: string, name: string, schema: string): Promise<string> {
  await run(["ovsdb-tool", "create", `${dir}/${name}.db`, schema]);
  await run([
    "ovsdb-server",
    "--detach",
    "--no-chdir",
    "-vconsole:off",
    `--pidfile=${dir}/${name}.pid`,
    `--log-file=${dir}/${name}.log`,
    `--unixctl=${dir}/${name}.ctl`,
    `--remote=punix:${dir}/${name}.sock`,
    `${dir}/${name}.db`,
  ]);
  return `${dir}/${name}.sock`;
}

/**
 * Starts a detached ovn-northd between `DIR/nb.sock` and `DIR/sb.sock` (pidfile
 * `DIR/northd.pid`).
 *
 * @param dir the directory of the NB and SB servers
 * @throws {Error} when ovn-northd fails to start
 */
export async function startNorthd(dir: string): Promise<void> {
  await run([
    "ovn-northd",
    "--detach",
    "--no-chdir",
    "-vconsole:off",
    `--pidfile=${dir}/northd.pid`,
    `--log-file=${dir}/northd.log`,
    `--unixctl=${dir}/northd.ctl`,
    `--ovnnb-db=unix:${dir}/nb.sock`,
    `--ovnsb-db=unix:${dir}/sb.sock`,
  ]);
}

/**
 * The middle value (the upper one of an even count).
 *
 * @param xs values, any order
 * @returns the median, 0 for none
 */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

/**
 * The value below which a fraction `p` of the sorted values lie (nearest rank).
 *
 * @param sorted values in ascending order
 * @param p fraction, 0 to 1
 * @returns the percentile, NaN for none
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/**
 * Test helper: run a command to completion and look at processes, for integration tests
 * that check the OS side (namespaces, links, daemons) directly.
 *
 * @module
 */

/** What a finished command printed. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

const dec = new TextDecoder();

/**
 * Runs a command to completion; a non-zero exit is returned, not thrown.
 *
 * @param argv program and arguments
 * @param timeoutMs deadline (default 30 s); the command is killed after it
 * @returns exit code and output (not trimmed)
 * @throws {Error} when the program cannot be started or the deadline passes
 */
export async function runCommand(argv: string[], timeoutMs = 30_000): Promise<CommandOutput> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Whether a process exists and is neither a zombie nor dead (from `/proc/PID/stat`).
 *
 * @param pid process id
 * @returns true while it runs
 */
export function pidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

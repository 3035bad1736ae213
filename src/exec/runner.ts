/**
 * The one boundary through which ovn-k8s starts other programs (`ip`, `ovs-ofctl`,
 * `nsenter`, daemons). Argv only, never a shell string. Tests substitute a fake.
 *
 * @module
 */

/** Thrown when a command exits non-zero (and `check` was not turned off). */
export class CommandError extends Error {
  override name = "CommandError";
  /**
   * @param argv the command line that failed
   * @param code its exit code
   * @param stderr what it printed on stderr, trimmed
   * @param stdout what it printed on stdout, trimmed
   */
  constructor(
    readonly argv: readonly string[],
    readonly code: number,
    readonly stderr: string,
    readonly stdout = "",
  ) {
    super(`Command failed (exit ${code}): ${argv.join(" ")}${stderr ? `: ${stderr}` : ""}`);
  }
}

/** Options for one command. */
export interface RunOptions {
  /** Text written to the command's stdin. */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Throw {@linkcode CommandError} on a non-zero exit (default true). */
  check?: boolean;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Aborts the command. */
  signal?: AbortSignal;
  /** Working directory. */
  cwd?: string;
}

/** What a finished command produced. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and collects its output. */
export interface Runner {
  /**
   * @param argv program and arguments
   * @param opts stdin, env, timeout
   * @returns exit code and trimmed output
   * @throws {CommandError} when the exit code is non-zero and `check` is not false
   */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/**
 * A {@linkcode Runner} backed by `Deno.Command`. Needs `--allow-run`.
 */
export class ProcessRunner implements Runner {
  /** @inheritdoc */
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const [program, ...args] = argv;
    if (!program) throw new TypeError("Cannot run an empty command line");
    const signals: AbortSignal[] = [];
    if (opts.signal) signals.push(opts.signal);
    if (opts.timeoutMs !== undefined) signals.push(AbortSignal.timeout(opts.timeoutMs));
    const cmd = new Deno.Command(program, {
      args,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
    });
    let child: Deno.ChildProcess;
    try {
      child = cmd.spawn();
    } catch (err) {
      throw new CommandError(argv, 127, err instanceof Error ? err.message : String(err));
    }
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    const result = {
      code: out.code,
      stdout: dec.decode(out.stdout).trim(),
      stderr: dec.decode(out.stderr).trim(),
    };
    if (result.code !== 0 && opts.check !== false) {
      throw new CommandError(argv, result.code, result.stderr, result.stdout);
    }
    return result;
  }
}

/**
 * Test helper: runs `ovn-k8s` from source (`deno run main.ts ...` with exactly the
 * permission flags the compiled binary carries) as its own process, optionally inside a
 * network namespace, the way a systemd unit would run the binary.
 *
 * @module
 */
import { PERMISSION_FLAGS, RUNTIME_FLAGS } from "../../scripts/permissions.ts";
import { checkPrivatePaths } from "./confined_fs.ts";

/** Absolute path of main.ts. */
export const MAIN_TS = new URL("../../main.ts", import.meta.url).pathname;

/**
 * The argv that runs `ovn-k8s ARGS...`.
 *
 * @throws {ConfinementError} when the role would write to the host's system paths
 *   (see {@linkcode checkPrivatePaths})
 */
export function ovnK8sArgv(args: string[], netns?: string): string[] {
  checkPrivatePaths(args);
  const argv = [
    Deno.execPath(),
    "run",
    ...PERMISSION_FLAGS,
    ...RUNTIME_FLAGS,
    "--quiet",
    MAIN_TS,
    ...args,
  ];
  return netns ? ["ip", "netns", "exec", netns, ...argv] : argv;
}

/** What a finished run printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ovn-k8s ARGS...` to completion (bounded: killed after `timeoutMs`).
 *
 * @param args arguments
 * @param opts namespace and deadline (default 60 s)
 * @returns exit code and output
 */
export async function runOvnK8s(
  args: string[],
  opts: { netns?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const [prog, ...rest] = ovnK8sArgv(args, opts.netns);
  const out = await new Deno.Command(prog!, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Starts `ovn-k8s ARGS...` in the background (foreground-mode roles).
 *
 * @param args arguments
 * @param opts namespace
 * @returns the child; stop it with `child.kill("SIGTERM")` and await `child.status`
 */
export function spawnOvnK8s(args: string[], opts: { netns?: string } = {}): Deno.ChildProcess {
  const [prog, ...rest] = ovnK8sArgv(args, opts.netns);
  return new Deno.Command(prog!, {
    args: rest,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
}

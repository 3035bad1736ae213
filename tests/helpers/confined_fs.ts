/**
 * Test helper: keeps tests and benchmarks out of the host's system paths.
 *
 * The roles write to the distribution's paths by default (`/opt/cni/bin`,
 * `/etc/cni/net.d`, `/etc/openvswitch/system-id.conf`, `/var/lib/ovn`, ...), which is
 * right on a real host and wrong from a test: a test that forgot `--cni-bin-dir` once
 * left `/opt/cni/bin/ovn_cni` and `/etc/cni/net.d/10-net.conf` (pointing into a deleted
 * temp dir) on the test machine. Two guards make such a test fail where it happens:
 *
 * - {@linkcode confinedCniFs} / {@linkcode confinedWriteFile}: the file writes of
 *   in-process role calls (`NodeInitDeps.fs`, setup-host's `writeFileAtomic`), refused
 *   outside the test's own directory;
 * - {@linkcode checkPrivatePaths}: the argv of `ovn-k8s` processes a test starts,
 *   refused when a role would fall back to a system default.
 *
 * @module
 */
import { type CniFs, realCniFs } from "../../src/roles/_node_init.ts";

/** A write a test attempted outside its directory. */
export class ConfinementError extends Error {
  override name = "ConfinementError";
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/**
 * Whether `path` is `root` or below it (after resolving `.` and `..`).
 *
 * @param root an absolute directory
 * @param path an absolute path
 * @returns true when inside
 */
export function isInside(root: string, path: string): boolean {
  const r = normalize(root);
  const p = normalize(path);
  return p === r || p.startsWith(r === "/" ? "/" : `${r}/`);
}

function guard(root: string, what: string, path: string, written: string[]): void {
  if (!path.startsWith("/") || !isInside(root, path)) {
    throw new ConfinementError(
      `Cannot ${what} "${path}" from a test: it is outside the test's directory "${root}"; ` +
        "pass the role its directories (--cni-bin-dir, --cni-conf-dir, --system-id-file, ...) " +
        "under a Deno.makeTempDir() directory",
    );
  }
  written.push(normalize(path));
}

/**
 * A {@linkcode CniFs} that writes only below `root` and throws
 * {@linkcode ConfinementError} for anything else (before touching the disk).
 *
 * @param root the test's temp directory
 * @param inner the filesystem that does the writes (default the real one)
 * @returns the filesystem, and every path it was asked to write
 */
export function confinedCniFs(root: string, inner: CniFs = realCniFs): CniFs & {
  written: string[];
} {
  const written: string[] = [];
  return {
    written,
    mkdir: (path) => (guard(root, "create directory", path, written), inner.mkdir(path)),
    readLink: (path) => inner.readLink(path),
    symlinkAtomic: (target, path) => (
      guard(root, "create link", path, written), inner.symlinkAtomic(target, path)
    ),
    writeAtomic: (path, text) => (
      guard(root, "write", path, written), inner.writeAtomic(path, text)
    ),
  };
}

/**
 * A `writeFileAtomic(path, text)` (setup-host's dependency) confined to `root`.
 *
 * @param root the test's temp directory
 * @returns the function; it throws {@linkcode ConfinementError} outside `root`
 */
export function confinedWriteFile(root: string): (path: string, text: string) => Promise<void> {
  const written: string[] = [];
  return async (path, text) => {
    guard(root, "write", path, written);
    const tmp = `${path}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  };
}

const hasFlag = (args: readonly string[], flag: string) =>
  args.some((a) => a === flag || a.startsWith(`${flag}=`));

/** Flags without which a role writes to a system path, by role. */
const PRIVATE_PATH_FLAGS: Record<string, readonly string[]> = {
  "minion-init": ["--cni-bin-dir", "--cni-conf-dir"],
  run: ["--cni-bin-dir", "--cni-conf-dir"],
  "setup-host": ["--system-id-file"],
  central: ["--data-dir", "--run-dir", "--log-dir"],
};

/**
 * Refuses the argv of an `ovn-k8s` process that would write to a system path: a role
 * of {@linkcode PRIVATE_PATH_FLAGS} without its directory flags, or a bare
 * `--pidfile`/`--log-file` (which mean the distribution's run and log directories).
 * `--help` is let through.
 *
 * @param args the arguments after the program (role first)
 * @throws {ConfinementError} naming the missing flags
 */
export function checkPrivatePaths(args: readonly string[]): void {
  if (args.includes("--help")) return;
  const role = args[0] ?? "";
  const missing = (PRIVATE_PATH_FLAGS[role] ?? []).filter((f) => !hasFlag(args, f));
  const bare = args.filter((a) => a === "--pidfile" || a === "--log-file");
  if (missing.length || bare.length) {
    throw new ConfinementError(
      `Cannot run "ovn-k8s ${role}" from a test: ${
        missing.length ? `without ${missing.join(", ")}` : `with a bare ${bare.join(", ")}`
      } it writes to the host's system paths; give it paths under a Deno.makeTempDir() directory`,
    );
  }
}

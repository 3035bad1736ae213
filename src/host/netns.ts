/**
 * Network namespaces as values. A namespace is given by name (`ip netns add NAME`, bound
 * under /run/netns/NAME) or by path (`/proc/PID/ns/net`, a CNI_NETNS); work inside it goes
 * through {@linkcode inNetns}, which wraps an argv in `ip netns exec NAME ...` or
 * `nsenter --net=PATH -- ...`. The calling process never switches namespace.
 *
 * @module
 */
import type { Runner } from "../exec/mod.ts";

/** Where `ip netns` binds named namespaces. */
export const NETNS_DIR = "/run/netns";

/**
 * Wraps an argv so that it runs inside a network namespace.
 *
 * @param netns namespace name, or a path (starting with `/`) to a namespace file, or
 *   `undefined` for the caller's own namespace
 * @param argv program and arguments
 * @returns the argv to hand to a runner
 */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  if (netns === undefined) return [...argv];
  if (netns.startsWith("/")) return ["nsenter", `--net=${netns}`, "--", ...argv];
  return ["ip", "netns", "exec", netns, ...argv];
}

/**
 * The bind-mount path of a named namespace (for `nsenter --net=PATH` or CNI_NETNS).
 *
 * @param netns namespace name
 * @returns `/run/netns/NAME`
 */
export function netnsPath(netns: string): string {
  return `${NETNS_DIR}/${netns}`;
}

/**
 * Lists the named network namespaces.
 *
 * @param runner command runner
 * @returns namespace names, in `ip netns list` order
 */
export async function listNetns(runner: Runner): Promise<string[]> {
  const { stdout } = await runner.run(["ip", "netns", "list"]);
  return parseNetnsList(stdout);
}

/**
 * Parses `ip netns list` output (`name (id: 3)` lines).
 *
 * @param text the command's stdout
 * @returns the names
 */
export function parseNetnsList(text: string): string[] {
  return text.split("\n").map((l) => l.trim().split(/\s+/)[0] ?? "").filter((n) => n !== "");
}

/**
 * Creates a named namespace with its loopback up. Fails when it exists.
 *
 * @param runner command runner
 * @param netns namespace name
 * @throws {CommandError} when `ip netns add` fails (for example, the name is taken)
 */
export async function addNetns(runner: Runner, netns: string): Promise<void> {
  await runner.run(["ip", "netns", "add", netns]);
  await runner.run(inNetns(netns, ["ip", "link", "set", "lo", "up"]));
}

/**
 * Deletes a named namespace; succeeds when it is already gone. Links inside it go with it
 * (a veth whose peer is elsewhere takes its peer along).
 *
 * @param runner command runner
 * @param netns namespace name
 */
export async function deleteNetns(runner: Runner, netns: string): Promise<void> {
  const r = await runner.run(["ip", "netns", "delete", netns], { check: false });
  if (r.code !== 0 && !/No such file|not found|does not exist/i.test(r.stderr)) {
    throw new Error(`Cannot delete network namespace "${netns}": ${r.stderr}`);
  }
}

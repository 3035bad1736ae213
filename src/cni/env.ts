/**
 * The CNI environment: `CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME`,
 * `CNI_ARGS`, `CNI_PATH`, and the Kubernetes keys inside `CNI_ARGS`.
 *
 * @module
 */
import { CniCode, CniError } from "./errors.ts";

/** The commands of the CNI specification 1.0. */
export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** What the runtime told us through the environment. */
export interface CniEnv {
  command: CniCommand;
  /** `CNI_CONTAINERID`, or `K8S_POD_INFRA_CONTAINER_ID` from `CNI_ARGS` when absent. */
  containerId: string;
  /** `CNI_NETNS`: path of the pod's network namespace ("" when the runtime gave none). */
  netns: string;
  /** `CNI_IFNAME`: the interface to create inside the namespace. */
  ifName: string;
  /** `CNI_PATH` entries. */
  path: string[];
  /** `CNI_ARGS` as key/value pairs. */
  args: Record<string, string>;
  /** `K8S_POD_NAMESPACE`. */
  podNamespace?: string;
  /** `K8S_POD_NAME`. */
  podName?: string;
  /** `K8S_POD_UID`, when the runtime passes it. */
  podUid?: string;
}

/**
 * Parses `CNI_ARGS` (`K1=V1;K2=V2`).
 *
 * @param text the variable's value
 * @returns the pairs
 * @throws {CniError} code 4 for a pair without `=`
 */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) {
      throw new CniError(
        CniCode.InvalidEnvironment,
        `Cannot parse CNI_ARGS pair "${part}": expected KEY=VALUE`,
      );
    }
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

const COMMANDS: readonly CniCommand[] = ["ADD", "DEL", "CHECK", "VERSION"];

/**
 * Reads and checks the CNI environment for a command. VERSION needs nothing; DEL
 * needs the container id; ADD and CHECK also need the namespace, the interface name
 * and the pod's namespace and name.
 *
 * @param env environment lookup
 * @returns the parsed environment
 * @throws {CniError} code 4 naming every missing or invalid variable
 */
export function readCniEnv(env: (name: string) => string | undefined): CniEnv {
  const command = env("CNI_COMMAND") ?? "";
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(
      CniCode.InvalidEnvironment,
      command
        ? `Cannot run CNI_COMMAND "${command}": unknown command, expected ${COMMANDS.join(", ")}`
        : "Cannot run the CNI plugin: CNI_COMMAND is not set",
    );
  }
  const args = parseCniArgs(env("CNI_ARGS") ?? "");
  const out: CniEnv = {
    command: command as CniCommand,
    containerId: env("CNI_CONTAINERID") || args.K8S_POD_INFRA_CONTAINER_ID || "",
    netns: env("CNI_NETNS") ?? "",
    ifName: env("CNI_IFNAME") ?? "",
    path: (env("CNI_PATH") ?? "").split(":").filter(Boolean),
    args,
  };
  if (args.K8S_POD_NAMESPACE) out.podNamespace = args.K8S_POD_NAMESPACE;
  if (args.K8S_POD_NAME) out.podName = args.K8S_POD_NAME;
  if (args.K8S_POD_UID) out.podUid = args.K8S_POD_UID;
  if (out.command === "VERSION") return out;
  const missing: string[] = [];
  if (!out.containerId) missing.push("CNI_CONTAINERID");
  if (out.command !== "DEL") {
    if (!out.netns) missing.push("CNI_NETNS");
    if (!out.ifName) missing.push("CNI_IFNAME");
    if (!out.podNamespace) missing.push("CNI_ARGS K8S_POD_NAMESPACE");
    if (!out.podName) missing.push("CNI_ARGS K8S_POD_NAME");
  }
  if (missing.length) {
    throw new CniError(
      CniCode.InvalidEnvironment,
      `Cannot run CNI ${out.command}: required environment missing: ${missing.join(", ")}`,
      {
        details:
          "the container runtime sets these; see the CNI specification, section 'Parameters'",
      },
    );
  }
  if (out.ifName && !/^[^\s/:]{1,15}$/.test(out.ifName)) {
    throw new CniError(
      CniCode.InvalidEnvironment,
      `Cannot use CNI_IFNAME "${out.ifName}": not a valid interface name (1-15 characters, no /, : or space)`,
    );
  }
  return out;
}

/**
 * Parses `ovs-appctl cluster/status DB`: the RAFT role of one ovsdb-server and the
 * addresses of every member it knows.
 *
 * @module
 */

/** One RAFT member as the status lists it. */
export interface RaftServer {
  /** Short server id. */
  id: string;
  /** RAFT address (`tcp:10.0.0.1:6643`). */
  address: string;
  /** Whether this is the server that answered. */
  self: boolean;
}

/** The parsed status. */
export interface ClusterStatus {
  /** `cluster member`, `joining cluster`, `leaving cluster`, ... */
  status: string;
  /** `leader`, `follower` or `candidate`. */
  role: string;
  /** `self`, a server id, or `unknown`. */
  leader: string;
  /** Every member. */
  servers: RaftServer[];
}

/**
 * Parses the text of `cluster/status`.
 *
 * @param text the command's stdout
 * @returns the status; missing fields are empty strings
 */
export function parseClusterStatus(text: string): ClusterStatus {
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const servers: RaftServer[] = [];
  const section = text.split(/^Servers:\s*$/m)[1] ?? "";
  for (const line of section.split("\n")) {
    const m = /^\s+(\S+) \(\S+ at (\S+)\)( \(self\))?/.exec(line);
    if (m) servers.push({ id: m[1]!, address: m[2]!, self: m[3] !== undefined });
  }
  return { status: field("Status"), role: field("Role"), leader: field("Leader"), servers };
}

/**
 * Splits an OVSDB connection string `tcp:HOST:PORT` (IPv6 hosts in brackets).
 *
 * @param remote the connection string
 * @returns protocol, host (without brackets) and port, or `undefined` when not tcp/ssl
 */
export function splitRemote(
  remote: string,
): { proto: "tcp" | "ssl"; host: string; port: number } | undefined {
  const m = /^(tcp|ssl):(\[[^\]]+\]|[^:]+):(\d+)$/.exec(remote);
  if (!m) return undefined;
  return { proto: m[1] as "tcp" | "ssl", host: m[2]!.replace(/^\[|\]$/g, ""), port: Number(m[3]) };
}

/**
 * Formats an OVSDB connection string, bracketing IPv6 hosts.
 *
 * @param proto `tcp`, `ssl`, `ptcp` or `pssl`
 * @param host address
 * @param port port
 * @returns e.g. `tcp:10.0.0.1:6641`, `ptcp:6641:[::]` for passive ones
 */
export function formatRemote(proto: "tcp" | "ssl" | "ptcp" | "pssl", host: string, port: number) {
  const h = host.includes(":") ? `[${host}]` : host;
  return proto.startsWith("p") ? `${proto}:${port}:${h}` : `${proto}:${h}:${port}`;
}

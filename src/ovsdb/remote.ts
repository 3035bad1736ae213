/**
 * Remote strings as ovsdb clients write them: `tcp:HOST:PORT`, `ssl:HOST:PORT`,
 * `unix:PATH`, comma-separated for clustered databases; and opening them.
 *
 * @module
 */
import { OvsdbError } from "./errors.ts";

/** One active remote. */
export type Remote =
  | { kind: "tcp" | "ssl"; host: string; port: number; text: string }
  | { kind: "unix"; path: string; text: string };

/** PEM texts for `ssl:` remotes (mutual TLS, as OVN uses). */
export interface TlsOptions {
  /** CA certificate(s) that signed the server's certificate (PEM). */
  caCert: string;
  /** Our certificate (PEM), sent to the server. */
  cert: string;
  /** Our private key (PEM). */
  key: string;
  /**
   * Check the server certificate's name against the host (default false: like
   * Open vSwitch, trust any certificate signed by the CA; OVN certificates made by
   * `ovs-pki` carry no subjectAltName).
   */
  verifyHostname?: boolean;
}

/**
 * Parses one remote.
 *
 * @param text e.g. `tcp:127.0.0.1:6641`, `ssl:[::1]:6641`, `unix:/run/ovn/ovnnb_db.sock`
 * @returns the parsed remote
 * @throws {TypeError} naming the remote and the accepted forms
 */
export function parseRemote(text: string): Remote {
  const t = text.trim();
  const colon = t.indexOf(":");
  const kind = t.slice(0, colon);
  const rest = t.slice(colon + 1);
  if (colon > 0 && kind === "unix" && rest) return { kind: "unix", path: rest, text: t };
  if (colon > 0 && (kind === "tcp" || kind === "ssl")) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(rest) ?? /^([^:]+):(\d+)$/.exec(rest);
    const port = m ? Number(m[2]) : NaN;
    if (m && port > 0 && port < 65536) return { kind, host: m[1]!, port, text: t };
  }
  throw new TypeError(
    `Cannot parse OVSDB remote "${text}": expected tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH`,
  );
}

/**
 * Parses a comma-separated remote list.
 *
 * @param text e.g. `tcp:10.0.0.1:6641,tcp:10.0.0.2:6641`
 * @returns the remotes in order
 * @throws {TypeError} for an empty list or a bad entry
 */
export function parseRemotes(text: string | readonly string[]): Remote[] {
  const parts = (typeof text === "string" ? text.split(",") : text.flatMap((t) => t.split(",")))
    .map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0) {
    throw new TypeError(`Cannot parse OVSDB remotes "${String(text)}": the list is empty`);
  }
  return parts.map(parseRemote);
}

/**
 * Opens a byte stream to a remote. Needs `--allow-net` (and, for unix sockets, read and
 * write access to the socket path).
 *
 * @param remote where to connect
 * @param tls certificates, required for `ssl:`
 * @returns the connection
 * @throws {OvsdbError} kind `connect` with the remote and the cause
 */
export async function openRemote(remote: Remote, tls?: TlsOptions): Promise<Deno.Conn> {
  try {
    switch (remote.kind) {
      case "unix":
        return await Deno.connect({ transport: "unix", path: remote.path });
      case "tcp": {
        const conn = await Deno.connect({ hostname: remote.host, port: remote.port });
        conn.setNoDelay(true);
        return conn;
      }
      case "ssl": {
        if (!tls) {
          throw new TypeError("no TLS certificates given (tls: {caCert, cert, key})");
        }
        const conn = await Deno.connectTls({
          hostname: remote.host,
          port: remote.port,
          caCerts: [tls.caCert],
          cert: tls.cert,
          key: tls.key,
          unsafelyDisableHostnameVerification: tls.verifyHostname !== true,
        });
        await conn.handshake();
        return conn;
      }
    }
  } catch (err) {
    throw new OvsdbError(
      "connect",
      `Cannot connect to ${remote.text}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

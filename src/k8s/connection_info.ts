/**
 * The resolved connection value, apart from how it is resolved (`connection.ts`), so
 * that the transport and the CNI's pod annotation reader depend on nothing else.
 *
 * @module
 */

/** A resolved connection to an API server. */
export interface Connection {
  /** Base URL without a trailing slash, e.g. `https://10.0.0.1:6443`. */
  readonly server: string;
  /** Bearer token (non-enumerable: never printed). */
  readonly token?: string;
  /** CA certificates (PEM) that verify the server, in addition to the system store. */
  readonly caPem?: string;
  /** Client certificate (PEM). */
  readonly certPem?: string;
  /** Client key (PEM; non-enumerable). */
  readonly keyPem?: string;
  /** True only when the operator turned server certificate verification off. */
  readonly insecureSkipTlsVerify: boolean;
  /** Where the values came from, for messages: e.g. `OVS external_ids`. */
  readonly source: string;
}

/**
 * Builds a {@linkcode Connection}, keeping secrets out of enumeration.
 *
 * @param fields the connection values
 * @returns the frozen connection
 */
export function makeConnection(fields: {
  server: string;
  token?: string | undefined;
  caPem?: string | undefined;
  certPem?: string | undefined;
  keyPem?: string | undefined;
  insecureSkipTlsVerify?: boolean;
  source: string;
}): Connection {
  const c: Record<string, unknown> = {
    server: fields.server.replace(/\/+$/, ""),
    insecureSkipTlsVerify: fields.insecureSkipTlsVerify ?? false,
    source: fields.source,
  };
  if (fields.caPem) c["caPem"] = fields.caPem;
  if (fields.certPem) c["certPem"] = fields.certPem;
  if (fields.token) Object.defineProperty(c, "token", { value: fields.token, enumerable: false });
  if (fields.keyPem) {
    Object.defineProperty(c, "keyPem", { value: fields.keyPem, enumerable: false });
  }
  return Object.freeze(c) as unknown as Connection;
}

/**
 * A loggable view of a connection (no token, no key).
 *
 * @param c the connection
 * @returns fields safe to log
 */
export function describeConnection(c: Connection): Record<string, unknown> {
  return {
    server: c.server,
    source: c.source,
    auth: c.token ? "bearer token" : c.certPem ? "client certificate" : "none",
    ca: c.caPem ? "given" : "system store",
    ...(c.insecureSkipTlsVerify ? { tlsVerify: "OFF" } : {}),
  };
}

/**
 * Where the Kubernetes API server is and how to authenticate to it, resolved from
 * (in this order of precedence):
 *
 * 1. flags: `--kubeconfig`, or `--k8s-api-server` with `--k8s-token` / `--k8s-cacert`;
 * 2. the original ovn-kubernetes' OVS `external_ids` of the local Open_vSwitch row:
 *    `k8s-api-server` (`host:port` means `http://host:port`), `k8s-api-token`,
 *    `k8s-ca-certificate` (PEM with literal `\n` sequences, written to the CA file
 *    path when that file is absent, as the original did). The caller reads the row and
 *    hands the map in: this module does not talk to OVSDB;
 * 3. the in-cluster service account (`KUBERNETES_SERVICE_HOST`/`_PORT` and the token
 *    and CA under `/var/run/secrets/kubernetes.io/serviceaccount`);
 * 4. `KUBECONFIG` (first existing file of the list) or `~/.kube/config`.
 *
 * TLS verification stays on unless the operator turns it off (`--insecure-skip-tls-verify`
 * or the kubeconfig's `insecure-skip-tls-verify`). The token is a non-enumerable
 * property of the result: it does not show in logs, `JSON.stringify` or `Deno.inspect`,
 * and no error message carries it.
 *
 * This module does not load `@kubernetes/client-node` unless a kubeconfig is used, so
 * the CNI plugin can resolve a connection from OVS without it.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { type Connection, makeConnection } from "./connection_info.ts";

export { type Connection, describeConnection, makeConnection } from "./connection_info.ts";

/** Connection flags of the roles (all optional). */
export interface ConnectionFlags {
  /** `--kubeconfig PATH` */
  kubeconfig?: string;
  /** `--k8s-api-server URL|host:port` */
  apiServer?: string;
  /** `--k8s-token TOKEN` */
  token?: string;
  /** `--k8s-cacert PATH` */
  caCert?: string;
  /** `--insecure-skip-tls-verify`: do not verify the server certificate. */
  insecureSkipTlsVerify?: boolean;
}

/** File access used while resolving (injected for tests). */
export interface ConnectionFs {
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

/** Inputs of {@linkcode resolveConnection}. */
export interface ConnectionSources {
  /** Parsed flags. */
  flags?: ConnectionFlags;
  /**
   * The local Open_vSwitch row's `external_ids` (or a function that reads them), as
   * read by the caller; `undefined` when there is no local OVS.
   */
  ovsExternalIds?:
    | Record<string, string>
    | (() => Promise<Record<string, string> | undefined>);
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** File access (default: Deno's). */
  fs?: ConnectionFs;
  /** Where the original kept the API server CA (default `/etc/openvswitch/k8s-ca.crt`). */
  ovsCaPath?: string;
  /** Service account directory (default `/var/run/secrets/kubernetes.io/serviceaccount`). */
  serviceAccountDir?: string;
  /** Warnings (e.g. the OVS CA could not be written). */
  log?: Logger;
}

/** Default path of the API server CA file of the original ovn-kubernetes. */
export const DEFAULT_OVS_CA_PATH = "/etc/openvswitch/k8s-ca.crt";
/** Default in-cluster service account directory. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

const denoFs: ConnectionFs = {
  readTextFile: (p) => Deno.readTextFile(p),
  writeTextFile: (p, t) => Deno.writeTextFile(p, t, { mode: 0o644 }),
  exists: async (p) => {
    try {
      await Deno.stat(p);
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
  },
};

/**
 * Parses an API server address the way the original did: `host:port` (or `host`)
 * means `http://host:port`; full `http://` and `https://` URLs are kept.
 *
 * @param value the address
 * @param source where it came from, for the message (e.g. `external_ids:k8s-api-server`)
 * @returns the base URL without a trailing slash
 * @throws {TypeError} naming the source when the value is not a usable address
 */
export function parseApiServer(value: string, source: string): string {
  const v = value.trim();
  const fail = (why: string) =>
    new TypeError(
      `Cannot use ${source} "${value}": ${why}; give host:port, http://host:port or https://host:port`,
    );
  if (!v) throw fail("it is empty");
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw fail("not a valid address");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw fail(`scheme ${url.protocol.replace(":", "")} is not http or https`);
  }
  if (!url.hostname) throw fail("it has no host");
  if (url.search || url.hash || url.username) throw fail("it has a query, fragment or user part");
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
}

/**
 * Turns the original's `k8s-ca-certificate` value (PEM with the two characters `\n`
 * for line breaks) into PEM text.
 *
 * @param value the external_ids value
 * @returns PEM text ending in a newline
 */
export function unescapeOvsPem(value: string): string {
  const pem = value.replaceAll("\\n", "\n").trim();
  return `${pem}\n`;
}

async function readNamed(fs: ConnectionFs, path: string, what: string): Promise<string> {
  try {
    return await fs.readTextFile(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TypeError(`Cannot read ${what} "${path}": ${why}`, { cause: err });
  }
}

function checkPem(pem: string, what: string): string {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) {
    throw new TypeError(
      `Cannot use ${what}: it holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return pem;
}

/**
 * Resolves the connection to the API server.
 *
 * @param src flags, OVS external_ids, environment, file access
 * @returns the connection, with `source` naming where it came from
 * @throws {TypeError} naming the source of a bad value (malformed server, unreadable CA,
 *   kubeconfig without current context), or when no source gives a server
 */
export async function resolveConnection(src: ConnectionSources): Promise<Connection> {
  const fs = src.fs ?? denoFs;
  const flags = src.flags ?? {};
  const insecure = flags.insecureSkipTlsVerify ?? false;
  const flagCa = flags.caCert
    ? checkPem(
      await readNamed(fs, flags.caCert, "--k8s-cacert file"),
      `--k8s-cacert "${flags.caCert}"`,
    )
    : undefined;

  if (flags.kubeconfig) {
    const { loadKubeconfig } = await import("./kubeconfig.ts");
    return loadKubeconfig(
      await readNamed(fs, flags.kubeconfig, "--kubeconfig file"),
      `--kubeconfig "${flags.kubeconfig}"`,
      fs,
      { token: flags.token, caPem: flagCa, insecure },
    );
  }
  if (flags.apiServer) {
    return makeConnection({
      server: parseApiServer(flags.apiServer, "--k8s-api-server"),
      token: flags.token,
      caPem: flagCa,
      insecureSkipTlsVerify: insecure,
      source: "flags",
    });
  }

  const ids = typeof src.ovsExternalIds === "function"
    ? await src.ovsExternalIds()
    : src.ovsExternalIds;
  const ovsServer = ids?.["k8s-api-server"];
  if (ids && ovsServer !== undefined) {
    const server = parseApiServer(
      ovsServer,
      "external_ids:k8s-api-server (local Open_vSwitch row)",
    );
    let caPem = flagCa;
    if (!caPem && server.startsWith("https:")) {
      const path = src.ovsCaPath ?? DEFAULT_OVS_CA_PATH;
      if (await fs.exists(path)) {
        caPem = checkPem(
          await readNamed(fs, path, "the OVS k8s CA file"),
          `the OVS k8s CA file "${path}"`,
        );
      } else if (ids["k8s-ca-certificate"]) {
        caPem = checkPem(
          unescapeOvsPem(ids["k8s-ca-certificate"]),
          "external_ids:k8s-ca-certificate (local Open_vSwitch row)",
        );
        try {
          await fs.writeTextFile(path, caPem);
        } catch (err) {
          src.log?.warn(
            "cannot save external_ids:k8s-ca-certificate to its file; using it from memory",
            {
              path,
              error: err,
            },
          );
        }
      }
    }
    return makeConnection({
      server,
      token: flags.token ?? (ids["k8s-api-token"] || undefined),
      caPem,
      insecureSkipTlsVerify: insecure,
      source: "OVS external_ids",
    });
  }

  const host = src.env("KUBERNETES_SERVICE_HOST");
  const port = src.env("KUBERNETES_SERVICE_PORT");
  const saDir = src.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (host && port && await fs.exists(`${saDir}/token`)) {
    const server = parseApiServer(
      `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
      "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT (in-cluster)",
    );
    const token = (await readNamed(fs, `${saDir}/token`, "the service account token")).trim();
    const caPem = flagCa ?? checkPem(
      await readNamed(fs, `${saDir}/ca.crt`, "the service account CA"),
      `the service account CA "${saDir}/ca.crt"`,
    );
    return makeConnection({
      server,
      token: flags.token ?? token,
      caPem,
      insecureSkipTlsVerify: insecure,
      source: "in-cluster service account",
    });
  }

  const candidates: [string, string][] = [];
  const kcEnv = src.env("KUBECONFIG");
  if (kcEnv) {
    for (const p of kcEnv.split(":").filter(Boolean)) candidates.push([p, `KUBECONFIG "${p}"`]);
  } else {
    const home = src.env("HOME");
    if (home) candidates.push([`${home}/.kube/config`, `kubeconfig "${home}/.kube/config"`]);
  }
  for (const [path, label] of candidates) {
    if (!(await fs.exists(path))) continue;
    const { loadKubeconfig } = await import("./kubeconfig.ts");
    return loadKubeconfig(await readNamed(fs, path, label), label, fs, {
      token: flags.token,
      caPem: flagCa,
      insecure,
    });
  }
  throw new TypeError(
    "Cannot find the Kubernetes API server: no --kubeconfig or --k8s-api-server flag, " +
      "no external_ids:k8s-api-server in the local Open_vSwitch row, not running in a cluster " +
      `(KUBERNETES_SERVICE_HOST unset), and no kubeconfig (${
        kcEnv ? `KUBECONFIG="${kcEnv}"` : "~/.kube/config"
      } not found); set one of them`,
  );
}

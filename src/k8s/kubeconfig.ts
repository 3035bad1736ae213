/**
 * Reads a kubeconfig with `@kubernetes/client-node`'s `KubeConfig` (YAML, contexts,
 * inline or file certificates) into a {@linkcode Connection}. Loaded lazily by
 * {@linkcode resolveConnection} only when a kubeconfig is the source.
 *
 * @module
 */
import { KubeConfig } from "@kubernetes/client-node";
import {
  type Connection,
  type ConnectionFs,
  makeConnection,
  parseApiServer,
} from "./connection.ts";

function decodeB64(data: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(data.trim()), (c) => c.charCodeAt(0)));
}

async function inlineOrFile(
  fs: ConnectionFs,
  data: string | undefined,
  file: string | undefined,
  what: string,
): Promise<string | undefined> {
  if (data) return decodeB64(data);
  if (!file) return undefined;
  try {
    return await fs.readTextFile(file);
  } catch (err) {
    throw new TypeError(
      `Cannot read ${what} "${file}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * Builds a connection from kubeconfig text.
 *
 * @param text the kubeconfig (YAML or JSON)
 * @param label where it came from, e.g. `KUBECONFIG "/x"`
 * @param fs file access for referenced certificate and token files
 * @param overrides flag values that win over the kubeconfig
 * @returns the connection of the current context
 * @throws {TypeError} naming the kubeconfig when it cannot be parsed, has no current
 *   context, or names a missing cluster or user
 */
export async function loadKubeconfig(
  text: string,
  label: string,
  fs: ConnectionFs,
  overrides: { token?: string | undefined; caPem?: string | undefined; insecure: boolean },
): Promise<Connection> {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new TypeError(
      `Cannot parse ${label}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
      { cause: err },
    );
  }
  if (!kc.getCurrentContext()) {
    throw new TypeError(
      `Cannot use ${label}: it has no current-context; pick one with "kubectl config use-context NAME"`,
    );
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (!ctx) {
    throw new TypeError(
      `Cannot use ${label}: its current-context "${kc.getCurrentContext()}" is not among its contexts`,
    );
  }
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) {
    throw new TypeError(`Cannot use ${label}: context "${ctx.name}" names no known cluster`);
  }
  const user = kc.getUser(ctx.user);
  const where = `${label} (context "${ctx.name}")`;
  const server = parseApiServer(cluster.server, `the cluster server of ${where}`);
  const caPem = overrides.caPem ??
    await inlineOrFile(fs, cluster.caData, cluster.caFile, `the certificate-authority of ${where}`);
  let token = overrides.token ?? user?.token;
  const tokenFile = (user as { authProvider?: unknown; tokenFile?: string } | null)?.tokenFile;
  if (!token && tokenFile) {
    token = (await inlineOrFile(fs, undefined, tokenFile, `the tokenFile of ${where}`))?.trim();
  }
  return makeConnection({
    server,
    token,
    caPem,
    certPem: await inlineOrFile(
      fs,
      user?.certData,
      user?.certFile,
      `the client-certificate of ${where}`,
    ),
    keyPem: await inlineOrFile(fs, user?.keyData, user?.keyFile, `the client-key of ${where}`),
    insecureSkipTlsVerify: overrides.insecure || cluster.skipTLSVerify === true,
    source: where,
  });
}

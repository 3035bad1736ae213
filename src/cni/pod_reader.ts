/**
 * Reading the pod from the Kubernetes API server: where the server is (the network
 * config's kubeconfig, else the OVS `external_ids` the original used), and one GET
 * with Deno's own `fetch` (no Kubernetes client library on the CNI path).
 *
 * @module
 */
import type { ApiAccess } from "./kubeconfig.ts";

/** What the plugin needs of a pod. */
export interface PodInfo {
  /** `metadata.uid`. */
  uid?: string;
  /** `metadata.annotations`. */
  annotations: Record<string, string>;
}

/** Reads one pod. */
export interface PodReader {
  /**
   * @param namespace pod namespace
   * @param name pod name
   * @param signal aborts the request
   * @returns the pod, or `undefined` when the API server answers 404
   * @throws {Error} on transport errors and other statuses
   */
  getPod(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined>;
  /** Releases the HTTP client. */
  close(): void;
}

/**
 * API access from the local Open_vSwitch row's `external_ids`, as the original read
 * it: `k8s-api-server` (`host:port` gets `http://`), `k8s-api-token`,
 * `k8s-ca-certificate` (PEM with literal `\n` sequences).
 *
 * @param ids the Open_vSwitch row's external_ids
 * @returns the access settings, or `undefined` when `k8s-api-server` is not set
 */
export function accessFromExternalIds(ids: Record<string, string>): ApiAccess | undefined {
  const server = ids["k8s-api-server"]?.trim().replace(/^"(.*)"$/, "$1");
  if (!server) return undefined;
  const access: ApiAccess = {
    server: (/^https?:\/\//.test(server) ? server : `http://${server}`).replace(/\/+$/, ""),
    source: "OVS external_ids:k8s-api-server",
  };
  const token = ids["k8s-api-token"]?.trim();
  if (token) access.token = token;
  const ca = ids["k8s-ca-certificate"];
  if (ca) access.caPem = ca.replaceAll("\\n", "\n");
  return access;
}

/** {@linkcode PodReader} over `fetch`. Needs `--allow-net`. */
export class FetchPodReader implements PodReader {
  #access: ApiAccess;
  #client: Deno.HttpClient | undefined;

  /**
   * @param access server, token and TLS material
   * @throws {Error} for `insecure-skip-tls-verify` without a CA (not supported here)
   */
  constructor(access: ApiAccess) {
    this.#access = access;
    if (access.server.startsWith("https:")) {
      if (access.insecure && !access.caPem) {
        throw new Error(
          `Cannot use ${access.source}: insecure-skip-tls-verify is not supported by the CNI ` +
            `plugin; give the server's CA (certificate-authority-data)`,
        );
      }
      if (access.caPem || access.certPem) {
        this.#client = Deno.createHttpClient({
          ...(access.caPem ? { caCerts: [access.caPem] } : {}),
          ...(access.certPem && access.keyPem ? { cert: access.certPem, key: access.keyPem } : {}),
        });
      }
    }
  }

  /** @inheritdoc */
  async getPod(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<PodInfo | undefined> {
    const url = `${this.#access.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${
      encodeURIComponent(name)
    }`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#access.token) headers.authorization = `Bearer ${this.#access.token}`;
    const res = await fetch(url, {
      headers,
      ...(signal ? { signal } : {}),
      ...(this.#client ? { client: this.#client } : {}),
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 200);
      throw new Error(`GET ${url} (${this.#access.source}): HTTP ${res.status} ${text}`);
    }
    const pod = await res.json() as { metadata?: { uid?: string; annotations?: unknown } };
    const ann = pod.metadata?.annotations;
    const annotations: Record<string, string> = {};
    if (typeof ann === "object" && ann !== null) {
      for (const [k, v] of Object.entries(ann)) if (typeof v === "string") annotations[k] = v;
    }
    return pod.metadata?.uid ? { uid: pod.metadata.uid, annotations } : { annotations };
  }

  /** @inheritdoc */
  close(): void {
    this.#client?.close();
  }
}

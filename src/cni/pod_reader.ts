/**
 * Reading the pod from the Kubernetes API server: where the server is (the network
 * config's kubeconfig, else the OVS `external_ids` the original used), and one GET (no
 * Kubernetes client library on the CNI path): {@linkcode HttpPodReader} for `http:`
 * servers (one HTTP/1.1 request on a socket, without `fetch`'s 7-20 ms first-use cost),
 * {@linkcode FetchPodReader} with Deno's `fetch` for `https:` (TLS, client certificates).
 *
 * @module
 */
import { httpGet, type HttpGetOptions } from "./http_get.ts";
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

function podPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
}

function authHeaders(access: ApiAccess): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (access.token) headers.authorization = `Bearer ${access.token}`;
  return headers;
}

/** Reads uid and string annotations from a pod's JSON. */
function toPodInfo(text: string, url: string): PodInfo {
  let pod: { metadata?: { uid?: unknown; annotations?: unknown } };
  try {
    pod = JSON.parse(text);
  } catch (err) {
    throw new Error(`GET ${url}: the answer is not JSON: ${text.slice(0, 80)}`, { cause: err });
  }
  const ann = pod?.metadata?.annotations;
  const annotations: Record<string, string> = {};
  if (typeof ann === "object" && ann !== null) {
    for (const [k, v] of Object.entries(ann)) if (typeof v === "string") annotations[k] = v;
  }
  const uid = pod?.metadata?.uid;
  return typeof uid === "string" && uid ? { uid, annotations } : { annotations };
}

/**
 * {@linkcode PodReader} for an `http:` API server: one HTTP/1.1 GET on a socket of its
 * own ({@linkcode httpGet}). Needs `--allow-net`.
 */
export class HttpPodReader implements PodReader {
  #access: ApiAccess;
  #connect: HttpGetOptions["connect"];

  /**
   * @param access server and token
   * @param connect opens the connection (default `Deno.connect`; injected for tests)
   * @throws {Error} for a server that is not `http:`
   */
  constructor(access: ApiAccess, connect?: HttpGetOptions["connect"]) {
    if (!access.server.startsWith("http:")) {
      throw new Error(
        `Cannot use ${access.source} (${access.server}) with HttpPodReader: only http: ` +
          `servers; FetchPodReader reads https: servers`,
      );
    }
    this.#access = access;
    this.#connect = connect;
  }

  /** @inheritdoc */
  async getPod(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<PodInfo | undefined> {
    const url = `${this.#access.server}${podPath(namespace, name)}`;
    const res = await httpGet(url, {
      headers: authHeaders(this.#access),
      ...(signal ? { signal } : {}),
      ...(this.#connect ? { connect: this.#connect } : {}),
    });
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status > 299) {
      throw new Error(
        `GET ${url} (${this.#access.source}): HTTP ${res.status} ${res.body.slice(0, 200)}`,
      );
    }
    return toPodInfo(res.body, url);
  }

  /** @inheritdoc */
  close(): void {}
}

/**
 * {@linkcode PodReader} from the access settings: {@linkcode HttpPodReader} for `http:`,
 * {@linkcode FetchPodReader} otherwise.
 *
 * @param access server, token and TLS material
 * @returns the reader
 * @throws {Error} as {@linkcode FetchPodReader} does
 */
export function podReaderFor(access: ApiAccess): PodReader {
  return access.server.startsWith("http:") ? new HttpPodReader(access) : new FetchPodReader(access);
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
    const url = `${this.#access.server}${podPath(namespace, name)}`;
    const res = await fetch(url, {
      headers: authHeaders(this.#access),
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
    return toPodInfo(await res.text(), url);
  }

  /** @inheritdoc */
  close(): void {
    this.#client?.close();
  }
}

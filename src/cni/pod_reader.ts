/**
 * Reading the pod from the Kubernetes API server: where the server is (the network
 * config's kubeconfig, else the OVS `external_ids` the original used), and one GET (no
 * Kubernetes client library on the CNI path): {@linkcode HttpPodReader} for `http:` and
 * `https:` servers (one HTTP/1.1 request on a socket of its own, without `fetch`'s 7-20
 * ms first-use cost), {@linkcode FetchPodReader} with Deno's `fetch` for `https:` with a
 * client certificate (`Deno.startTls` takes none).
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

function rejectInsecure(access: ApiAccess): void {
  if (access.server.startsWith("https:") && access.insecure && !access.caPem) {
    throw new Error(
      `Cannot use ${access.source}: insecure-skip-tls-verify is not supported by the CNI ` +
        `plugin; give the server's CA (certificate-authority-data)`,
    );
  }
}

/**
 * {@linkcode PodReader} for an `http:` or `https:` API server: one HTTP/1.1 GET on a
 * socket of its own ({@linkcode httpGet}), trusting `caPem` in addition to the default
 * roots. Needs `--allow-net`.
 */
export class HttpPodReader implements PodReader {
  #access: ApiAccess;
  #connect: HttpGetOptions["connect"];

  /**
   * @param access server, token and CA
   * @param connect opens the connection (default `connectHttp`; injected for
   *   tests)
   * @throws {Error} for a server that is neither `http:` nor `https:`, for a client
   *   certificate (use {@linkcode FetchPodReader}), and for `insecure-skip-tls-verify`
   *   without a CA
   */
  constructor(access: ApiAccess, connect?: HttpGetOptions["connect"]) {
    if (!/^https?:/.test(access.server)) {
      throw new Error(
        `Cannot use ${access.source} (${access.server}) with HttpPodReader: only http: and ` +
          `https: servers; give an http:// or https:// server URL`,
      );
    }
    if (access.certPem && access.server.startsWith("https:")) {
      throw new Error(
        `Cannot use ${access.source} with HttpPodReader: it sends no client certificate; ` +
          `FetchPodReader does`,
      );
    }
    rejectInsecure(access);
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
      ...(this.#access.caPem ? { tls: { caCerts: [this.#access.caPem] } } : {}),
    });
    return podFromReply(res.status, res.body, url, this.#access.source);
  }

  /** @inheritdoc */
  close(): void {}
}

/** The pod in a GET's reply: `undefined` for 404, an error naming the URL for another failure. */
function podFromReply(
  status: number,
  body: string,
  url: string,
  source: string,
): PodInfo | undefined {
  if (status === 404) return undefined;
  if (status < 200 || status > 299) {
    throw new Error(`GET ${url} (${source}): HTTP ${status} ${body.slice(0, 200)}`);
  }
  return toPodInfo(body, url);
}

/**
 * {@linkcode PodReader} from the access settings: {@linkcode FetchPodReader} for an
 * `https:` server with a client certificate, {@linkcode HttpPodReader} otherwise.
 *
 * @param access server, token and TLS material
 * @returns the reader
 * @throws {Error} as the readers' constructors do
 */
export function podReaderFor(access: ApiAccess): PodReader {
  return access.certPem && access.server.startsWith("https:")
    ? new FetchPodReader(access)
    : new HttpPodReader(access);
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
    rejectInsecure(access);
    if (access.server.startsWith("https:")) {
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
    return podFromReply(res.status, await res.text(), url, this.#access.source);
  }

  /** @inheritdoc */
  close(): void {
    this.#client?.close();
  }
}

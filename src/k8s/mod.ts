/**
 * The Kubernetes side of ovn-k8s: finding and authenticating to the API server,
 * list+watch informers with an indexed cache, annotation writes, and the API
 * emulator (`emulator/`).
 *
 * ## Transport choice (why two HTTP stacks)
 *
 * `@kubernetes/client-node` 2.0.1 gives us kubeconfig parsing, the typed models and
 * the REST calls (`createApis`, `annotatePod`), but its undici transport has two
 * Deno node-compat problems: (1) it offers HTTP/2 and the process crashes (SIGSEGV or
 * an nghttp2 assertion) when a TLS API server sends GOAWAY on restart, and (2) a
 * streaming body never fails when the peer dies or the request is aborted, so its
 * `Watch` never calls `done` and its informer silently goes stale. So:
 *
 * - client-node REST calls are forced onto HTTP/1.1 (`forceHttp1`) and bounded by a
 *   timeout;
 * - lists and watches (`KubeHttp`, `Informer`) run on Deno's own `fetch` with
 *   `Deno.createHttpClient({ caCerts, cert, key, http2: false })`, which fails a dead
 *   body within milliseconds, plus an idle bound on every stream for half-open
 *   connections that never fail at all. Lists use it too, because a list body is a
 *   stream as well: a peer dying mid-list would hang undici forever.
 *
 * Pinning client-node 1.4.0 (node-fetch, no such bugs) was the alternative; we kept
 * 2.0.1 and our own ~300-line watch path because the tests that kill, drop and stall
 * the server pass with it and we control the idle bound. See docs/k8s.md.
 *
 * ## Who imports what
 *
 * The CNI plugin must not load client-node (365 ms, 115 MiB): it reads the pod with
 * its own small reader (src/cni/pod_reader.ts, a plain HTTP/1.1 GET) and never imports
 * this module. The watcher imports the specific modules it needs (http, informer, cache,
 * resources), not this one, which re-exports the client-node parts too. `connection.ts`
 * loads client-node lazily, only to parse a kubeconfig.
 *
 * @module
 */
export { type AnnotateOptions, annotatePod } from "./annotate.ts";
export {
  byNamespace,
  byNodeName,
  type CachedObject,
  IndexedCache,
  type Indexer,
  objectKey,
} from "./cache.ts";
export { createApis, forceHttp1, type K8sApis, kubeConfigFor } from "./client.ts";
export {
  type Connection,
  type ConnectionFlags,
  type ConnectionFs,
  type ConnectionSources,
  DEFAULT_OVS_CA_PATH,
  describeConnection,
  makeConnection,
  parseApiServer,
  resolveConnection,
  unescapeOvsPem,
} from "./connection.ts";
export {
  isConflict,
  isNotFound,
  K8sApiError,
  K8sGoneError,
  K8sIdleTimeoutError,
} from "./errors.ts";
export { KubeHttp, type KubeHttpOptions, type RawWatchEvent, type RequestOptions } from "./http.ts";
export {
  httpListWatcher,
  type HttpListWatchOptions,
  Informer,
  type InformerHandlers,
  type InformerOptions,
  type InformerStats,
  type ListWatcher,
  type WatchEvent,
} from "./informer.ts";
export { createInformer, type TypedInformerOptions } from "./informers.ts";
export {
  apiVersionOf,
  collectionPath,
  findResource,
  keyOf,
  type KubeObject,
  type ObjectMeta,
  objectPath,
  type ResourceDef,
  RESOURCES,
} from "./resources.ts";

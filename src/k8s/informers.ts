/**
 * Typed informers for the resources ovn-k8s watches: list+watch over
 * {@linkcode KubeHttp}, objects decoded into client-node models (`V1Pod`, ...) so list
 * and watch deliver the same shapes (timestamps as `Date`), pods indexed by node.
 *
 * @module
 */
import { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js";
import type { Logger } from "../log/mod.ts";
import { byNamespace, byNodeName, type CachedObject, type Indexer } from "./cache.ts";
import type { KubeHttp } from "./http.ts";
import { httpListWatcher, Informer, type InformerHandlers } from "./informer.ts";
import type { ResourceDef } from "./resources.ts";

/** Options of {@linkcode createInformer}. */
export interface TypedInformerOptions<T> {
  /** Restrict to a namespace. */
  namespace?: string;
  /** Label selector. */
  labelSelector?: string;
  /** Field selector (e.g. `spec.nodeName=node1`). */
  fieldSelector?: string;
  /** Callbacks. */
  handlers?: InformerHandlers<T>;
  /** Idle bound of the watch (default 60,000 ms). */
  idleTimeoutMs?: number;
  /** Backoff cap (default 10,000 ms). */
  maxBackoffMs?: number;
  /** Keep raw JSON instead of decoding into client-node models (faster). */
  raw?: boolean;
  /** Logger. */
  log?: Logger;
}

/**
 * Creates an informer for a resource. Indexes: `namespace` always, `node` for pods.
 *
 * @param http the transport
 * @param r the resource (from `RESOURCES`)
 * @param opts selectors, handlers, idle bound
 * @returns the informer; call `run(signal)` to start it
 */
export function createInformer<T extends CachedObject>(
  http: KubeHttp,
  r: ResourceDef,
  opts: TypedInformerOptions<T> = {},
): Informer<T> {
  const decode = opts.raw
    ? (raw: Record<string, unknown>) => raw as T
    : (raw: Record<string, unknown>) => ObjectSerializer.deserialize(raw, r.model) as T;
  const indexers: Record<string, Indexer<T>> = { namespace: byNamespace };
  if (r.kind === "Pod") indexers["node"] = byNodeName;
  return new Informer<T>(
    httpListWatcher<T>(http, r, {
      decode,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
      ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
    }),
    {
      name: r.plural,
      indexers,
      ...(opts.handlers ? { handlers: opts.handlers } : {}),
      ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
      ...(opts.maxBackoffMs ? { maxBackoffMs: opts.maxBackoffMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    },
  );
}

/**
 * The one Kubernetes call the CNI plugin makes: read a pod's annotations, and wait
 * for one to appear. Built on {@linkcode KubeHttp} (Deno's fetch); it does not load
 * `@kubernetes/client-node` (the test checks the module graph).
 *
 * @module
 */
import { isNotFound } from "./errors.ts";
import type { KubeHttp } from "./http.ts";
import { findResource, objectPath } from "./resources.ts";

/**
 * Reads the annotations of a pod.
 *
 * @param http the transport
 * @param namespace pod namespace
 * @param name pod name
 * @param signal aborts the request
 * @returns the annotations (empty when none), or `undefined` when the pod does not exist
 * @throws {K8sApiError} on other API errors; {@linkcode Error} when unreachable
 */
export async function readPodAnnotations(
  http: KubeHttp,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<Record<string, string> | undefined> {
  try {
    const pod = await http.request<{ metadata?: { annotations?: Record<string, string> } }>(
      "GET",
      objectPath(findResource("pods")!, namespace, name),
      signal ? { signal } : {},
    );
    return pod.metadata?.annotations ?? {};
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Options of {@linkcode waitForPodAnnotation}. */
export interface WaitAnnotationOptions {
  /** Give up after this long (default 30,000 ms). */
  timeoutMs?: number;
  /** Poll interval (default 200 ms). */
  intervalMs?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/**
 * Polls a pod until an annotation is set.
 *
 * @param http the transport
 * @param namespace pod namespace
 * @param name pod name
 * @param key annotation key, e.g. `ovn`
 * @param opts timeout, interval, signal
 * @returns the annotation value
 * @throws {Error} naming the pod and key when the timeout passes or the pod is gone
 */
export async function waitForPodAnnotation(
  http: KubeHttp,
  namespace: string,
  name: string,
  key: string,
  opts: WaitAnnotationOptions = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const interval = opts.intervalMs ?? 200;
  for (;;) {
    const ann = await readPodAnnotations(http, namespace, name, opts.signal);
    if (ann === undefined) {
      throw new Error(
        `Cannot read annotation "${key}" of pod ${namespace}/${name}: the pod does not exist`,
      );
    }
    const v = ann[key];
    if (v !== undefined) return v;
    if (Date.now() + interval > deadline) {
      throw new Error(
        `Cannot read annotation "${key}" of pod ${namespace}/${name}: not set after ${
          opts.timeoutMs ?? 30_000
        } ms ` +
          "(is the ovn-k8s watcher running?)",
      );
    }
    await new Promise((r) => setTimeout(r, interval));
    opts.signal?.throwIfAborted();
  }
}

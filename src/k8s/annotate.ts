/**
 * Pod annotation writes: a JSON merge patch of `metadata.annotations` with an explicit
 * `application/merge-patch+json` content type (client-node 2.0.1 would otherwise send
 * `application/json-patch+json`, which the API server rejects for this body).
 *
 * - 404: the pod was deleted while being annotated; not an error (`"gone"`).
 * - 409: retried a few times (a merge patch carries no resourceVersion, so it only
 *   conflicts when the server is busy).
 * - no answer (e.g. a kept-alive connection the restarted server closed): retried, as
 *   the patch is idempotent.
 *
 * @module
 */
import {
  ApiException,
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { Logger } from "../log/mod.ts";
import { K8sApiError } from "./errors.ts";

/** Options of {@linkcode annotatePod}. */
export interface AnnotateOptions {
  /** Attempts on 409 or on no answer (default 3). */
  attempts?: number;
  /** Bound of one request (default 30,000 ms). */
  timeoutMs?: number;
  /** Logger. */
  log?: Logger;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Cannot ${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sets (or, with `null`, removes) annotations on a pod.
 *
 * @param core the core/v1 client (see `createApis`)
 * @param namespace pod namespace
 * @param name pod name
 * @param annotations key -> value, or `null` to remove the key
 * @param opts retries, timeout, logger
 * @returns `"patched"`, or `"gone"` when the pod no longer exists
 * @throws {K8sApiError} on any other API error (the message names the pod, never the token)
 */
export async function annotatePod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  annotations: Record<string, string | null>,
  opts: AnnotateOptions = {},
): Promise<"patched" | "gone"> {
  const attempts = opts.attempts ?? 3;
  const what = `annotate pod ${namespace}/${name}`;
  for (let i = 1;; i++) {
    try {
      await withTimeout(
        core.patchNamespacedPod(
          { namespace, name, body: { metadata: { annotations } } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        ),
        opts.timeoutMs ?? 30_000,
        what,
      );
      return "patched";
    } catch (err) {
      if (!(err instanceof ApiException)) {
        // No answer (a connection the server closed, e.g. on restart): the patch is
        // idempotent, so send it again on a fresh connection.
        if (i < attempts) {
          opts.log?.debug("annotation request failed; retrying", {
            pod: `${namespace}/${name}`,
            attempt: i,
            error: err,
          });
          await new Promise((r) => setTimeout(r, 100 * i));
          continue;
        }
        throw new Error(
          `Cannot ${what}: ${err instanceof Error ? err.message : String(err)}${
            err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ""
          }`,
          { cause: err },
        );
      }
      const code = err.code as number;
      if (code === 404) {
        opts.log?.info("pod deleted while being annotated", { pod: `${namespace}/${name}` });
        return "gone";
      }
      if (code === 409 && i < attempts) {
        opts.log?.debug("annotation conflict; retrying", {
          pod: `${namespace}/${name}`,
          attempt: i,
        });
        continue;
      }
      let reason = "";
      let message = "";
      try {
        const s = (typeof err.body === "string" ? JSON.parse(err.body) : err.body) as {
          reason?: string;
          message?: string;
        };
        reason = s.reason ?? "";
        message = s.message ?? "";
      } catch { /* not a Status */ }
      throw new K8sApiError(code, reason, `Cannot ${what}: ${code} ${reason}: ${message}`, {
        cause: err,
      });
    }
  }
}

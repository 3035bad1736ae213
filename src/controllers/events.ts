/**
 * Kubernetes Events about objects (core/v1 `events`), so a user sees in
 * `kubectl describe pod` why a pod got no network (e.g. its node subnet is full).
 * One Event per (object uid, reason) per process: repeats are not re-posted. A
 * failure to post is logged, never thrown: events are advisory.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { KubeHttp } from "../k8s/http.ts";
import { collectionPath, findResource } from "../k8s/resources.ts";

/** The object an Event is about. */
export interface EventTarget {
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

/** Posts Events. */
export interface EventRecorder {
  /**
   * Records a Warning Event (once per object uid and reason).
   *
   * @param target the object
   * @param reason CamelCase reason, e.g. `AddressAllocationFailed`
   * @param message what happened and what to do
   */
  warn(target: EventTarget, reason: string, message: string): Promise<void>;
}

/** Records nothing (tests, and `--no-events`). */
export const NO_EVENTS: EventRecorder = { warn: () => Promise.resolve() };

/**
 * Posts Events through {@linkcode KubeHttp}.
 *
 * @param http the transport
 * @param component the `source.component` / `reportingComponent`, e.g. `ovn-k8s-watcher`
 * @param log where failures go
 * @returns the recorder
 */
export function httpEventRecorder(http: KubeHttp, component: string, log: Logger): EventRecorder {
  const r = findResource("events");
  const seen = new Set<string>();
  return {
    async warn(target, reason, message) {
      const once = `${target.uid ?? `${target.namespace}/${target.name}`}|${reason}`;
      if (seen.has(once)) return;
      seen.add(once);
      if (seen.size > 100_000) seen.clear();
      if (!r) {
        log.warn("cannot post an Event: this build has no events resource", { reason });
        return;
      }
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const suffix = Date.now().toString(16) + Math.floor(Math.random() * 0xffff).toString(16);
      try {
        await http.request("POST", collectionPath(r, target.namespace), {
          body: {
            apiVersion: "v1",
            kind: "Event",
            metadata: { name: `${target.name}.${suffix}`, namespace: target.namespace },
            involvedObject: {
              apiVersion: target.apiVersion ?? "v1",
              kind: target.kind,
              namespace: target.namespace,
              name: target.name,
              ...(target.uid ? { uid: target.uid } : {}),
            },
            reason,
            message,
            type: "Warning",
            count: 1,
            firstTimestamp: now,
            lastTimestamp: now,
            source: { component },
            reportingComponent: component,
          },
        });
      } catch (err) {
        seen.delete(once);
        log.warn("cannot post an Event", {
          object: `${target.namespace}/${target.name}`,
          reason,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    },
  };
}

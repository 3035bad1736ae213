/**
 * The sandbox's trivial scheduler: every pod without `spec.nodeName` goes to the node
 * with the fewest pods (ties: the first in name order), by a merge patch of
 * `spec.nodeName` (the API emulator has no `binding` subresource).
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { KubeHttp } from "../k8s/http.ts";
import { httpListWatcher, Informer } from "../k8s/informer.ts";
import { findResource, type KubeObject } from "../k8s/resources.ts";

type Pod = KubeObject & { spec?: { nodeName?: string } };

const PODS = findResource("pods")!;

/**
 * Picks the least-loaded node.
 *
 * @param nodes candidate node names
 * @param load pods per node
 * @returns the node, or `undefined` when there is none
 */
export function pickNode(
  nodes: readonly string[],
  load: ReadonlyMap<string, number>,
): string | undefined {
  let best: string | undefined;
  for (const n of [...nodes].sort()) {
    if (best === undefined || (load.get(n) ?? 0) < (load.get(best) ?? 0)) best = n;
  }
  return best;
}

/** Assigns unscheduled pods to nodes. */
export class Scheduler {
  readonly #http: KubeHttp;
  readonly #nodes: readonly string[];
  readonly #log: Logger;
  /** Pods assigned by us whose patch may not be seen yet: key -> node. */
  readonly #pending = new Map<string, string>();
  #informer?: Informer<Pod>;

  /**
   * @param http API client
   * @param nodes node names
   * @param log logger
   */
  constructor(http: KubeHttp, nodes: readonly string[], log: Logger) {
    this.#http = http;
    this.#nodes = nodes;
    this.#log = log;
  }

  /**
   * Runs until `signal` aborts.
   *
   * @param signal stops it
   */
  async run(signal: AbortSignal): Promise<void> {
    const inf = new Informer<Pod>(httpListWatcher<Pod>(this.#http, PODS), {
      name: "scheduler",
      log: this.#log,
      handlers: {
        add: (p) => this.#schedule(p),
        update: (_o, p) => this.#schedule(p),
        delete: (p) => this.#pending.delete(`${p.metadata.namespace}/${p.metadata.name}`),
      },
    });
    this.#informer = inf;
    await inf.run(signal);
  }

  #load(): Map<string, number> {
    const load = new Map<string, number>();
    for (const p of this.#informer?.cache.list() ?? []) {
      const n = p.spec?.nodeName;
      if (n) load.set(n, (load.get(n) ?? 0) + 1);
    }
    for (const [key, n] of this.#pending) {
      if (this.#informer?.cache.get(key)?.spec?.nodeName) this.#pending.delete(key);
      else load.set(n, (load.get(n) ?? 0) + 1);
    }
    return load;
  }

  #schedule(p: Pod): void {
    if (p.spec?.nodeName || p.metadata.deletionTimestamp) return;
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    if (this.#pending.has(key)) return;
    const node = pickNode(this.#nodes, this.#load());
    if (!node) return;
    this.#pending.set(key, node);
    this.#http.request(
      "PATCH",
      `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`,
      {
        body: { spec: { nodeName: node } },
        contentType: "application/merge-patch+json",
      },
    ).then(
      () => this.#log.info("scheduled", { pod: key, node }),
      (err) => {
        this.#pending.delete(key);
        this.#log.warn("cannot schedule pod", { pod: key, err });
      },
    );
  }
}

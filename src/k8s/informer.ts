/**
 * A list+watch informer that does not go stale.
 *
 * - Lists, then watches from the list's resourceVersion with `allowWatchBookmarks`,
 *   following the resourceVersion of every event and bookmark.
 * - When the stream ends (server timeout) it re-watches from where it was; when the
 *   connection breaks or goes quiet for longer than `idleTimeoutMs` (a killed peer, a
 *   half-open connection) it re-watches after a capped exponential backoff.
 * - When the server says the resourceVersion is gone (`410 Gone`, or an `ERROR` event
 *   with code 410, also after an API server restart) it re-lists at once and emits
 *   exactly the differences with its cache as add/update/delete: nothing missed,
 *   nothing repeated. Other API errors on a watch re-list after the backoff.
 * - Watch events that the cache already has (same resourceVersion) are dropped.
 *
 * The transport is a {@linkcode ListWatcher}; {@linkcode httpListWatcher} is the real
 * one, tests may give their own.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { type CachedObject, IndexedCache, type Indexer, objectKey } from "./cache.ts";
import { K8sApiError, K8sGoneError } from "./errors.ts";
import type { KubeHttp } from "./http.ts";
import { apiVersionOf, collectionPath, type ResourceDef } from "./resources.ts";

/** One watch event. */
export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: T;
}

/** What an informer lists and watches through. */
export interface ListWatcher<T> {
  /** Lists every object; the resourceVersion is the list's. */
  list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Watches from a resourceVersion; ends when the server ends the stream.
   * Throws {@linkcode K8sGoneError} when the version is too old.
   */
  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

/** Callbacks of an informer; exceptions are logged, not propagated. */
export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** Options of {@linkcode Informer}. */
export interface InformerOptions<T> {
  /** Name for logs, e.g. `pods`. */
  name: string;
  /** Event callbacks. */
  handlers?: InformerHandlers<T>;
  /** Secondary indexes of the cache. */
  indexers?: Record<string, Indexer<T>>;
  /** Re-watch when nothing arrived for this long (default 60,000 ms). */
  idleTimeoutMs?: number;
  /** First retry delay (default 250 ms); doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Cap of the retry delay (default 10,000 ms). */
  maxBackoffMs?: number;
  /** Logger. */
  log?: Logger;
}

/** Counters of an informer, for status output and tests. */
export interface InformerStats {
  /** Lists done (the first, then one per re-list). */
  lists: number;
  /** Watches opened. */
  watches: number;
  /** Failed lists and watches. */
  failures: number;
  /** The last resourceVersion seen (list, event or bookmark). */
  resourceVersion: string;
  /** The message of the last failure, if any. */
  lastError?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A list+watch informer with an indexed cache. */
export class Informer<T extends CachedObject> {
  readonly #lw: ListWatcher<T>;
  readonly #opts: InformerOptions<T>;
  readonly #cache: IndexedCache<T>;
  #handlers: InformerHandlers<T>[] = [];
  #stats: InformerStats = { lists: 0, watches: 0, failures: 0, resourceVersion: "" };
  #synced: PromiseWithResolvers<void> = Promise.withResolvers();
  #running?: Promise<void>;

  /**
   * @param lw the list/watch transport
   * @param opts name, handlers, indexes, idle bound, backoff
   */
  constructor(lw: ListWatcher<T>, opts: InformerOptions<T>) {
    this.#lw = lw;
    this.#opts = opts;
    this.#cache = new IndexedCache(opts.indexers ?? {});
    if (opts.handlers) this.#handlers.push(opts.handlers);
  }

  /** The local cache (read-only use). */
  get cache(): IndexedCache<T> {
    return this.#cache;
  }

  /** Counters. */
  get stats(): Readonly<InformerStats> {
    return { ...this.#stats };
  }

  /** Resolves after the first list has been delivered. */
  get synced(): Promise<void> {
    return this.#synced.promise;
  }

  /**
   * Adds callbacks (for objects already cached, `add` is not replayed).
   *
   * @param h the callbacks
   */
  addHandlers(h: InformerHandlers<T>): void {
    this.#handlers.push(h);
  }

  #emit(kind: "add" | "update" | "delete", a: T, b?: T): void {
    for (const h of this.#handlers) {
      try {
        if (kind === "add") h.add?.(a);
        else if (kind === "update") h.update?.(a, b!);
        else h.delete?.(a);
      } catch (err) {
        this.#opts.log?.error("informer handler failed", {
          informer: this.#opts.name,
          kind,
          error: err,
        });
      }
    }
  }

  #replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.#cache.upsert(obj);
      if (!old) this.#emit("add", obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.#emit("update", old, obj);
      }
    }
    for (const key of this.#cache.keys()) {
      if (!seen.has(key)) this.#emit("delete", this.#cache.remove(key)!);
    }
  }

  #apply(ev: WatchEvent<T>): void {
    const obj = ev.object;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#stats.resourceVersion = rv;
    if (ev.type === "BOOKMARK") return;
    const key = objectKey(obj);
    if (ev.type === "DELETED") {
      const old = this.#cache.remove(key);
      if (old) this.#emit("delete", obj);
      return;
    }
    const cur = this.#cache.get(key);
    if (cur && cur.metadata?.resourceVersion === rv) return;
    this.#cache.upsert(obj);
    if (cur) this.#emit("update", cur, obj);
    else this.#emit("add", obj);
  }

  /**
   * Runs until the signal aborts: lists, watches, recovers. After the abort it returns
   * as soon as the list, watch or backoff in progress has been cancelled (no event is
   * applied after it), and leaves no request or timer behind.
   *
   * @param signal stops the informer
   * @returns resolves when stopped
   */
  run(signal: AbortSignal): Promise<void> {
    this.#running ??= this.#loop(signal);
    return this.#running;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const log = this.#opts.log;
    const name = this.#opts.name;
    const initial = this.#opts.initialBackoffMs ?? 250;
    const max = this.#opts.maxBackoffMs ?? 10_000;
    let backoff = initial;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          const { items, resourceVersion } = await this.#lw.list(signal);
          this.#stats.lists++;
          this.#replace(items);
          this.#stats.resourceVersion = resourceVersion;
          needList = false;
          this.#synced.resolve();
          log?.debug("listed", { informer: name, count: items.length, resourceVersion });
        }
        this.#stats.watches++;
        let events = 0;
        const started = performance.now();
        for await (const ev of this.#lw.watch(this.#stats.resourceVersion, signal)) {
          if (signal.aborted) break;
          this.#apply(ev);
          events++;
          backoff = initial;
        }
        // The server ended the stream (its timeout): resume at once, unless it ends
        // streams immediately, which would spin.
        if (events === 0 && performance.now() - started < 1000) {
          await sleep(backoff, signal);
          backoff = Math.min(max, backoff * 2);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof K8sGoneError) {
          log?.info("watch resourceVersion expired; re-listing", { informer: name, error: err });
          needList = true;
          continue;
        }
        this.#stats.failures++;
        this.#stats.lastError = err instanceof Error ? err.message : String(err);
        // The server refused the watch for another reason (e.g. a resourceVersion it
        // does not have yet after a restore: 504 "too large resource version"): only a
        // fresh list is sure to get back in step. Transport failures just re-watch.
        if (err instanceof K8sApiError) needList = true;
        log?.warn("list/watch failed; retrying", {
          informer: name,
          retryInMs: backoff,
          error: err,
        });
        await sleep(backoff, signal);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }
}

/** Options of {@linkcode httpListWatcher}. */
export interface HttpListWatchOptions<T> {
  /** Restrict to one namespace. */
  namespace?: string;
  /** `labelSelector` of list and watch. */
  labelSelector?: string;
  /** `fieldSelector` of list and watch (e.g. `spec.nodeName=node1`). */
  fieldSelector?: string;
  /** Idle bound of a watch stream (default 60,000 ms). */
  idleTimeoutMs?: number;
  /** Turns the JSON of an object into `T` (default: as is). */
  decode?: (raw: Record<string, unknown>) => T;
}

/**
 * The real {@linkcode ListWatcher}: lists and watches a resource over {@linkcode KubeHttp}.
 * Watches ask the server to end them after about ¾ of the idle bound, so a quiet but
 * healthy stream ends and is renewed before the idle bound declares it dead.
 *
 * @param http the transport
 * @param r the resource
 * @param opts namespace, selectors, idle bound, decoder
 * @returns the list/watcher
 */
export function httpListWatcher<T>(
  http: KubeHttp,
  r: ResourceDef,
  opts: HttpListWatchOptions<T> = {},
): ListWatcher<T> {
  const path = collectionPath(r, opts.namespace);
  const idle = opts.idleTimeoutMs ?? 60_000;
  const decode = opts.decode ?? ((raw) => raw as T);
  const selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  return {
    async list(signal) {
      const body = await http.request<
        { metadata?: { resourceVersion?: string }; items?: Record<string, unknown>[] }
      >(
        "GET",
        path,
        { query: selectors, signal },
      );
      const items = (body.items ?? []).map((o) =>
        decode({ apiVersion: apiVersionOf(r), kind: r.kind, ...o })
      );
      return { items, resourceVersion: body.metadata?.resourceVersion ?? "" };
    },
    async *watch(resourceVersion, signal) {
      const query = {
        ...selectors,
        resourceVersion,
        allowWatchBookmarks: "true",
        timeoutSeconds: String(Math.max(1, Math.floor((idle * 0.75) / 1000))),
      };
      try {
        for await (const ev of http.watch(path, query, { idleTimeoutMs: idle, signal })) {
          if (ev.type === "ERROR") {
            const s = ev.object as { code?: number; reason?: string; message?: string };
            if (s.code === 410) {
              throw new K8sGoneError(`Watch ${path}: ${s.message ?? "resourceVersion expired"}`);
            }
            throw new K8sApiError(
              s.code ?? 500,
              s.reason ?? "",
              `Watch ${path}: ${s.message ?? "error event"}`,
            );
          }
          if (
            ev.type !== "ADDED" && ev.type !== "MODIFIED" && ev.type !== "DELETED" &&
            ev.type !== "BOOKMARK"
          ) {
            continue;
          }
          yield {
            type: ev.type,
            object: ev.type === "BOOKMARK" ? ev.object as T : decode(ev.object),
          };
        }
      } catch (err) {
        if (err instanceof K8sApiError && err.code === 410 && !(err instanceof K8sGoneError)) {
          throw new K8sGoneError(err.message);
        }
        throw err;
      }
    },
  };
}

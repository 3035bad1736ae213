/**
 * The informer's local cache: objects by `namespace/name`, plus named secondary
 * indexes (pods by node name, objects by namespace).
 *
 * @module
 */
import { keyOf } from "./resources.ts";

/** What the cache needs from an object. */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** Computes the index values of an object. */
export type Indexer<T> = (obj: T) => readonly string[];

/** Index of objects by namespace. */
export function byNamespace(obj: CachedObject): string[] {
  return obj.metadata?.namespace ? [obj.metadata.namespace] : [];
}

/** Index of pods by `spec.nodeName`. */
export function byNodeName(obj: object): string[] {
  const node = (obj as { spec?: { nodeName?: unknown } }).spec?.nodeName;
  return typeof node === "string" && node ? [node] : [];
}

/**
 * The key of an object in the cache.
 *
 * @param obj the object
 * @returns `namespace/name` or `name`
 */
export function objectKey(obj: CachedObject): string {
  return keyOf(obj.metadata ?? {});
}

/** An indexed object cache. */
export class IndexedCache<T extends CachedObject> {
  #items = new Map<string, T>();
  #indexers: Record<string, Indexer<T>>;
  #indexes = new Map<string, Map<string, Set<string>>>();

  /** @param indexers named index functions */
  constructor(indexers: Record<string, Indexer<T>> = {}) {
    this.#indexers = indexers;
    for (const name of Object.keys(indexers)) this.#indexes.set(name, new Map());
  }

  /** Number of objects. */
  get size(): number {
    return this.#items.size;
  }

  /**
   * Reads an object.
   *
   * @param key `namespace/name` or `name`
   * @returns the object, or `undefined`
   */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** @returns every object */
  list(): T[] {
    return [...this.#items.values()];
  }

  /** @returns every key */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /**
   * Objects whose index `name` has `value`.
   *
   * @param name index name
   * @param value index value (e.g. a node name)
   * @returns the objects, in no particular order
   * @throws {RangeError} when no such index exists
   */
  byIndex(name: string, value: string): T[] {
    const idx = this.#indexes.get(name);
    if (!idx) {
      throw new RangeError(
        `Cannot query index "${name}": not one of ${[...this.#indexes.keys()].join(", ")}`,
      );
    }
    return [...(idx.get(value) ?? [])].map((k) => this.#items.get(k)!);
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        const set = idx.get(v);
        set?.delete(key);
        if (set?.size === 0) idx.delete(v);
      }
    }
  }

  /**
   * Inserts or replaces an object.
   *
   * @param obj the object
   * @returns the previous object under its key, if any
   */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        let set = idx.get(v);
        if (!set) idx.set(v, set = new Set());
        set.add(key);
      }
    }
    return old;
  }

  /**
   * Removes an object.
   *
   * @param key its key
   * @returns the removed object, if it was there
   */
  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old) {
      this.#unindex(key, old);
      this.#items.delete(key);
    }
    return old;
  }
}

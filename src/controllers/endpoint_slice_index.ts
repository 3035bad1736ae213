/**
 * EndpointSlices by the service they belong to (label `kubernetes.io/service-name`,
 * same namespace), kept from informer events, so a service's slices are found in O(1)
 * instead of scanning every slice of the namespace (10,000 services in one namespace
 * would make that quadratic).
 *
 * @module
 */
import type { EndpointSliceLike } from "./service_lbs.ts";

/** The label the EndpointSlice controller sets to the service's name. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * The service key (`namespace/name`) a slice belongs to.
 *
 * @param s the slice
 * @returns the key, or `undefined` when the slice has no service label
 */
export function sliceServiceKey(s: EndpointSliceLike): string | undefined {
  const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  const ns = s.metadata?.namespace;
  return svc && ns ? `${ns}/${svc}` : undefined;
}

/** EndpointSlices grouped by service. */
export class EndpointSliceIndex<T extends EndpointSliceLike = EndpointSliceLike> {
  #by = new Map<string, Map<string, T>>();

  /**
   * Adds or replaces a slice (an update that changed its service label moves it).
   *
   * @param slice the slice
   * @param old its previous version, on an update
   * @returns the service keys affected (old and new service)
   */
  upsert(slice: T, old?: T): string[] {
    const out = new Set<string>();
    if (old) { for (const k of this.remove(old)) out.add(k); }
    const key = sliceServiceKey(slice);
    if (key) {
      let m = this.#by.get(key);
      if (!m) this.#by.set(key, m = new Map());
      m.set(slice.metadata?.name ?? "", slice);
      out.add(key);
    }
    return [...out];
  }

  /**
   * Removes a slice.
   *
   * @param slice the slice
   * @returns the service key affected (empty when it had none)
   */
  remove(slice: T): string[] {
    const key = sliceServiceKey(slice);
    if (!key) return [];
    const m = this.#by.get(key);
    m?.delete(slice.metadata?.name ?? "");
    if (m?.size === 0) this.#by.delete(key);
    return [key];
  }

  /**
   * @param service `namespace/name`
   * @returns its slices, sorted by name
   */
  slicesOf(service: string): T[] {
    const m = this.#by.get(service);
    if (!m) return [];
    return [...m.keys()].sort().map((k) => m.get(k)!);
  }

  /**
   * @param service `namespace/name`
   * @returns whether the service has at least one slice
   */
  has(service: string): boolean {
    return this.#by.has(service);
  }
}

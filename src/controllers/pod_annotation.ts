/**
 * The pod annotation the watcher writes, in the original's key and format (reference
 * §10.3 step 5), so a CNI plugin written for the original keeps working:
 * `ovn: {"ip_address":"10.244.1.5/24","mac_address":"0a:58:0a:f4:01:05","gateway_ip":"10.244.1.1"}`.
 * Pure.
 *
 * @module
 */

/** The annotation key. */
export const POD_ANNOTATION_KEY = "ovn";

/** The content of the annotation. */
export interface PodNetworkAnnotation {
  /** Address with the node subnet's prefix length, e.g. `10.244.1.5/24`. */
  ip_address: string;
  /** Lower-case MAC. */
  mac_address: string;
  /** The node switch's router address, e.g. `10.244.1.1`. */
  gateway_ip: string;
}

/**
 * Renders the annotation value (a JSON string, keys in the original's order).
 *
 * @param a the content
 * @returns the value
 */
export function formatPodAnnotation(a: PodNetworkAnnotation): string {
  return JSON.stringify({
    ip_address: a.ip_address,
    mac_address: a.mac_address,
    gateway_ip: a.gateway_ip,
  });
}

/**
 * Parses an annotation value; also the original's pre-2017 Python dict repr.
 *
 * @param value the value
 * @returns the content, or `undefined` when it is not a usable annotation
 */
export function parsePodAnnotation(value: string | undefined): PodNetworkAnnotation | undefined {
  if (!value) return undefined;
  let text = value;
  if (/^\s*\{\s*u?'/.test(text)) {
    text = text.replace(/\bu?'([^'\\]*)'/g, (_m, s) => JSON.stringify(s));
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const { ip_address, mac_address, gateway_ip } = o;
    if (
      typeof ip_address !== "string" || typeof mac_address !== "string" ||
      typeof gateway_ip !== "string"
    ) {
      return undefined;
    }
    return { ip_address, mac_address: mac_address.toLowerCase(), gateway_ip };
  } catch {
    return undefined;
  }
}

/**
 * Whether a pod's current annotation value already says what `want` says (format
 * differences such as key order or spacing do not count).
 *
 * @param value the current value
 * @param want the desired content
 * @returns true when no write is needed
 */
export function podAnnotationMatches(
  value: string | undefined,
  want: PodNetworkAnnotation,
): boolean {
  const have = parsePodAnnotation(value);
  return have !== undefined && have.ip_address === want.ip_address &&
    have.mac_address === want.mac_address.toLowerCase() && have.gateway_ip === want.gateway_ip;
}

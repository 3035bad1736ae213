/**
 * The pod's `ovn` annotation, written by the watcher: a JSON string
 * `{"ip_address": "10.244.1.5/24", "mac_address": "0a:58:0a:f4:01:05",
 * "gateway_ip": "10.244.1.1"}`. Before September 2017 the original wrote a Python
 * dict repr (`{u'ip_address': u'...', ...}`); its readers accepted both, so do we.
 *
 * @module
 */
import { CniCode, CniError } from "./errors.ts";

/** The annotation key. */
export const OVN_ANNOTATION = "ovn";

/** A parsed `ovn` annotation. */
export interface PodNetwork {
  /** Address without prefix, e.g. `10.244.1.5`. */
  ip: string;
  /** Prefix length of the node subnet. */
  prefixLength: number;
  /** 4 or 6. */
  family: 4 | 6;
  /** Lower-case MAC, e.g. `0a:58:0a:f4:01:05`. */
  mac: string;
  /** The node switch's router address. */
  gateway: string;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Tells whether a string is a dotted-quad IPv4 address.
 *
 * @param s the text
 * @returns true for `a.b.c.d` with each part 0-255 and no leading zeros
 */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256);
}

/**
 * Tells whether a string is an IPv6 address (without zone or brackets).
 *
 * @param s the text
 * @returns true when it parses as IPv6
 */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Turns the Python dict repr of the pre-2017 original into JSON. */
function pythonReprToJson(text: string): string {
  return text.replace(/\bu?'([^'\\]*)'/g, (_m, s: string) => JSON.stringify(s));
}

/**
 * Parses the value of a pod's `ovn` annotation.
 *
 * @param value the annotation value
 * @param pod `namespace/name`, for error messages
 * @returns the pod's address, MAC and gateway
 * @throws {CniError} code 102 naming the pod and the bad field
 */
export function parseOvnAnnotation(value: string, pod: string): PodNetwork {
  const bad = (why: string) =>
    new CniError(
      CniCode.BadAnnotation,
      `Cannot use the "ovn" annotation of pod ${pod}: ${why}`,
      { details: `annotation value: ${value.slice(0, 300)}` },
    );
  let o: unknown;
  try {
    o = JSON.parse(
      value.trimStart().startsWith("{'") || value.includes("u'") ? pythonReprToJson(value) : value,
    );
  } catch {
    throw bad("not JSON");
  }
  if (typeof o !== "object" || o === null) throw bad("not a JSON object");
  const rec = o as Record<string, unknown>;
  const cidr = rec.ip_address;
  const mac = rec.mac_address;
  const gw = rec.gateway_ip;
  if (typeof cidr !== "string") throw bad('"ip_address" is missing');
  if (typeof mac !== "string") throw bad('"mac_address" is missing');
  if (typeof gw !== "string") throw bad('"gateway_ip" is missing');
  const slash = cidr.indexOf("/");
  const ip = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : 0;
  if (family === 0) throw bad(`"ip_address" ${JSON.stringify(cidr)} is not an IP address`);
  const max = family === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : cidr.slice(slash + 1);
  const prefixLength = Number(lenText);
  if (!/^\d{1,3}$/.test(lenText) || prefixLength > max) {
    throw bad(`"ip_address" ${JSON.stringify(cidr)} has a bad prefix length`);
  }
  const macLower = mac.toLowerCase();
  if (!MAC_RE.test(macLower)) throw bad(`"mac_address" ${JSON.stringify(mac)} is not a MAC`);
  if (family === 4 ? !isIPv4(gw) : !isIPv6(gw)) {
    throw bad(`"gateway_ip" ${JSON.stringify(gw)} is not an IPv${family} address`);
  }
  return { ip, prefixLength, family, mac: macLower, gateway: gw };
}

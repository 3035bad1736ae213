/**
 * The IPv4 address of a logical switch port, fast: a restart reads the address of
 * every port in NB (50,000 of them) to rebuild the pod address allocators, and the
 * generic parse (`portMacIp` then `parseIpv4`: array spreads, regular-expression
 * splits and tests) cost ~4 µs a port, most of the repair time. Ports written by the
 * watcher carry exactly one canonical `"MAC IP"` address; those are read here with a
 * character scan, anything else goes the generic way, with the same result.
 *
 * @module
 */
import { parseIpv4 } from "../net/mod.ts";
import { type PodPortRow, portMacIp } from "../ovn/pod_ops.ts";

const COLON = 0x3a, DOT = 0x2e, SPACE = 0x20, ZERO = 0x30, NINE = 0x39;

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** `"xx:xx:xx:xx:xx:xx a.b.c.d"` exactly, strict octets; else undefined. */
function canonical(a: string): number | undefined {
  if (a.length < 25 || a.length > 33 || a.charCodeAt(17) !== SPACE) return undefined;
  for (let i = 0; i < 17; i++) {
    const c = a.charCodeAt(i);
    if (i % 3 === 2 ? c !== COLON : !isHex(c)) return undefined;
  }
  let ip = 0, octet = 0, digits = 0, dots = 0;
  for (let i = 18; i <= a.length; i++) {
    const c = i === a.length ? DOT : a.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || octet > 255) return undefined;
      ip = ip * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= ZERO && c <= NINE) {
      if (digits === 1 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (c - ZERO);
      digits++;
    } else return undefined;
  }
  return dots === 4 ? ip : undefined;
}

/**
 * The IPv4 address of a port: its static address, else northd's dynamic one, as
 * `parseIpv4(portMacIp(port).ip)` gives it.
 *
 * @param port the port's addresses
 * @returns the address as a number, or `undefined`
 */
export function portIpv4(
  port: Pick<PodPortRow, "addresses" | "dynamic_addresses">,
): number | undefined {
  const first = port.addresses[0];
  if (first !== undefined) {
    const ip = canonical(first);
    if (ip !== undefined) return ip;
  }
  const a = portMacIp(port);
  return a ? parseIpv4(a.ip) : undefined;
}

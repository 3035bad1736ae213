/**
 * IPv4 addresses as unsigned 32-bit numbers: strict parsing (dotted quad, no leading
 * zeros, no shorthand forms) and formatting.
 *
 * @module
 */

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Parses a dotted-quad IPv4 address strictly (`10.0.0.1`; not `10.1`, `010.0.0.1`).
 *
 * @param text the address
 * @returns the address as an unsigned 32-bit number, or `undefined` when not an IPv4 address
 */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/**
 * Formats an unsigned 32-bit number as a dotted quad.
 *
 * @param n the address
 * @returns e.g. `192.168.1.2`
 * @throws {RangeError} when `n` is not an integer in [0, 2^32)
 */
export function formatIpv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`Cannot format ${n} as an IPv4 address: out of range`);
  }
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * Whether a string is a strict dotted-quad IPv4 address.
 *
 * @param text candidate
 * @returns true for `A.B.C.D`
 */
export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

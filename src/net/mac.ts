/**
 * Ethernet MAC addresses: parsing to the canonical lowercase form and the address
 * derived from an IPv4 address (`0a:58:` + the four octets, as the OVN Kubernetes
 * successor does), so a re-created port gets the same MAC.
 *
 * @module
 */

/**
 * Parses a MAC address (`aa:bb:cc:dd:ee:ff` or with `-`, any case).
 *
 * @param text candidate
 * @returns the canonical lowercase, colon-separated form, or `undefined`
 */
export function parseMac(text: string): string | undefined {
  const m =
    /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/
      .exec(text.trim());
  if (!m) return undefined;
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(":").toLowerCase();
}

/**
 * The locally administered unicast MAC derived from an IPv4 address: `0a:58:a:b:c:d`.
 *
 * @param ip the address as an unsigned 32-bit number
 * @returns e.g. `0a:58:c0:a8:01:02` for 192.168.1.2
 */
export function macFromIpv4(ip: number): string {
  const b = [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return ["0a", "58", ...b.map((x) => x.toString(16).padStart(2, "0"))].join(":");
}

/**
 * Whether a MAC is usable as a port address: unicast and not all zeros.
 *
 * @param mac canonical MAC
 * @returns true when usable
 */
export function isUsableMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return mac !== "00:00:00:00:00:00" && (first & 1) === 0;
}

/**
 * Names the plugin derives: the host end of the veth, the OVN logical port, the host
 * end's MAC. All are deterministic, so DEL and CHECK find what ADD made without
 * state on disk.
 *
 * @module
 */

/** 64-bit FNV-1a of a string, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/**
 * The host end of a pod's veth: the first 15 characters of the container id, as the
 * original plugin named it (so DEL also cleans up pods it set up), when the id is at
 * least 15 safe characters; otherwise `veth` + 11 hex digits of a hash of the id.
 *
 * @param containerId `CNI_CONTAINERID`
 * @returns an interface name of at most 15 characters
 */
export function hostVethName(containerId: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]{14,}$/.test(containerId)) return containerId.slice(0, 15);
  return `veth${fnv1a64(containerId).slice(0, 11)}`;
}

/**
 * A locally administered unicast MAC for the host end, derived from the container id.
 *
 * @param containerId `CNI_CONTAINERID`
 * @returns e.g. `0e:12:34:56:78:9a`
 */
export function hostVethMac(containerId: string): string {
  const hex = fnv1a64(`mac:${containerId}`);
  const bytes = Array.from({ length: 6 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * The OVN logical switch port of a pod, as the watcher names it: `<namespace>_<pod>`.
 *
 * @param namespace pod namespace
 * @param name pod name
 * @returns the `iface-id`
 */
export function podIfaceId(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

/**
 * Linux network interface names: at most 15 bytes (IFNAMSIZ 16 with the NUL), no `/`,
 * no whitespace, no `:`, not `.` or `..`.
 *
 * @module
 */

/** Longest interface name Linux accepts (IFNAMSIZ - 1). */
export const MAX_IFNAME_LENGTH = 15;

/**
 * Checks an interface name.
 *
 * @param name candidate name
 * @returns why it is not valid, or `undefined` when it is
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_IFNAME_LENGTH) {
    return `it is ${bytes} bytes long and Linux allows at most ${MAX_IFNAME_LENGTH}`;
  }
  if (name === "." || name === "..") return "it is a path component";
  if (/[\s/:]/.test(name)) return "it contains whitespace, '/' or ':'";
  return undefined;
}

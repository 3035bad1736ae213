/**
 * CNI protocol versions: which ones we speak, how they compare, and the VERSION
 * command's answer.
 *
 * @module
 */
import { CniCode, CniError } from "./errors.ts";

/** Every CNI version this plugin accepts in a network configuration, oldest first. */
export const SUPPORTED_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"] as const;

/** The newest version we speak: used for VERSION and for errors before the config is read. */
export const LATEST_VERSION = "1.0.0";

/**
 * Compares two `x.y.z` versions.
 *
 * @param a first version
 * @param b second version
 * @returns negative, zero or positive as `a` is older than, equal to or newer than `b`
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Checks that a configuration's `cniVersion` is one we speak.
 *
 * @param version the `cniVersion` of the network configuration
 * @throws {CniError} code 1 when the version is not supported
 */
export function assertSupportedVersion(version: string): void {
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `Cannot use cniVersion "${version}": incompatible CNI versions`,
      { details: `config is "${version}", plugin supports ${SUPPORTED_VERSIONS.join(", ")}` },
    );
  }
}

/**
 * The VERSION command's answer.
 *
 * @param cniVersion the `cniVersion` of the configuration on stdin, if any
 * @returns `{cniVersion, supportedVersions}`
 */
export function versionInfo(cniVersion = LATEST_VERSION): {
  cniVersion: string;
  supportedVersions: string[];
} {
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

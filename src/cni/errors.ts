/**
 * CNI errors: the spec's well-known codes and the error JSON the plugin prints on
 * stdout. Codes 1-99 are the spec's; 100 and up are ours (the original plugin used
 * 100 for everything and 106 for a failed OVS plug; we keep those two meanings).
 *
 * @module
 */

/** Error codes of the CNI specification 1.0 ("Error" section) and ours (>= 100). */
export const CniCode = {
  /** Incompatible CNI version. */
  IncompatibleVersion: 1,
  /** Unsupported field in the network configuration. */
  UnsupportedField: 2,
  /** Container unknown or does not exist. */
  UnknownContainer: 3,
  /** Invalid necessary environment variables, like CNI_COMMAND or CNI_CONTAINERID. */
  InvalidEnvironment: 4,
  /** I/O failure. */
  IoFailure: 5,
  /** Failed to decode content (the network configuration is not JSON). */
  DecodingFailure: 6,
  /** Invalid network configuration. */
  InvalidConfig: 7,
  /** Try again later: a transient condition (annotation or ovn-installed not there yet). */
  TryAgainLater: 11,
  /** Interface setup failed (veth, address, route): the original plugin's generic code. */
  SetupFailure: 100,
  /** The Kubernetes API server could not be reached or answered with an error. */
  ApiFailure: 101,
  /** The pod's `ovn` annotation is present but malformed. */
  BadAnnotation: 102,
  /** CHECK found the live state different from the previous result. */
  CheckMismatch: 103,
  /** Plugging the host side into the integration bridge failed (as the original's 106). */
  PlugFailure: 106,
} as const;

/** One of {@linkcode CniCode}'s values. */
export type CniCodeValue = typeof CniCode[keyof typeof CniCode];

/** An error that the plugin reports as CNI error JSON. */
export class CniError extends Error {
  override name = "CniError";
  /**
   * @param code the CNI error code
   * @param message `msg`: what failed, naming the input and the fix
   * @param options `details` (longer text) and `cause`
   */
  constructor(
    readonly code: number,
    message: string,
    options: { details?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }
  /** The spec's `details` field, when there is one. */
  readonly details: string | undefined;
}

/** The error object of the CNI specification. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/**
 * Turns anything thrown into the spec's error object. Errors that are not a
 * {@linkcode CniError} get code 100 and their message; the cause chain goes to `details`.
 *
 * @param err anything thrown
 * @param cniVersion the version to report (the config's, or the newest we support)
 * @returns the error object to print
 */
export function toErrorJson(err: unknown, cniVersion: string): CniErrorJson {
  const code = err instanceof CniError ? err.code : CniCode.SetupFailure;
  const msg = err instanceof Error ? err.message : String(err);
  let details = err instanceof CniError ? err.details : undefined;
  const causes: string[] = [];
  for (
    let c = err instanceof Error ? err.cause : undefined;
    c !== undefined && causes.length < 5;
    c = c instanceof Error ? c.cause : undefined
  ) {
    const text = c instanceof Error ? c.message : String(c);
    // Messages usually quote their cause already: keep details free of repeats.
    if (![msg, details ?? "", ...causes].some((t) => t.includes(text))) causes.push(text);
  }
  if (causes.length) details = [details, ...causes].filter(Boolean).join(": ");
  return { cniVersion, code, msg, ...(details ? { details } : {}) };
}

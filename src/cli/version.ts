/**
 * The ovn-k8s version.
 *
 * @module
 */

/** Semantic version of this build. */
export const VERSION = "0.1.0";

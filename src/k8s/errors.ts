/**
 * Errors of the Kubernetes client that callers branch on.
 *
 * @module
 */

/** The API server answered with an error status (from its `Status` body). */
export class K8sApiError extends Error {
  override name = "K8sApiError";
  /**
   * @param code HTTP status code
   * @param reason the Status `reason` (`NotFound`, `Conflict`, `Expired`, `Unauthorized`, ...)
   * @param message the whole message, starting with the action
   * @param options `cause`
   */
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The watch's resourceVersion is gone from the server's history: re-list. */
export class K8sGoneError extends K8sApiError {
  override name = "K8sGoneError";
  /**
   * @param message what expired
   */
  constructor(message: string) {
    super(410, "Expired", message);
  }
}

/** Nothing (not even a bookmark) arrived on a watch for longer than its idle bound. */
export class K8sIdleTimeoutError extends Error {
  override name = "K8sIdleTimeoutError";
}

/**
 * True when an error is the API server's 404.
 *
 * @param err anything thrown
 * @returns whether it is a NotFound
 */
export function isNotFound(err: unknown): boolean {
  return err instanceof K8sApiError && err.code === 404;
}

/**
 * True when an error is the API server's 409 (conflict or already exists).
 *
 * @param err anything thrown
 * @returns whether it is a conflict
 */
export function isConflict(err: unknown): boolean {
  return err instanceof K8sApiError && err.code === 409;
}

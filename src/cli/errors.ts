/**
 * Error classes that map to exit codes.
 *
 * @module
 */

/**
 * Bad input from the operator: the message names the input and the fix; exit 2,
 * and nothing was written.
 */
export class ValidationError extends Error {
  override name = "ValidationError";
  /** The exit code for validation failures. */
  readonly exitCode = 2;
}

/** Wrong command line: the caller prints usage and exits 2. */
export class UsageError extends ValidationError {
  override name = "UsageError";
  /**
   * @param message what is wrong with the command line
   * @param usage the usage text of the command
   */
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

/**
 * The exit code an error maps to: 2 for validation/usage errors, 1 otherwise.
 *
 * @param err anything thrown
 * @returns the process exit code
 */
export function exitCodeOf(err: unknown): number {
  return err instanceof ValidationError ? 2 : 1;
}

/**
 * The one error class of the OVSDB client. Callers branch on {@linkcode OvsdbError.kind}.
 *
 * @module
 */

/** What went wrong, for callers that branch. */
export type OvsdbErrorKind =
  /** An operation of a transaction failed (`index` names it), or the commit failed. */
  | "operation"
  /** The server answered a request with a JSON-RPC error. */
  | "rpc"
  /** A request got no answer in time (the transaction was then canceled). */
  | "timeout"
  /** The connection was lost or closed before the answer came. */
  | "disconnected"
  /** The server's schema lacks a table or column the caller uses. */
  | "schema"
  /** The server sent bytes that are not a valid JSON-RPC message. */
  | "protocol"
  /** No remote could be reached (or none was the leader) in time. */
  | "connect";

/** Options of {@linkcode OvsdbError}. */
export interface OvsdbErrorOptions {
  /** Index of the failed operation in the transaction (commit errors: `ops.length`). */
  index?: number;
  /** The server's short error string, e.g. `constraint violation`. */
  error?: string;
  /** The server's details, if any. */
  details?: string;
  /** The failed operation as sent, in the caller's notation. */
  operation?: unknown;
  /** Underlying cause. */
  cause?: unknown;
}

/** An OVSDB failure: a failed operation, an RPC error, a timeout, a lost connection... */
export class OvsdbError extends Error {
  override name = "OvsdbError";
  /** What went wrong. */
  readonly kind: OvsdbErrorKind;
  /** Index of the failed operation (kind `operation`). */
  readonly index: number | undefined;
  /** The server's error string (kinds `operation`, `rpc`). */
  readonly error: string | undefined;
  /** The server's details string. */
  readonly details: string | undefined;
  /** The failed operation, when known. */
  readonly operation: unknown;

  /**
   * @param kind what went wrong
   * @param message human-readable message (starts with the action)
   * @param opts index, server error, details, cause
   */
  constructor(kind: OvsdbErrorKind, message: string, opts: OvsdbErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.index = opts.index;
    this.error = opts.error;
    this.details = opts.details;
    this.operation = opts.operation;
  }
}

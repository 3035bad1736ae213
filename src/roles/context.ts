/**
 * What every role's entry point receives from main.ts.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/** Read-only view of the environment. */
export type EnvReader = (name: string) => string | undefined;

/** Shared inputs of a role. */
export interface RoleContext {
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Environment lookup (injected for tests). */
  env: EnvReader;
  /** Root logger. */
  log: Logger;
  /** Writes to stdout. */
  stdout: (text: string) => void;
  /** The original program name the binary was started under, if any. */
  invokedAs?: string;
}

/** A role's entry point: its arguments (after the subcommand) in, exit code out. */
export type RoleMain = (args: string[], ctx: RoleContext) => Promise<number>;

/**
 * Command-line plumbing: strict option parsing, usage, exit codes, program-name aliases.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./parse.ts";
export * from "./program_name.ts";
export * from "./version.ts";

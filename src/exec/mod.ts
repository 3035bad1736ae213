/**
 * Process execution through an injectable {@linkcode Runner}.
 *
 * @module
 */
export * from "./runner.ts";

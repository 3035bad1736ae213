/**
 * Structured logging and the sanctioned stdout writer.
 *
 * @module
 */
export * from "./logger.ts";

/**
 * The parts the watcher runs, in order (repair runs in this order too). Shared file:
 * each controller's owner adds one import and one entry, nothing else.
 *
 * @module
 */
import type { WatcherPart } from "./watcher.ts";

/** Tuning of the parts (all optional; defaults suit production). */
export interface PartsOptions {
  /** Largest batch of keys per transaction (default 500). */
  batchSize?: number;
  /** Concurrent pod annotation patches (default 32). */
  annotateConcurrency?: number;
}

/**
 * Builds the watcher's parts.
 *
 * @param opts tuning
 * @returns the parts, in repair and run order
 */
export function watcherParts(opts: PartsOptions = {}): WatcherPart[] {
  void opts;
  return [];
}

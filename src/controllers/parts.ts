/**
 * The parts the watcher runs, in order (repair runs in this order too). Shared file:
 * each controller's owner adds one import and one entry, nothing else.
 *
 * @module
 */
import { NodeController } from "./node_controller.ts";
import { PodController } from "./pod_controller.ts";
import { servicesPart } from "./service_controller.ts";
import type { WatcherPart } from "./watcher.ts";

/** Tuning of the parts (all optional; defaults suit production). */
export interface PartsOptions {
  /** Largest batch of keys per transaction (default 500). */
  batchSize?: number;
  /** Concurrent pod annotation patches (default 32). */
  annotateConcurrency?: number;
  /** Retries of a failing key before it waits for its next event (default 10). */
  maxRetries?: number;
}

/**
 * Builds the watcher's parts.
 *
 * @param opts tuning
 * @returns the parts, in repair and run order
 */
export function watcherParts(opts: PartsOptions = {}): WatcherPart[] {
  const pods = new PodController({
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
    ...(opts.annotateConcurrency ? { annotateConcurrency: opts.annotateConcurrency } : {}),
    ...(opts.maxRetries ? { maxRetries: opts.maxRetries } : {}),
  });
  const services = servicesPart({
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
    ...(opts.maxRetries ? { maxRetries: opts.maxRetries } : {}),
  });
  return [pods.part, new NodeController().part, services];
}

/**
 * An undo stack: ADD registers how to undo each step as it makes it; on failure the
 * steps are undone newest first. Undo failures are logged, never thrown, so the
 * original error reaches the runtime.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/** Undo steps of one operation. */
export class Rollback {
  #steps: { what: string; undo: () => Promise<unknown> }[] = [];
  #log: Logger;

  /** @param log where failed undo steps are reported */
  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Registers an undo step.
   *
   * @param what description for the log
   * @param undo the step; must be idempotent (it may run after a partial do)
   */
  push(what: string, undo: () => Promise<unknown>): void {
    this.#steps.push({ what, undo });
  }

  /** How many steps are registered. */
  get size(): number {
    return this.#steps.length;
  }

  /** Runs every step, newest first, and forgets them. */
  async undo(): Promise<void> {
    for (const s of this.#steps.reverse()) {
      try {
        await s.undo();
        this.#log.info("rolled back", { step: s.what });
      } catch (err) {
        this.#log.error("rollback step failed", { step: s.what, error: err });
      }
    }
    this.#steps = [];
  }
}

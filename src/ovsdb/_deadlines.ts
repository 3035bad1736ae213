/**
 * Many request timeouts on one timer. A `setTimeout`/`clearTimeout` pair costs about
 * 5 µs here, as much as the rest of a pipelined transaction on the client; one coarse
 * sweep (every `resolutionMs` while anything is pending) costs nearly nothing. Timeouts
 * fire up to `resolutionMs` late, which is fine for request deadlines.
 *
 * @module
 */

/** A registered deadline. */
export interface Deadline {
  /** `performance.now()` value at which it expires. */
  at: number;
  /** Called once when it expires (not after {@linkcode Deadlines.remove}). */
  onExpire: () => void;
}

/** A set of deadlines checked by one periodic timer. */
export class Deadlines {
  #entries = new Set<Deadline>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolution: number;

  /** @param resolutionMs sweep period */
  constructor(resolutionMs = 25) {
    this.#resolution = resolutionMs;
  }

  /**
   * Registers a deadline.
   *
   * @param ms time from now
   * @param onExpire called when it passes
   * @returns the entry, for {@linkcode remove}
   */
  add(ms: number, onExpire: () => void): Deadline {
    const d = { at: performance.now() + Math.max(0, ms), onExpire };
    this.#entries.add(d);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#sweep(), Math.min(this.#resolution, Math.max(0, ms)));
    }
    return d;
  }

  /**
   * Forgets a deadline.
   *
   * @param d the entry
   */
  remove(d: Deadline): void {
    this.#entries.delete(d);
    if (this.#entries.size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Number of pending deadlines. */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const d of this.#entries) {
      if (d.at <= now) {
        this.#entries.delete(d);
        d.onExpire();
      } else if (d.at < next) next = d.at;
    }
    if (this.#entries.size > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(
        () => this.#sweep(),
        Math.min(this.#resolution, Math.max(0, next - now)),
      );
    }
  }
}

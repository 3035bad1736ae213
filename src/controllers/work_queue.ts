/**
 * A keyed, de-duplicating work queue with capped retries and backoff (STYLE habit 4),
 * in the spirit of client-go's rate-limited workqueue:
 *
 * - a key is queued at most once; adding a key that is being processed marks it
 *   dirty, and it is queued again when its worker calls {@linkcode WorkQueue.done};
 *   so one key is never processed by two workers at once and no change is lost;
 * - {@linkcode WorkQueue.take} hands out up to N keys at once (a batch: the caller
 *   builds the operations of all of them and commits one transaction);
 * - {@linkcode WorkQueue.retry} re-adds a failed key after an exponential backoff
 *   (`baseDelayMs` doubling up to `maxDelayMs`) and gives up after `maxRetries`
 *   (the caller logs it and leaves the key to the next event or resync).
 *
 * Pure in-process state and timers; no I/O.
 *
 * @module
 */

/** Options of {@linkcode WorkQueue}. */
export interface WorkQueueOptions {
  /** Name for logs and metrics, e.g. `pods`. */
  name: string;
  /** Attempts after the first failure before giving up (default 8). */
  maxRetries?: number;
  /** First retry delay (default 50 ms). */
  baseDelayMs?: number;
  /** Longest retry delay (default 10,000 ms). */
  maxDelayMs?: number;
}

/** A keyed, de-duplicating work queue. */
export class WorkQueue<K = string> {
  /** Name for logs and metrics. */
  readonly name: string;
  readonly #maxRetries: number;
  readonly #base: number;
  readonly #max: number;
  #queue: K[] = [];
  #head = 0;
  #queued = new Set<K>();
  #processing = new Set<K>();
  #dirty = new Set<K>();
  #failures = new Map<K, number>();
  #timers = new Map<K, ReturnType<typeof setTimeout>>();
  #waiters: (() => void)[] = [];
  #shutdown = false;
  #added = 0;
  #retries = 0;
  #givenUp = 0;

  /** @param opts name, retry cap and backoff */
  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.#maxRetries = opts.maxRetries ?? 8;
    this.#base = opts.baseDelayMs ?? 50;
    this.#max = opts.maxDelayMs ?? 10_000;
  }

  /** Keys waiting to be taken (not counting keys waiting for a retry timer). */
  get depth(): number {
    return this.#queue.length - this.#head;
  }

  /** Keys being processed. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** Keys waiting for a retry timer. */
  get delayed(): number {
    return this.#timers.size;
  }

  /** Counters: keys added (after de-duplication), retries scheduled, keys given up. */
  get stats(): { added: number; retries: number; givenUp: number } {
    return { added: this.#added, retries: this.#retries, givenUp: this.#givenUp };
  }

  /** True when nothing is queued, delayed or in flight. */
  get idle(): boolean {
    return this.depth === 0 && this.#processing.size === 0 && this.#timers.size === 0;
  }

  /**
   * Queues a key (no-op when already queued; marks it dirty when in flight).
   *
   * @param key the key
   */
  add(key: K): void {
    if (this.#shutdown) return;
    const t = this.#timers.get(key);
    if (t !== undefined) {
      clearTimeout(t);
      this.#timers.delete(key);
    }
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#added++;
    const w = this.#waiters.shift();
    w?.();
  }

  /**
   * Queues a key after a delay (replaces an earlier delayed add of the same key).
   *
   * @param key the key
   * @param ms delay
   */
  addAfter(key: K, ms: number): void {
    if (this.#shutdown) return;
    if (ms <= 0) return this.add(key);
    const old = this.#timers.get(key);
    if (old !== undefined) clearTimeout(old);
    const t = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    this.#timers.set(key, t);
  }

  /**
   * Takes up to `max` keys, waiting until at least one is queued.
   *
   * @param max largest batch
   * @param signal stops waiting (resolves with an empty batch)
   * @returns the keys, now in flight; empty when the queue shut down or `signal` aborted
   */
  async take(max: number, signal?: AbortSignal): Promise<K[]> {
    while (this.depth === 0) {
      if (this.#shutdown || signal?.aborted) return [];
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener("abort", done);
          const i = this.#waiters.indexOf(done);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve();
        };
        this.#waiters.push(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
    const out: K[] = [];
    while (out.length < max && this.#head < this.#queue.length) {
      const k = this.#queue[this.#head++]!;
      this.#queued.delete(k);
      this.#processing.add(k);
      out.push(k);
    }
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    // Wake another waiter if keys remain (several workers).
    if (this.depth > 0) this.#waiters.shift()?.();
    return out;
  }

  /**
   * Marks a key processed; a key added meanwhile is queued again.
   *
   * @param key the key
   */
  done(key: K): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /**
   * Forgets a key's failure count (call after a success).
   *
   * @param key the key
   */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  /**
   * Schedules a retry of a failed key with backoff, unless it failed too often. Call
   * before {@linkcode done}.
   *
   * @param key the key
   * @returns the attempt number scheduled, or `undefined` when the key is given up
   */
  retry(key: K): number | undefined {
    const n = (this.#failures.get(key) ?? 0) + 1;
    if (n > this.#maxRetries) {
      this.#failures.delete(key);
      this.#givenUp++;
      return undefined;
    }
    this.#failures.set(key, n);
    this.#retries++;
    // A key that was added again meanwhile will run again anyway; still back off.
    this.#dirty.delete(key);
    this.addAfter(key, this.backoffMs(n));
    return n;
  }

  /**
   * The delay before attempt `n` (1-based).
   *
   * @param n attempt number
   * @returns milliseconds
   */
  backoffMs(n: number): number {
    return Math.min(this.#max, this.#base * 2 ** (n - 1));
  }

  /**
   * How many times a key failed in a row.
   *
   * @param key the key
   * @returns the count
   */
  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Stops the queue: waiters get empty batches, timers are cleared. */
  shutdown(): void {
    this.#shutdown = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#waiters.splice(0)) w();
  }
}

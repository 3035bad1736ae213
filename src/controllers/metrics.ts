/**
 * A small Prometheus registry: counters, gauges (set or computed when scraped) and
 * histograms with labels, rendered in the text exposition format (version 0.0.4).
 * Pure; the HTTP side is `metrics_server.ts`.
 *
 * @module
 */

/** Label values by label name. */
export type Labels = Record<string, string>;

/** Default histogram buckets, in seconds (1 ms .. 30 s). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

function labelKey(labels: Labels | undefined): string {
  if (!labels) return "";
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",");
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function num(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

/** A monotonically increasing counter. */
export class Counter implements Metric {
  readonly type = "counter";
  #values = new Map<string, number>();
  /** @internal */
  constructor(readonly name: string, readonly help: string) {}
  /**
   * Adds to the counter.
   *
   * @param labels label values
   * @param by amount (default 1)
   */
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  /**
   * @param labels label values
   * @returns the current value
   */
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  /** @internal */
  render(): string[] {
    return [...this.#values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${num(v)}`);
  }
}

/** A value that goes up and down, set directly or computed at scrape time. */
export class Gauge implements Metric {
  readonly type = "gauge";
  #values = new Map<string, number>();
  #collectors: (() => [Labels | undefined, number][])[] = [];
  /** @internal */
  constructor(readonly name: string, readonly help: string) {}
  /**
   * Sets the gauge.
   *
   * @param value the value
   * @param labels label values
   */
  set(value: number, labels?: Labels): void {
    this.#values.set(labelKey(labels), value);
  }
  /**
   * Computes values when scraped.
   *
   * @param fn returns `[labels, value]` pairs
   */
  collect(fn: () => [Labels | undefined, number][]): void {
    this.#collectors.push(fn);
  }
  /**
   * @param labels label values
   * @returns the set value (collectors not consulted)
   */
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  /** @internal */
  render(): string[] {
    const vals = new Map(this.#values);
    for (const c of this.#collectors) {
      for (const [l, v] of c()) vals.set(labelKey(l), v);
    }
    return [...vals].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${num(v)}`);
  }
}

interface HistState {
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram of observations (seconds, by convention). */
export class Histogram implements Metric {
  readonly type = "histogram";
  #buckets: readonly number[];
  #values = new Map<string, HistState>();
  /** @internal */
  constructor(readonly name: string, readonly help: string, buckets: readonly number[]) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }
  /**
   * Records an observation.
   *
   * @param value the value
   * @param labels label values
   */
  observe(value: number, labels?: Labels): void {
    const k = labelKey(labels);
    let s = this.#values.get(k);
    if (!s) this.#values.set(k, s = { counts: this.#buckets.map(() => 0), sum: 0, count: 0 });
    for (let i = 0; i < this.#buckets.length; i++) if (value <= this.#buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  /**
   * @param labels label values
   * @returns observation count and sum
   */
  get(labels?: Labels): { count: number; sum: number } {
    const s = this.#values.get(labelKey(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }
  /** @internal */
  render(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.#values) {
      const lb = (extra: string) => `{${k ? `${k},` : ""}${extra}}`;
      this.#buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${lb(`le="${num(b)}"`)} ${s.counts[i]}`)
      );
      out.push(`${this.name}_bucket${lb('le="+Inf"')} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ""} ${num(s.sum)}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return out;
  }
}

/** A set of metrics rendered together. */
export class MetricsRegistry {
  #metrics = new Map<string, Metric>();

  #add<M extends Metric>(m: M): M {
    const old = this.#metrics.get(m.name);
    if (old) {
      if (old.type !== m.type) {
        throw new TypeError(`Cannot register metric ${m.name} as ${m.type}: it is a ${old.type}`);
      }
      return old as M;
    }
    this.#metrics.set(m.name, m);
    return m;
  }

  /**
   * Registers (or returns the existing) counter.
   *
   * @param name metric name (`ovnk8s_..._total`)
   * @param help help line
   * @returns the counter
   */
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  /**
   * Registers (or returns the existing) gauge.
   *
   * @param name metric name
   * @param help help line
   * @returns the gauge
   */
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  /**
   * Registers (or returns the existing) histogram.
   *
   * @param name metric name (`..._seconds`)
   * @param help help line
   * @param buckets upper bounds (default {@linkcode DEFAULT_BUCKETS})
   * @returns the histogram
   */
  histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** @returns the Prometheus text exposition of every metric, sorted by name */
  render(): string {
    const lines: string[] = [];
    for (const name of [...this.#metrics.keys()].sort()) {
      const m = this.#metrics.get(name)!;
      lines.push(`# HELP ${name} ${m.help.replaceAll("\n", " ")}`, `# TYPE ${name} ${m.type}`);
      lines.push(...m.render());
    }
    return lines.join("\n") + "\n";
  }
}

/**
 * The controllers' only way to write NB: transactions counted and timed for
 * `/metrics` (and for tests that prove "zero writes"), and {@linkcode NbWriter.commitGroups}
 * which commits the operations of many keys in ONE transaction and, when the server
 * rejects it, bisects so that the good keys still commit and each bad key is isolated.
 * A group is all the operations of one key (one pod), so a transaction never leaves
 * half a pod: a group commits whole or not at all.
 *
 * @module
 */
import { type Operation, type OperationResult, OvsdbError } from "../ovsdb/mod.ts";
import type { MetricsRegistry } from "./metrics.ts";

/** What the writer needs from an OVSDB client. */
export interface Transactor {
  transact(ops: readonly Operation[], opts?: { timeoutMs?: number }): Promise<OperationResult[]>;
}

/** The operations of one key. */
export interface OpGroup<K = string> {
  /** The key (e.g. `namespace/pod`). */
  key: K;
  /** Its operations; uuid-names must be unique across the groups of one commit. */
  ops: Operation[];
}

/** The outcome of {@linkcode NbWriter.commitGroups}. */
export interface GroupResults<K = string> {
  /** Keys whose operations committed, with their operation results. */
  committed: Map<K, OperationResult[]>;
  /** Keys whose operations did not commit, with the error. */
  failed: Map<K, unknown>;
}

/** Options of {@linkcode NbWriter.commitGroups}. */
export interface CommitGroupsOptions {
  /**
   * Rewrites the operations of each attempt before sending (e.g. `coalesceSetMutations`
   * from `src/ovn`); the committed keys then get empty result lists.
   */
  transform?: (ops: Operation[]) => Operation[];
}

/** Counts and times NB transactions. */
export class NbWriter {
  readonly #db: Transactor;
  readonly #timeoutMs: number;
  readonly #txns;
  readonly #ops;
  readonly #duration;
  #writes = 0;

  /**
   * @param db the NB client
   * @param metrics where counters go
   * @param timeoutMs bound of one transaction (default 30,000 ms)
   */
  constructor(db: Transactor, metrics: MetricsRegistry, timeoutMs = 30_000) {
    this.#db = db;
    this.#timeoutMs = timeoutMs;
    this.#txns = metrics.counter(
      "ovnk8s_nb_transactions_total",
      "NB transactions sent by the watcher, by controller and result (ok, error)",
    );
    this.#ops = metrics.counter(
      "ovnk8s_nb_operations_total",
      "NB operations sent by the watcher in committed transactions, by controller",
    );
    this.#duration = metrics.histogram(
      "ovnk8s_nb_transaction_duration_seconds",
      "Duration of NB transactions, by controller",
    );
  }

  /** Transactions sent so far (all controllers, any result). */
  get transactions(): number {
    return this.#writes;
  }

  /**
   * Runs one transaction, counted and timed.
   *
   * @param controller who writes (a metric label)
   * @param ops the operations (an empty list sends nothing)
   * @returns the results
   * @throws {OvsdbError} as `OvsdbClient.transact`
   */
  async transact(controller: string, ops: readonly Operation[]): Promise<OperationResult[]> {
    if (ops.length === 0) return [];
    const t0 = performance.now();
    this.#writes++;
    try {
      const r = await this.#db.transact(ops, { timeoutMs: this.#timeoutMs });
      this.#txns.inc({ controller, result: "ok" });
      this.#ops.inc({ controller }, ops.length);
      return r;
    } catch (err) {
      this.#txns.inc({ controller, result: "error" });
      throw err;
    } finally {
      this.#duration.observe((performance.now() - t0) / 1000, { controller });
    }
  }

  /**
   * Commits the groups of many keys in one transaction; when the server rejects an
   * operation, splits the groups in halves and retries each half, down to single
   * groups, so that one bad key does not block the others. Connection errors
   * (`disconnected`, `timeout`) fail every group of the attempt: the caller retries
   * them (after a reconnect the cache tells what committed).
   *
   * @param controller who writes (a metric label)
   * @param groups operations by key; groups without operations count as committed
   * @param opts a transform of each attempt's operations
   * @returns committed and failed keys
   */
  async commitGroups<K>(
    controller: string,
    groups: readonly OpGroup<K>[],
    opts: CommitGroupsOptions = {},
  ): Promise<GroupResults<K>> {
    const out: GroupResults<K> = { committed: new Map(), failed: new Map() };
    const nonEmpty: OpGroup<K>[] = [];
    for (const g of groups) {
      if (g.ops.length === 0) out.committed.set(g.key, []);
      else nonEmpty.push(g);
    }
    await this.#commit(controller, nonEmpty, out, opts.transform);
    return out;
  }

  async #commit<K>(
    controller: string,
    groups: OpGroup<K>[],
    out: GroupResults<K>,
    transform: ((ops: Operation[]) => Operation[]) | undefined,
  ): Promise<void> {
    if (groups.length === 0) return;
    const flat = groups.flatMap((g) => g.ops);
    const ops = transform ? transform(flat) : flat;
    try {
      const results = await this.transact(controller, ops);
      let i = 0;
      for (const g of groups) {
        out.committed.set(g.key, transform ? [] : results.slice(i, i + g.ops.length));
        i += g.ops.length;
      }
    } catch (err) {
      const deterministic = err instanceof OvsdbError &&
        (err.kind === "operation" || err.kind === "schema");
      if (!deterministic || groups.length === 1) {
        for (const g of groups) out.failed.set(g.key, err);
        return;
      }
      const mid = groups.length >> 1;
      await this.#commit(controller, groups.slice(0, mid), out, transform);
      await this.#commit(controller, groups.slice(mid), out, transform);
    }
  }
}

/**
 * The monitor-fed in-memory replica: rows by table and uuid, change events, and the
 * resynchronisation that turns a fresh monitor reply into the differences against what
 * the cache held (after a reconnect). Reads come from here; writes are transactions.
 *
 * Rows are plain objects in the notation of `notation.ts`, each with `_uuid`. They are
 * replaced, never changed in place, so an `old` row given to a listener stays valid.
 * Do not mutate them.
 *
 * @module
 */
import { OvsdbError } from "./errors.ts";
import { applyDiff, type Row, rowFromWire, valuesEqual } from "./notation.ts";
import type { DatabaseSchema } from "./schema.ts";

/** A row in the cache. */
export type CachedRow = Row & { _uuid: string };

/** One change of one row. `old` is undefined for an insert, `new` for a delete. */
export interface RowChange<R = CachedRow, T extends string = string> {
  /** Table name. */
  table: T;
  /** Row uuid. */
  uuid: string;
  /** What kind of change. */
  kind: "insert" | "update" | "delete";
  /** The row before. */
  old: R | undefined;
  /** The row after. */
  new: R | undefined;
}

/** A change of any table of `S`, narrowed by `change.table`. */
export type TableChange<S> = { [T in keyof S & string]: RowChange<S[T], T> }[keyof S & string];

/** Listener of {@linkcode OvsdbCache.on}. */
export type ChangeListener = (change: RowChange<unknown>) => void;

/** Rows of one table, by uuid. */
export class TableCache<R> {
  /** @internal */
  readonly rowsByUuid: Map<string, R> = new Map();

  /** Table name. */
  readonly name: string;

  /** @param name table name */
  constructor(name: string) {
    this.name = name;
  }

  /** Number of rows. */
  get size(): number {
    return this.rowsByUuid.size;
  }

  /**
   * @param uuid row uuid
   * @returns the row, or undefined
   */
  get(uuid: string): R | undefined {
    return this.rowsByUuid.get(uuid);
  }

  /** @returns all rows (a new array) */
  all(): R[] {
    return [...this.rowsByUuid.values()];
  }

  /**
   * @param pred test
   * @returns the first row that passes, or undefined
   */
  find(pred: (row: R) => boolean): R | undefined {
    for (const r of this.rowsByUuid.values()) if (pred(r)) return r;
    return undefined;
  }

  /**
   * @param pred test
   * @returns every row that passes
   */
  filter(pred: (row: R) => boolean): R[] {
    const out: R[] = [];
    for (const r of this.rowsByUuid.values()) if (pred(r)) out.push(r);
    return out;
  }

  /**
   * Finds the first row whose column equals a value (sets/maps compared as values).
   *
   * @param column column name
   * @param value plain value
   * @returns the row, or undefined
   */
  findBy<C extends keyof R & string>(column: C, value: R[C]): R | undefined {
    return this.find((r) => valuesEqual(r[column], value));
  }

  /** Iterates the rows. */
  [Symbol.iterator](): IterableIterator<R> {
    return this.rowsByUuid.values();
  }
}

/** Options of {@linkcode OvsdbCache.waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Give up when aborted. */
  signal?: AbortSignal;
}

/**
 * Tables of one database, fed by monitors. `S` maps table names to row types (the
 * generated models export such maps).
 */
export class OvsdbCache<S = Record<string, CachedRow>> {
  #tables = new Map<string, TableCache<unknown>>();
  #listeners = new Set<ChangeListener>();
  /** During a direct initial load (see `resync`): its tables and the changes held back. */
  #loading: { tables: Set<string>; changes: RowChange[] } | undefined;
  #onListenerError: (err: unknown) => void;

  /** @param onListenerError where exceptions thrown by listeners go */
  constructor(onListenerError: (err: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /**
   * The rows of a table (empty if the table is not monitored).
   *
   * @param name table name
   * @returns the table's cache
   */
  table<T extends keyof S & string>(name: T): TableCache<S[T]> {
    let t = this.#tables.get(name);
    if (!t) {
      t = new TableCache(name);
      this.#tables.set(name, t);
    }
    return t as TableCache<S[T]>;
  }

  /**
   * Listens to row changes (after each batch from the server is applied in full, so a
   * listener sees a consistent cache).
   *
   * @param event `"change"`
   * @param listener called once per changed row
   * @returns a function that removes the listener
   */
  on(event: "change", listener: (change: TableChange<S>) => void): () => void {
    if (event !== "change") throw new TypeError(`Cannot listen to "${event}": unknown event`);
    const l = listener as unknown as ChangeListener;
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /**
   * Listens to the row changes of one table.
   *
   * @param table table name
   * @param listener called once per changed row of that table
   * @returns a function that removes the listener
   */
  onTable<T extends keyof S & string>(
    table: T,
    listener: (change: RowChange<S[T], T>) => void,
  ): () => void {
    return this.on("change", (c) => {
      if (c.table === table) listener(c as RowChange<S[T], T>);
    });
  }

  /**
   * Waits until a row of a table passes a test (checks the cache at once, then on every
   * change of that table).
   *
   * @param table table name
   * @param pred test
   * @param opts timeout and signal
   * @returns the row
   * @throws {OvsdbError} kind `timeout`, or the signal's reason
   */
  waitFor<T extends keyof S & string>(
    table: T,
    pred: (row: S[T]) => boolean,
    opts: WaitForOptions = {},
  ): Promise<S[T]> {
    const now = this.table(table).find(pred);
    if (now !== undefined) return Promise.resolve(now);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const done = () => {
        off();
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const off = this.onTable(table, (c) => {
        if (c.new !== undefined && pred(c.new)) {
          done();
          resolve(c.new);
        }
      });
      const timer = setTimeout(() => {
        done();
        reject(
          new OvsdbError("timeout", `Cannot find the awaited ${table} row in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onAbort = () => {
        done();
        reject(opts.signal?.reason);
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #emit(changes: RowChange[]): void {
    if (this.#loading) {
      for (const c of changes) this.#loading.changes.push(c);
      return;
    }
    for (const c of changes) {
      for (const l of this.#listeners) {
        try {
          l(c);
        } catch (err) {
          this.#onListenerError(err);
        }
      }
    }
  }

  #rows(table: string): Map<string, CachedRow> {
    return (this.table(table as keyof S & string) as unknown as TableCache<CachedRow>)
      .rowsByUuid;
  }

  /**
   * Applies `<table-updates2>` (update2/update3, monitor_cond replies) and emits changes.
   *
   * @internal used by the client
   * @param schema database schema
   * @param updates the wire object
   * @param columns monitored columns by table (defaults are filled for them)
   */
  applyUpdates2(
    schema: DatabaseSchema,
    updates: unknown,
    columns: ReadonlyMap<string, readonly string[]>,
  ): void {
    const changes: RowChange[] = [];
    for (const [table, rows] of entriesOf(updates, "table-updates2")) {
      const ts = schema.tables[table];
      if (!ts || (this.#loading && !this.#loading.tables.has(table))) continue;
      const map = this.#rows(table);
      const cols = columns.get(table) ?? Object.keys(ts.columns);
      const byUuid = objectOf(rows, `${table} updates`);
      for (const uuid in byUuid) {
        const u = byUuid[uuid] as Record<string, unknown>;
        const old = map.get(uuid);
        if ("initial" in u || "insert" in u) {
          const row = rowFromWire(u.initial ?? u.insert, ts, table, cols) as CachedRow;
          row._uuid = uuid;
          map.set(uuid, row);
          changes.push({ table, uuid, kind: old ? "update" : "insert", old, new: row });
        } else if ("delete" in u) {
          if (!old) continue;
          map.delete(uuid);
          changes.push({ table, uuid, kind: "delete", old, new: undefined });
        } else if ("modify" in u) {
          const base: CachedRow = old ?? { ...rowFromWire({}, ts, table, cols), _uuid: uuid };
          const row: CachedRow = { ...base };
          for (const [col, diff] of entriesOf(u.modify, `${table} modify`)) {
            const cs = ts.columns[col];
            if (cs) row[col] = applyDiff(base[col], diff, cs.type, `${table}.${col}`);
          }
          map.set(uuid, row);
          changes.push({ table, uuid, kind: old ? "update" : "insert", old, new: row });
        }
      }
    }
    this.#emit(changes);
  }

  /**
   * Applies RFC 7047 `<table-updates>` (update notifications, monitor replies).
   *
   * @internal used by the client
   * @param schema database schema
   * @param updates the wire object
   * @param columns monitored columns by table
   */
  applyUpdates(
    schema: DatabaseSchema,
    updates: unknown,
    columns: ReadonlyMap<string, readonly string[]>,
  ): void {
    const changes: RowChange[] = [];
    for (const [table, rows] of entriesOf(updates, "table-updates")) {
      const ts = schema.tables[table];
      if (!ts || (this.#loading && !this.#loading.tables.has(table))) continue;
      const map = this.#rows(table);
      const cols = columns.get(table) ?? Object.keys(ts.columns);
      const byUuid = objectOf(rows, `${table} updates`);
      for (const uuid in byUuid) {
        const u = byUuid[uuid] as { old?: unknown; new?: unknown };
        const old = map.get(uuid);
        if (u.new === undefined) {
          if (!old) continue;
          map.delete(uuid);
          changes.push({ table, uuid, kind: "delete", old, new: undefined });
          continue;
        }
        const fresh = rowFromWire(u.new, ts, table, old ? undefined : cols);
        const row = { ...(old ?? {}), ...fresh, _uuid: uuid } as CachedRow;
        map.set(uuid, row);
        changes.push({ table, uuid, kind: old ? "update" : "insert", old, new: row });
      }
    }
    this.#emit(changes);
  }

  /**
   * Replaces whole tables with a fresh state (a monitor reply) and emits only the
   * differences: rows gone, rows new, rows changed.
   *
   * When all the tables are empty (the first monitor reply), the state is loaded straight
   * into them: no scratch cache, no comparison. The changes are the same as the
   * comparison would give (an insert per row, table by table in the order of `tables`,
   * rows in reply order), emitted once the load is complete; a failed load leaves the
   * tables empty.
   *
   * @internal used by the client
   * @param tables the tables the monitor covers
   * @param apply fills an empty cache with the fresh state (only these tables are kept)
   */
  resync(tables: readonly string[], apply: (scratch: OvsdbCache<S>) => void): void {
    if (this.#loading === undefined && tables.every((t) => this.#rows(t).size === 0)) {
      this.#load(tables, apply);
      return;
    }
    const scratch = new OvsdbCache<S>();
    apply(scratch);
    const changes: RowChange[] = [];
    for (const table of tables) {
      const cur = this.#rows(table);
      const next = scratch.#rows(table);
      for (const [uuid, old] of cur) {
        if (!next.has(uuid)) changes.push({ table, uuid, kind: "delete", old, new: undefined });
      }
      for (const [uuid, row] of next) {
        const old = cur.get(uuid);
        if (!old) changes.push({ table, uuid, kind: "insert", old, new: row });
        else if (!valuesEqual(old, row)) {
          changes.push({ table, uuid, kind: "update", old, new: row });
        } else next.set(uuid, old); // keep identity for unchanged rows
      }
      cur.clear();
      for (const [uuid, row] of next) cur.set(uuid, row);
    }
    this.#emit(changes);
  }

  #load(tables: readonly string[], apply: (into: OvsdbCache<S>) => void): void {
    const loading = { tables: new Set(tables), changes: [] as RowChange[] };
    this.#loading = loading;
    try {
      apply(this);
    } catch (err) {
      this.clear(tables);
      throw err;
    } finally {
      this.#loading = undefined;
    }
    let changes = loading.changes;
    if (tables.length > 1) {
      const byTable = new Map<string, RowChange[]>(tables.map((t) => [t, []]));
      for (const c of changes) byTable.get(c.table)?.push(c);
      changes = [...byTable.values()].flat();
    }
    this.#emit(changes);
  }

  /**
   * Drops tables (a monitor was canceled).
   *
   * @internal used by the client
   * @param tables table names
   */
  clear(tables: readonly string[]): void {
    for (const t of tables) this.#rows(t).clear();
  }
}

function objectOf(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new OvsdbError("protocol", `Cannot read ${what}: ${JSON.stringify(v)} is not an object`);
  }
  return v as Record<string, unknown>;
}

function entriesOf(v: unknown, what: string): [string, unknown][] {
  return Object.entries(objectOf(v, what));
}

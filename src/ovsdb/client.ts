/**
 * The OVSDB client: one persistent session to the best of a list of remotes, a
 * monitor-fed cache, transactions, locks; reconnects by itself.
 *
 * Design notes:
 * - Leader preference (like ovsdb-cs): on each connection we monitor the `_Server`
 *   database's `Database` row of our database. A clustered server that is not connected
 *   to its cluster, or (with `leaderOnly`, the default) not the leader, is skipped, and a
 *   session whose server stops being the leader is dropped so that we find the new one.
 * - Reconnect: the remotes are tried in turn; after a full round without success we wait
 *   (100 ms doubling up to `maxBackoffMs`, with jitter). On each new session every
 *   monitor is re-issued; with `monitor_cond_since` and a known transaction id the
 *   server sends only what we missed, otherwise the fresh state replaces the cache and
 *   only the differences are emitted (`OvsdbCache.resync`).
 * - Stream order: a monitor's reply is applied where it stands in the stream (an
 *   `RpcSession` `onResult` hook), never after the updates the server sent behind it;
 *   the server sends the initial rows first, then every later change of those rows.
 *   A reply that comes after its monitor was given up (timeout, abort) is dropped and
 *   the server-side monitor canceled.
 * - Requests made while disconnected wait for the next session (within their timeout);
 *   requests in flight when a session dies fail with kind `disconnected` (a transaction
 *   may or may not have committed, so it is never resent blindly).
 *
 * @module
 */
import { Deadlines } from "./_deadlines.ts";
import { type CachedRow, OvsdbCache } from "./cache.ts";
import { OvsdbError } from "./errors.ts";
import { ZERO_UUID } from "./notation.ts";
import {
  type Condition,
  decodeResults,
  encodeOperation,
  encodeWhere,
  type Operation,
  type OperationResult,
} from "./operations.ts";
import { openRemote, parseRemotes, type Remote, type TlsOptions } from "./remote.ts";
import { type OvsdbLogger, RpcSession } from "./rpc.ts";
import {
  checkSchema,
  columnType,
  type DatabaseSchema,
  parseSchema,
  type SchemaExpectation,
  tableSchema,
} from "./schema.ts";

/** Options of {@linkcode OvsdbClient.connect}. */
export interface ConnectOptions {
  /** `tcp:H:P`, `ssl:H:P`, `unix:PATH`, comma-separated (or an array) for clusters. */
  remotes: string | readonly string[];
  /** Database name, e.g. `OVN_Northbound`. */
  database: string;
  /** Certificates for `ssl:` remotes (PEM texts). */
  tls?: TlsOptions;
  /** How long `connect` waits for a first usable server (default 30 s). */
  timeoutMs?: number;
  /** Default timeout of each request (default 60 s). */
  requestTimeoutMs?: number;
  /** Aborting closes the client. */
  signal?: AbortSignal;
  /** Where connection events are logged (default: nowhere). */
  logger?: OvsdbLogger;
  /** Only use the leader of a clustered database (default true, as ovn-nbctl). */
  leaderOnly?: boolean;
  /** Send an echo after this much silence, drop the connection after twice (default 5 s; 0 off). */
  probeIntervalMs?: number;
  /** Longest wait between reconnection rounds (default 8 s). */
  maxBackoffMs?: number;
  /** Tables and columns the caller relies on; connecting fails clearly if any is missing. */
  expect?: SchemaExpectation;
}

/** Options of one request. */
export interface RequestOptions {
  /** Give up after this long (default: the client's `requestTimeoutMs`). */
  timeoutMs?: number;
  /** Give up when aborted (a transaction is then canceled). */
  signal?: AbortSignal;
}

/** Options of {@linkcode OvsdbClient.monitor}. */
export interface MonitorOptions extends RequestOptions {
  /**
   * Protocol to start with (default `monitor_cond_since`; an older server makes the
   * client fall back to `monitor_cond`, then `monitor`).
   */
  method?: "monitor_cond_since" | "monitor_cond" | "monitor";
}

/** What to monitor in one table. */
export type TableMonitor<R> =
  | true
  | readonly (keyof R & string)[]
  | {
    /** Columns (default all). */
    columns?: readonly (keyof R & string)[];
    /** Only rows matching any of these (monitor_cond). */
    where?: readonly Condition<R>[];
  };

/** What to monitor: table name -> `true` (all columns), a column list, or columns + where. */
export type MonitorSpec<S> = { [T in keyof S & string]?: TableMonitor<S[T]> };

/** A running monitor. */
export interface Monitor {
  /** The monitor's id on the wire. */
  readonly id: string;
  /** Tables it covers. */
  readonly tables: readonly string[];
  /** Which method the server accepted. */
  readonly method: "monitor_cond_since" | "monitor_cond" | "monitor";
  /** Stops it (`monitor_cancel`) and empties its tables in the cache. */
  cancel(): Promise<void>;
}

/** Events of {@linkcode OvsdbClient.on}. */
export interface ClientEvents {
  /** A session is up (monitors re-issued, cache in sync): the remote's text. */
  connect: (remote: string) => void;
  /** A session ended: why. */
  disconnect: (reason: OvsdbError) => void;
  /** A lock requested with `lock` was granted later. */
  locked: (lockId: string) => void;
  /** A lock we held was stolen by another client. */
  stolen: (lockId: string) => void;
}

interface MonitorState {
  id: string;
  spec: Record<string, TableMonitor<Record<string, unknown>>>;
  tables: string[];
  columns: Map<string, string[]>;
  method: "monitor_cond_since" | "monitor_cond" | "monitor";
  lastTxnId: string;
  synced: boolean;
}

interface Waiter {
  resolve: (s: RpcSession) => void;
  reject: (e: unknown) => void;
}

const SERVER_MONITOR_ID = "_Server";
const noopLogger: OvsdbLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * An OVSDB client for one database. `S` maps table names to row types (see the
 * generated models); rows in {@linkcode OvsdbClient.cache} have those types.
 */
export class OvsdbClient<S = Record<string, CachedRow>> implements AsyncDisposable {
  /** The monitor-fed replica: reads come from here. */
  readonly cache: OvsdbCache<S>;
  /** Database name. */
  readonly database: string;

  #opts: ConnectOptions;
  #log: OvsdbLogger;
  #remotes: Remote[];
  #next = 0;
  #session: RpcSession | undefined;
  #remote: Remote | undefined;
  #schema: DatabaseSchema | undefined;
  #monitors = new Map<string, MonitorState>();
  #monitorSeq = 0;
  #locks = new Set<string>();
  #waiters = new Set<Waiter>();
  #listeners = new Map<keyof ClientEvents, Set<(...a: never[]) => void>>();
  #closed = false;
  #closeAc = new AbortController();
  #fatal: OvsdbError | undefined;
  #lastError: OvsdbError | undefined;
  #noSince = false;
  #serverRow: Record<string, unknown> = {};
  #leaderLost = false;
  #deadlines = new Deadlines();

  private constructor(opts: ConnectOptions) {
    this.#opts = opts;
    this.database = opts.database;
    this.#log = opts.logger ?? noopLogger;
    this.#remotes = parseRemotes(opts.remotes);
    this.cache = new OvsdbCache<S>((err) =>
      this.#log.error("ovsdb: cache listener failed", { err: String(err) })
    );
  }

  /**
   * Connects to the first usable server of a remote list and keeps a session up until
   * {@linkcode close}. Needs `--allow-net` (unix sockets: also read/write on the path).
   *
   * @param opts remotes, database, TLS, timeouts, logger
   * @returns a connected client (schema fetched and checked)
   * @throws {OvsdbError} kind `connect` when no server is usable within `timeoutMs`,
   *   kind `schema` when the server lacks what `expect` lists
   * @throws {TypeError} for a malformed remote
   */
  static async connect<S = Record<string, CachedRow>>(
    opts: ConnectOptions,
  ): Promise<OvsdbClient<S>> {
    const client = new OvsdbClient<S>(opts);
    if (opts.signal) {
      if (opts.signal.aborted) throw opts.signal.reason;
      opts.signal.addEventListener("abort", () => client.close(), { once: true });
    }
    client.#run();
    try {
      await client.#ready(opts.timeoutMs ?? 30_000, opts.signal, "connect");
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** The current server's schema (the last one fetched). */
  get schema(): DatabaseSchema {
    if (!this.#schema) {
      throw new OvsdbError("disconnected", "Cannot read the schema: never connected");
    }
    return this.#schema;
  }

  /** Whether a session is up. */
  get connected(): boolean {
    return this.#session !== undefined && !this.#session.isClosed;
  }

  /** The remote of the current session, e.g. `tcp:127.0.0.1:6641`. */
  get remote(): string | undefined {
    return this.connected ? this.#remote?.text : undefined;
  }

  /**
   * Listens to client events.
   *
   * @param event `connect`, `disconnect`, `locked` or `stolen`
   * @param listener handler
   * @returns a function that removes the listener
   */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  #emit<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const l of this.#listeners.get(event) ?? []) {
      try {
        (l as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.#log.error("ovsdb: event listener failed", { event, err: String(err) });
      }
    }
  }

  /**
   * Runs a transaction (RFC 7047 §4.1.3).
   *
   * @param operations operations in plain notation (see `ops()`)
   * @param opts timeout and signal; on either the transaction is canceled (`cancel`)
   * @returns one result per operation (insert: `uuid`; update/mutate/delete: `count`;
   *   select: `rows`)
   * @throws {OvsdbError} kind `operation` with the failed operation's `index`, `error` and
   *   `details`; `schema` for unknown tables/columns or ill-typed values (nothing sent);
   *   `timeout`; `disconnected` (may or may not have committed)
   */
  async transact(
    operations: readonly Operation[],
    opts: RequestOptions = {},
  ): Promise<OperationResult[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.#opts.requestTimeoutMs ?? 60_000);
    const session = await this.#ready(deadline - Date.now(), opts.signal, "transact");
    const schema = this.#schema!;
    const wire = operations.map((o) => encodeOperation(schema, o));
    let id: number | undefined;
    const p = session.request("transact", [this.database, ...wire], { onId: (i) => id = i });
    const result = await this.#bounded(p, deadline - Date.now(), opts.signal, "transact", () => {
      if (id !== undefined) session.notify("cancel", [id]);
    });
    return decodeResults(schema, operations, result);
  }

  /**
   * Sends any request to the current session (escape hatch: `list_dbs`, `get_schema`,
   * `get_server_id`...).
   *
   * @param method JSON-RPC method
   * @param params params array
   * @param opts timeout and signal
   * @returns the raw result
   * @throws {OvsdbError} kind `rpc`, `timeout` or `disconnected`
   */
  async request(method: string, params: unknown, opts: RequestOptions = {}): Promise<unknown> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.#opts.requestTimeoutMs ?? 60_000);
    const session = await this.#ready(deadline - Date.now(), opts.signal, method);
    return await this.#bounded(
      session.request(method, params),
      deadline - Date.now(),
      opts.signal,
      method,
    );
  }

  /**
   * Lists the databases of the current server.
   *
   * @param opts timeout and signal
   * @returns database names
   */
  async listDbs(opts: RequestOptions = {}): Promise<string[]> {
    return await this.request("list_dbs", [], opts) as string[];
  }

  /**
   * Fetches and parses a database schema.
   *
   * @param database name (default this client's)
   * @param opts timeout and signal
   * @returns the schema
   */
  async getSchema(database = this.database, opts: RequestOptions = {}): Promise<DatabaseSchema> {
    return parseSchema(await this.request("get_schema", [database], opts));
  }

  /**
   * Round-trips an `echo` (a liveness check).
   *
   * @param opts timeout and signal
   * @returns the echoed params
   */
  async echo(opts: RequestOptions = {}): Promise<unknown> {
    return await this.request("echo", ["ovn-k8s"], opts);
  }

  /**
   * Requests a lock (RFC 7047 §4.1.8). If not granted now, the `locked` event fires when
   * it is. Held locks are requested again after a reconnect.
   *
   * @param lockId lock name
   * @param opts timeout and signal
   * @returns whether the lock is held now
   */
  async lock(lockId: string, opts: RequestOptions = {}): Promise<boolean> {
    this.#locks.add(lockId);
    const r = await this.request("lock", [lockId], opts) as { locked?: boolean };
    return r.locked === true;
  }

  /**
   * Takes a lock from whoever holds it (RFC 7047 §4.1.9).
   *
   * @param lockId lock name
   * @param opts timeout and signal
   * @returns true (stealing always succeeds)
   */
  async steal(lockId: string, opts: RequestOptions = {}): Promise<boolean> {
    this.#locks.add(lockId);
    const r = await this.request("steal", [lockId], opts) as { locked?: boolean };
    return r.locked === true;
  }

  /**
   * Releases (or stops waiting for) a lock (RFC 7047 §4.1.10).
   *
   * @param lockId lock name
   * @param opts timeout and signal
   */
  async unlock(lockId: string, opts: RequestOptions = {}): Promise<void> {
    this.#locks.delete(lockId);
    await this.request("unlock", [lockId], opts);
  }

  /**
   * Monitors tables into {@linkcode cache}: uses `monitor_cond_since` when the server has
   * it (cheap reconnects), else `monitor_cond`, else `monitor`. Resolves once the initial
   * rows are in the cache (their `insert` change events have fired).
   *
   * @param spec table -> `true` | columns | `{columns, where}`
   * @param opts timeout, signal, and the protocol to start with
   * @returns the monitor handle
   * @throws {OvsdbError} kind `schema` for unknown tables/columns; `rpc`, `timeout`
   * @throws {TypeError} when a table is already monitored by this client
   */
  async monitor(spec: MonitorSpec<S>, opts: MonitorOptions = {}): Promise<Monitor> {
    const raw = spec as Record<string, TableMonitor<Record<string, unknown>>>;
    const tables = Object.keys(raw).filter((t) => raw[t] !== undefined);
    if (tables.length === 0) throw new TypeError("Cannot monitor: no table given");
    for (const m of this.#monitors.values()) {
      const dup = tables.find((t) => m.tables.includes(t));
      if (dup) throw new TypeError(`Cannot monitor ${dup}: already monitored (monitor ${m.id})`);
    }
    const state: MonitorState = {
      id: `m${++this.#monitorSeq}`,
      spec: raw,
      tables,
      columns: new Map(),
      method: opts.method ?? (this.#noSince ? "monitor_cond" : "monitor_cond_since"),
      lastTxnId: ZERO_UUID,
      synced: false,
    };
    const deadline = Date.now() + (opts.timeoutMs ?? this.#opts.requestTimeoutMs ?? 60_000);
    for (;;) {
      const session = await this.#ready(deadline - Date.now(), opts.signal, "monitor");
      if (state.synced) break; // a reconnect re-issued it meanwhile
      this.#monitors.set(state.id, state);
      try {
        await this.#bounded(
          this.#startMonitor(session, state),
          deadline - Date.now(),
          opts.signal,
          "monitor",
        );
        break;
      } catch (err) {
        // A session lost during the request re-issues the monitor itself on reconnect.
        if (err instanceof OvsdbError && err.kind === "disconnected" && !this.#closed) continue;
        this.#monitors.delete(state.id);
        throw err;
      }
    }
    return {
      id: state.id,
      tables,
      get method() {
        return state.method;
      },
      cancel: async () => {
        if (!this.#monitors.delete(state.id)) return;
        this.cache.clear(tables);
        const s = this.#session;
        if (s && !s.isClosed) await s.request("monitor_cancel", [state.id]).catch(() => {});
      },
    };
  }

  /** Closes the session and stops reconnecting. Pending requests fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeAc.abort();
    const err = new OvsdbError(
      "disconnected",
      `Cannot use OVSDB client for ${this.database}: closed`,
    );
    this.#session?.close(err);
    for (const w of this.#waiters) w.reject(err);
    this.#waiters.clear();
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // ---- internals -------------------------------------------------------------------

  #ready(timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<RpcSession> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#closed) {
      return Promise.reject(
        new OvsdbError(
          "disconnected",
          `Cannot ${what}: OVSDB client for ${this.database} is closed`,
        ),
      );
    }
    const s = this.#session;
    if (s && !s.isClosed) return Promise.resolve(s);
    let waiter!: Waiter;
    const p = new Promise<RpcSession>((resolve, reject) => waiter = { resolve, reject });
    this.#waiters.add(waiter);
    return this.#bounded(p, timeoutMs, signal, what, undefined, () => {
      this.#waiters.delete(waiter);
      const last = this.#lastError ? `; last error: ${this.#lastError.message}` : "";
      const remotes = this.#remotes.map((r) => r.text).join(",");
      return new OvsdbError(
        what === "connect" ? "connect" : "timeout",
        `Cannot ${what}: no usable ${this.database} server at ${remotes} within ${timeoutMs} ms` +
          `${last}`,
        this.#lastError ? { cause: this.#lastError } : {},
      );
    });
  }

  /** Bounds a promise by a timeout and a signal; `onGiveUp` runs on either. */
  #bounded<T>(
    p: Promise<T>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    what: string,
    onGiveUp?: () => void,
    timeoutError?: () => OvsdbError,
  ): Promise<T> {
    if (signal?.aborted) {
      p.catch(() => {});
      onGiveUp?.();
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const giveUp = (err: unknown) => {
        if (settled) return;
        settled = true;
        cleanup();
        p.catch(() => {});
        onGiveUp?.();
        reject(err);
      };
      const deadline = this.#deadlines.add(timeoutMs, () =>
        giveUp(
          timeoutError?.() ??
            new OvsdbError(
              "timeout",
              `Cannot ${what}: no answer within ${Math.max(0, timeoutMs)} ms` +
                (what === "transact" ? " (transaction canceled)" : ""),
            ),
        ));
      const onAbort = () => giveUp(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = () => {
        this.#deadlines.remove(deadline);
        signal?.removeEventListener("abort", onAbort);
      };
      p.then((v) => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve(v);
      }, (e) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(e);
      });
    });
  }

  async #run(): Promise<void> {
    let round = 0;
    let sinceRound = 0;
    while (!this.#closed) {
      const remote = this.#remotes[this.#next % this.#remotes.length]!;
      this.#next++;
      sinceRound++;
      try {
        const session = await this.#open(remote);
        round = 0;
        sinceRound = 0;
        this.#session = session;
        this.#remote = remote;
        this.#lastError = undefined;
        this.#next--; // reconnect to the same remote first
        this.#log.info("ovsdb: connected", { remote: remote.text, database: this.database });
        for (const w of this.#waiters) w.resolve(session);
        this.#waiters.clear();
        this.#emit("connect", remote.text);
        const reason = await session.closed;
        this.#session = undefined;
        if (this.#closed) break;
        this.#log.warn("ovsdb: disconnected", { remote: remote.text, reason: reason.message });
        this.#lastError = reason;
        this.#emit("disconnect", reason);
        if (this.#leaderLost) this.#next++; // the old leader's server is a follower now
        this.#leaderLost = false;
        continue; // retry at once (same remote first, then the others)
      } catch (err) {
        const e = err instanceof OvsdbError
          ? err
          : new OvsdbError("connect", `Cannot connect to ${remote.text}: ${String(err)}`);
        this.#lastError = e;
        const fields = { remote: remote.text, err: e.message };
        if (e.kind === "schema") this.#log.warn("ovsdb: connection attempt failed", fields);
        else this.#log.debug("ovsdb: connection attempt failed", fields);
        if (e.kind === "schema" && this.#schema === undefined) {
          this.#fatal = e;
          for (const w of this.#waiters) w.reject(e);
          this.#waiters.clear();
          return;
        }
      }
      if (sinceRound < this.#remotes.length) continue;
      sinceRound = 0;
      const max = this.#opts.maxBackoffMs ?? 8000;
      const delay = Math.min(max, 100 * 2 ** round) * (0.75 + Math.random() / 2);
      round++;
      await sleep(delay, this.#closeAc.signal);
    }
  }

  async #open(remote: Remote): Promise<RpcSession> {
    const opening = openRemote(remote, this.#opts.tls);
    let conn: Deno.Conn;
    try {
      conn = await this.#bounded(
        opening,
        this.#opts.timeoutMs ?? 30_000,
        this.#closeAc.signal,
        `connect to ${remote.text}`,
      );
    } catch (err) {
      opening.then((c) => c.close(), () => {}); // late connection after a timeout or close
      throw err;
    }
    // deno-lint-ignore prefer-const
    let session: RpcSession;
    const opened = new RpcSession(conn, {
      peer: remote.text,
      probeIntervalMs: this.#opts.probeIntervalMs ?? 5000,
      logger: this.#log,
      onNotification: (m, p) => this.#onNotification(session, m, p),
    });
    session = opened;
    try {
      const step = <T>(p: Promise<T>, what: string) =>
        this.#bounded(p, this.#opts.timeoutMs ?? 30_000, this.#closeAc.signal, what);
      await step(this.#checkServer(session, remote), `check ${remote.text}`);
      const schema = parseSchema(
        await step(session.request("get_schema", [this.database]), "get_schema"),
      );
      if (this.#opts.expect) checkSchema(schema, this.#opts.expect);
      if (this.#schema && this.#schema.version !== schema.version) {
        this.#log.info("ovsdb: schema changed", { from: this.#schema.version, to: schema.version });
      }
      this.#schema = schema;
      for (const m of this.#monitors.values()) {
        await step(this.#startMonitor(session, m), "monitor");
      }
      for (const l of this.#locks) {
        const r = await step(session.request("lock", [l]), "lock") as { locked?: boolean };
        if (r.locked) this.#emit("locked", l);
      }
      return session;
    } catch (err) {
      session.close(err instanceof OvsdbError ? err : undefined);
      throw err;
    }
  }

  /** Checks `_Server.Database` for our database and keeps watching it (leader changes). */
  async #checkServer(session: RpcSession, remote: Remote): Promise<void> {
    try {
      // The row is taken in stream order: an update2 right behind the reply (the leader
      // changed meanwhile) must apply on top of it, not be overwritten by it.
      await session.request("monitor_cond", [
        "_Server",
        SERVER_MONITOR_ID,
        {
          Database: [{
            columns: ["name", "model", "connected", "leader"],
            where: [["name", "==", this.database]],
          }],
        },
      ], {
        onResult: (reply) => {
          this.#serverRow = {};
          this.#applyServerUpdate(reply);
        },
      });
    } catch (err) {
      if (err instanceof OvsdbError && err.kind === "rpc") {
        // No _Server database (Open vSwitch < 2.9): a standalone server; check the name.
        const dbs = await session.request("list_dbs", []) as string[];
        if (!dbs.includes(this.database)) throw this.#notServed(remote, dbs);
        return;
      }
      throw err;
    }
    if (this.#serverRow.name !== this.database) {
      const dbs = await session.request("list_dbs", []) as string[];
      throw this.#notServed(remote, dbs);
    }
    const why = this.#serverProblem();
    if (why) throw new OvsdbError("connect", `Cannot use ${remote.text}: ${why}`);
  }

  #notServed(remote: Remote, dbs: string[]): OvsdbError {
    return new OvsdbError(
      "connect",
      `Cannot use ${remote.text}: it does not serve database "${this.database}" ` +
        `(it serves ${dbs.join(", ") || "nothing"}); check the remote and the database name`,
    );
  }

  #serverProblem(): string | undefined {
    const r = this.#serverRow;
    if (r.model !== "clustered") return undefined;
    if (r.connected !== true) return `${this.database} is not connected to its cluster`;
    if ((this.#opts.leaderOnly ?? true) && r.leader !== true) {
      return `${this.database} is not the leader of its cluster (leaderOnly)`;
    }
    return undefined;
  }

  #applyServerUpdate(updates: unknown): void {
    const db = (updates as Record<string, Record<string, Record<string, unknown>>> | null)
      ?.Database;
    for (const ru of Object.values(db ?? {})) {
      const row = ru.initial ?? ru.insert ?? ru.modify;
      if (ru.delete !== undefined) this.#serverRow = {};
      if (row && typeof row === "object") Object.assign(this.#serverRow, row);
    }
  }

  #onNotification(session: RpcSession, method: string, params: unknown): void {
    if (session.isClosed) return;
    const p = Array.isArray(params) ? params : [];
    if (method === "update2" && p[0] === SERVER_MONITOR_ID) {
      this.#applyServerUpdate(p[1]);
      const why = this.#serverProblem();
      if (why) {
        this.#leaderLost = true;
        session.close(
          new OvsdbError(
            "disconnected",
            `Cannot keep using ${
              session === this.#session ? this.#remote?.text : "server"
            }: ${why}`,
          ),
        );
      }
      return;
    }
    if (method === "locked" || method === "stolen") {
      if (typeof p[0] === "string") this.#emit(method, p[0]);
      return;
    }
    const m = typeof p[0] === "string" ? this.#monitors.get(p[0]) : undefined;
    if (method === "monitor_canceled") {
      if (m) {
        session.close(
          new OvsdbError("disconnected", `Cannot keep monitor ${m.id}: canceled by the server`),
        );
      }
      return;
    }
    if (!m || !this.#schema) return;
    try {
      if (method === "update3") {
        this.cache.applyUpdates2(this.#schema, p[2], m.columns);
        if (typeof p[1] === "string") m.lastTxnId = p[1];
      } else if (method === "update2") {
        this.cache.applyUpdates2(this.#schema, p[1], m.columns);
      } else if (method === "update") {
        this.cache.applyUpdates(this.#schema, p[1], m.columns);
      }
    } catch (err) {
      session.close(err instanceof OvsdbError ? err : new OvsdbError("protocol", String(err)));
    }
  }

  #monitorRequests(m: MonitorState, schema: DatabaseSchema): Record<string, unknown> {
    const reqs: Record<string, unknown> = {};
    m.columns.clear();
    for (const t of m.tables) {
      const ts = tableSchema(schema, t);
      const s = m.spec[t]!;
      const cols = s === true
        ? Object.keys(ts.columns)
        : Array.isArray(s)
        ? [...s as string[]]
        : (s as { columns?: string[] }).columns ?? Object.keys(ts.columns);
      for (const c of cols) columnType(schema, t, c);
      m.columns.set(t, cols);
      const req: Record<string, unknown> = { columns: cols };
      const where = typeof s === "object" && !Array.isArray(s)
        ? (s as { where?: Condition[] }).where
        : undefined;
      if (where) {
        if (m.method === "monitor") {
          throw new OvsdbError(
            "rpc",
            `Cannot monitor ${t} with conditions: the server has no monitor_cond`,
          );
        }
        req.where = encodeWhere(schema, t, where);
      }
      reqs[t] = m.method === "monitor" ? req : [req];
    }
    return reqs;
  }

  /**
   * Sends a monitor request and applies its reply. The reply is applied from `onResult`,
   * at its place in the stream: the server sends the initial rows and then, as soon as
   * anything changes, an update for this monitor, often in the same read. Applied after
   * an `await` instead, the older initial rows would land on top of the newer update and
   * the cache would keep them until the row changes again (and `monitor_cond_since`
   * would resume from the reply's older transaction id).
   */
  async #startMonitor(session: RpcSession, m: MonitorState): Promise<void> {
    const schema = this.#schema!;
    for (;;) {
      const reqs = this.#monitorRequests(m, schema);
      const params: unknown[] = [this.database, m.id, reqs];
      if (m.method === "monitor_cond_since") params.push(m.synced ? m.lastTxnId : ZERO_UUID);
      try {
        await session.request(m.method, params, {
          onResult: (reply) => this.#applyMonitorReply(session, m, reply),
        });
        return;
      } catch (err) {
        const unknown = err instanceof OvsdbError && err.kind === "rpc" &&
          /unknown method|not supported|unknown/i.test(err.error ?? "");
        if (unknown && m.method !== "monitor") {
          if (m.method === "monitor_cond_since") this.#noSince = true;
          m.method = m.method === "monitor_cond_since" ? "monitor_cond" : "monitor";
          continue;
        }
        throw err;
      }
    }
  }

  /** Puts a monitor's initial (or, resumed, missed) rows into the cache; see `#startMonitor`. */
  #applyMonitorReply(session: RpcSession, m: MonitorState, reply: unknown): void {
    const schema = this.#schema!;
    if (this.#monitors.get(m.id) !== m) {
      // Given up (timeout, abort) or canceled before the reply came: keep its rows out.
      session.request("monitor_cancel", [m.id]).catch(() => {});
      return;
    }
    if (m.method === "monitor_cond_since") {
      const [found, lastId, updates] = reply as [boolean, string, unknown];
      this.#log.debug("ovsdb: monitor started", {
        id: m.id,
        method: m.method,
        incremental: found && m.synced,
      });
      if (found && m.synced) this.cache.applyUpdates2(schema, updates, m.columns);
      else this.cache.resync(m.tables, (c) => c.applyUpdates2(schema, updates, m.columns));
      m.lastTxnId = typeof lastId === "string" ? lastId : ZERO_UUID;
    } else if (m.method === "monitor_cond") {
      this.cache.resync(m.tables, (c) => c.applyUpdates2(schema, reply, m.columns));
    } else {
      this.cache.resync(m.tables, (c) => c.applyUpdates(schema, reply, m.columns));
    }
    m.synced = true;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * RFC 7047 OVSDB client: framing, JSON-RPC, transactions, monitors into a typed cache,
 * locks, reconnect with leader preference. Knows nothing about OVN tables (the typed
 * row maps come from the generated models in `src/ovn` and `src/ovs`).
 *
 * ```ts
 * import { OvsdbClient, ops, OvsdbError } from "../ovsdb/mod.ts";
 * import type { NbTables } from "../ovn/nb_models.ts";
 *
 * await using db = await OvsdbClient.connect<NbTables>({
 *   remotes: "ssl:10.0.0.1:6641,ssl:10.0.0.2:6641", // or tcp:H:P, unix:PATH
 *   database: "OVN_Northbound",
 *   tls: { caCert, cert, key },                      // PEM texts, for ssl: remotes
 *   timeoutMs: 10_000,                               // connect; requestTimeoutMs per call
 *   logger,                                          // any {debug,info,warn,error}
 * });
 *
 * // Reads: monitor into db.cache, then look up rows (plain objects, with _uuid).
 * await db.monitor({ Logical_Switch: ["name", "ports"], Logical_Switch_Port: true });
 * const sw = db.cache.table("Logical_Switch").find((s) => s.name === "node1");
 * const off = db.cache.on("change", ({ table, uuid, kind, old, new: row }) => {});
 * db.cache.onTable("Logical_Switch_Port", (c) => c.new?.addresses); // typed rows
 *
 * // Writes: build operations purely, commit them in one transaction.
 * const nb = ops<NbTables>();
 * const [ins] = await db.transact([
 *   nb.insert("Logical_Switch_Port", { name: "p1", addresses: ["0a:58:0a:f4:01:05 10.244.1.5"] },
 *     { uuidName: "p1" }),
 *   nb.mutate("Logical_Switch", [["name", "==", "node1"]], [["ports", "insert", ["p1"]]]),
 * ]);                      // ins.uuid: the new row; failures throw OvsdbError (index, error, details)
 * ```
 *
 * Notation (one module, `notation.ts`): scalar columns are atoms, optional values and
 * sets are arrays, maps are plain objects, uuids are strings; in a uuid position an
 * identifier like `"p1"` is the named uuid of a row inserted with `uuidName: "p1"`.
 *
 * More of the surface (stable; changes are additive only):
 * - `db.cache.table(T)`: `get(uuid)`, `find(pred)`, `findBy(column, value)`, `filter`,
 *   `all()`, `size`, iteration; `db.cache.waitFor(T, pred, {timeoutMs})`;
 *   `db.cache.onTable(T, fn)` / `db.cache.on("change", fn)` (after each server batch).
 * - `db.monitor(spec, {method})`: `monitor_cond_since` by default (incremental after a
 *   reconnect), falling back to `monitor_cond` and `monitor`; `where` conditions;
 *   `(await db.monitor(...)).cancel()`.
 * - `db.on("connect" | "disconnect" | "locked" | "stolen", fn)`; `db.connected`,
 *   `db.remote`, `db.schema`; `db.lock/steal/unlock(id)`; `db.listDbs()`,
 *   `db.getSchema()`, `db.echo()`, `db.request(method, params)`.
 * - `transact(ops, {timeoutMs, signal})`: on timeout or abort the request is `cancel`ed.
 *   Errors are `OvsdbError` with `kind` (`operation`: `index`, `error`, `details`,
 *   `operation`; `schema`; `timeout`; `disconnected`, where a transaction may or may not
 *   have committed; `protocol`; `rpc`; `connect`).
 * - Connect options: `leaderOnly` (default true: clustered servers must be the leader,
 *   followed via `_Server.Database`), `expect` (generated `NB_SCHEMA`/`SB_SCHEMA`/
 *   `OVS_SCHEMA`: fail clearly when the server lacks a table or column),
 *   `probeIntervalMs` (echo after idle; default 5 s), `maxBackoffMs` (default 8 s).
 *
 * @module
 */
export { OvsdbError, type OvsdbErrorKind, type OvsdbErrorOptions } from "./errors.ts";
export {
  applyDiff,
  type Atom,
  atomFromWire,
  atomToWire,
  defaultValue,
  isNamedUuid,
  isScalar,
  isUuid,
  namedUuid,
  type Row,
  rowFromWire,
  rowToWire,
  type Value,
  valueFromWire,
  valuesEqual,
  valueToWire,
  type WireAtom,
  type WireRow,
  type WireValue,
  ZERO_UUID,
} from "./notation.ts";
export { changedColumns, mapMutateOps, mapMutations } from "./row_diff.ts";
export {
  type AtomicType,
  type BaseType,
  checkSchema,
  type ColumnSchema,
  type ColumnType,
  columnType,
  type DatabaseSchema,
  missingFromSchema,
  parseColumnType,
  parseSchema,
  type SchemaExpectation,
  type TableSchema,
  tableSchema,
} from "./schema.ts";
export {
  type AbortOp,
  type AssertOp,
  type CommentOp,
  type CommitOp,
  type Condition,
  type ConditionFunction,
  decodeResults,
  type DeleteOp,
  encodeOperation,
  encodeWhere,
  type InsertOp,
  type MutateOp,
  type Mutation,
  type Mutator,
  op,
  type OpBuilders,
  type Operation,
  type OperationResult,
  ops,
  type SelectOp,
  type UpdateOp,
  type WaitOp,
} from "./operations.ts";
export {
  type CachedRow,
  type ChangeListener,
  OvsdbCache,
  type RowChange,
  TableCache,
  type TableChange,
  type WaitForOptions,
} from "./cache.ts";
export { JsonFramer, type JsonFramerOptions } from "./framer.ts";
export { openRemote, parseRemote, parseRemotes, type Remote, type TlsOptions } from "./remote.ts";
export {
  type ByteStream,
  type OvsdbLogger,
  type RequestHooks,
  RpcSession,
  type RpcSessionOptions,
} from "./rpc.ts";
export {
  type ClientEvents,
  type ConnectOptions,
  type Monitor,
  type MonitorOptions,
  type MonitorSpec,
  OvsdbClient,
  type RequestOptions,
  type TableMonitor,
} from "./client.ts";

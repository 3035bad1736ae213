/**
 * One JSON-RPC 1.0 session (RFC 7047 §4) over one byte stream: request ids, responses,
 * notifications, `echo` both ways (we answer the server's inactivity probes and send our
 * own when the line is idle), and write batching (everything queued in one tick goes out
 * in one write, which is what makes pipelined transactions cheap).
 *
 * Ordering: messages are handled in the order they arrive, each completely before the
 * next. A notification is handed over synchronously, but a response settles a promise,
 * and whoever awaits it runs only after the rest of the chunk it came in has been
 * dispatched. A caller whose reply must take effect before the notifications behind it
 * (a monitor's initial rows before the `update2` that follows them) passes `onResult`,
 * which runs synchronously at the response's place in the stream.
 *
 * @module
 */
import { OvsdbError } from "./errors.ts";
import { JsonFramer } from "./framer.ts";

/** The minimal stream a session needs (a `Deno.Conn` fits). */
export interface ByteStream {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** A logger as the rest of the project has (typed locally: this folder is a leaf). */
export interface OvsdbLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Options of {@linkcode RpcSession}. */
export interface RpcSessionOptions {
  /** Peer name for messages, e.g. `tcp:127.0.0.1:6641`. */
  peer: string;
  /** Called for each notification (a message with a method and a null id). */
  onNotification?: (method: string, params: unknown) => void;
  /** Send an `echo` after this long without input; close after twice that (0: never). */
  probeIntervalMs?: number;
  /** Largest accepted message. */
  maxMessageBytes?: number;
  /** Where debug lines go. */
  logger?: OvsdbLogger;
}

/** Hooks of one {@linkcode RpcSession.request}. */
export interface RequestHooks {
  /** Called with the request id once assigned (for `cancel`). */
  onId?: (id: number) => void;
  /**
   * Called synchronously with the `result` when the response is read, before any later
   * message (notification or response) is handled; what it throws rejects the request.
   */
  onResult?: (result: unknown) => void;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onResult: ((result: unknown) => void) | undefined;
}

/** One JSON-RPC session. Closed for good on any stream or protocol error. */
export class RpcSession {
  #conn: ByteStream;
  #opts: RpcSessionOptions;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #queue: string[] = [];
  #flushing = false;
  #encoder = new TextEncoder();
  #closeError: OvsdbError | undefined;
  #closed = false;
  #done: Promise<OvsdbError>;
  #resolveDone!: (e: OvsdbError) => void;
  #lastRx = Date.now();
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #probeSent = false;

  /**
   * Starts reading at once.
   *
   * @param conn the stream (owned by the session from now on)
   * @param opts peer name, notification handler, probe interval
   */
  constructor(conn: ByteStream, opts: RpcSessionOptions) {
    this.#conn = conn;
    this.#opts = opts;
    this.#done = new Promise((r) => this.#resolveDone = r);
    this.#readLoop();
    this.#armProbe();
  }

  /** Resolves with the reason once the session is closed. */
  get closed(): Promise<OvsdbError> {
    return this.#done;
  }

  /** Whether the session is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Number of requests waiting for an answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Sends a request and waits for its response.
   *
   * @param method e.g. `transact`
   * @param params the params array
   * @param hooks `onId` (the id, for `cancel`) and `onResult` (the result, in stream order)
   * @returns the `result` member
   * @throws {OvsdbError} kind `rpc` for an error response, `disconnected`/`protocol` when
   *   the session closes first; whatever `onResult` throws
   */
  request(method: string, params: unknown, hooks: RequestHooks = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closeError);
    const id = this.#nextId++;
    hooks.onId?.(id);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject, onResult: hooks.onResult });
      this.#send({ method, params, id });
    });
  }

  /**
   * Sends a notification (no response expected), e.g. `cancel`.
   *
   * @param method method name
   * @param params the params array
   */
  notify(method: string, params: unknown): void {
    if (!this.#closed) this.#send({ method, params, id: null });
  }

  /**
   * Closes the session; pending requests fail with `reason`.
   *
   * @param reason why (default: closed by us)
   */
  close(reason?: OvsdbError): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = reason ??
      new OvsdbError("disconnected", `Cannot use connection to ${this.#opts.peer}: closed`);
    this.#closeError = err;
    // Only when armed: the first clearTimeout of a process loads Deno's Node timers
    // (5-12 ms), which the short-lived CNI plugin (no probes) should not pay.
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    for (const p of this.#pending.values()) p.reject(this.#requestError(p.method, err));
    this.#pending.clear();
    this.#queue = [];
    this.#resolveDone(err);
  }

  #requestError(method: string, err: OvsdbError): OvsdbError {
    return new OvsdbError(
      err.kind,
      `Cannot complete ${method} on ${this.#opts.peer}: ${err.message}` +
        (method === "transact" ? " (the transaction may or may not have been committed)" : ""),
      { cause: err },
    );
  }

  #send(msg: unknown): void {
    this.#queue.push(JSON.stringify(msg));
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length && !this.#closed) {
        const data = this.#encoder.encode(this.#queue.join(""));
        this.#queue = [];
        let off = 0;
        while (off < data.length) off += await this.#conn.write(data.subarray(off));
      }
    } catch (err) {
      this.close(
        new OvsdbError(
          "disconnected",
          `Cannot write to ${this.#opts.peer}: ${(err as Error).message}`,
          { cause: err },
        ),
      );
    } finally {
      this.#flushing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const framer = new JsonFramer({
      peer: this.#opts.peer,
      ...(this.#opts.maxMessageBytes ? { maxMessageBytes: this.#opts.maxMessageBytes } : {}),
    });
    const buf = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          const pend = framer.pendingBytes;
          throw new OvsdbError(
            pend ? "protocol" : "disconnected",
            pend
              ? `Cannot read message from ${this.#opts.peer}: connection closed in the middle ` +
                `of a message (${pend} bytes received)`
              : `Cannot use connection to ${this.#opts.peer}: closed by the server`,
          );
        }
        this.#lastRx = Date.now();
        this.#probeSent = false;
        for (const msg of framer.push(buf.subarray(0, n))) this.#dispatch(msg);
        if (this.#closed) return;
      }
    } catch (err) {
      if (this.#closed) return;
      this.close(
        err instanceof OvsdbError ? err : new OvsdbError(
          "disconnected",
          `Cannot read from ${this.#opts.peer}: ${(err as Error).message}`,
          { cause: err },
        ),
      );
    }
  }

  #dispatch(raw: unknown): void {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new OvsdbError(
        "protocol",
        `Cannot read message from ${this.#opts.peer}: not a JSON-RPC object: ` +
          JSON.stringify(raw).slice(0, 80),
      );
    }
    const msg = raw as {
      method?: unknown;
      params?: unknown;
      id?: unknown;
      result?: unknown;
      error?: unknown;
    };
    if (typeof msg.method === "string") {
      if (msg.id === null || msg.id === undefined) {
        this.#opts.onNotification?.(msg.method, msg.params);
      } else if (msg.method === "echo") {
        this.#send({ id: msg.id, result: msg.params ?? [], error: null });
      } else {
        this.#send({ id: msg.id, result: null, error: `unknown method ${msg.method}` });
      }
      return;
    }
    if (typeof msg.id === "string" && msg.id.startsWith("echo")) return; // our probe came back
    const p = typeof msg.id === "number" ? this.#pending.get(msg.id) : undefined;
    if (!p) {
      this.#opts.logger?.debug("ovsdb: response to unknown request", {
        peer: this.#opts.peer,
        id: msg.id,
      });
      return;
    }
    this.#pending.delete(msg.id as number);
    if (msg.error !== null && msg.error !== undefined) {
      const e = msg.error as { error?: unknown; details?: unknown } | string;
      const error = typeof e === "string" ? e : String(e.error ?? JSON.stringify(e));
      const details = typeof e === "object" && typeof e.details === "string"
        ? e.details
        : undefined;
      p.reject(
        new OvsdbError(
          "rpc",
          `Cannot ${p.method} on ${this.#opts.peer}: server error: ${error}` +
            (details ? `: ${details}` : ""),
          { error, ...(details ? { details } : {}) },
        ),
      );
    } else if (p.onResult) {
      try {
        p.onResult(msg.result);
        p.resolve(msg.result);
      } catch (err) {
        p.reject(err);
      }
    } else {
      p.resolve(msg.result);
    }
  }

  #armProbe(): void {
    const every = this.#opts.probeIntervalMs ?? 0;
    if (every <= 0 || this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      const idle = Date.now() - this.#lastRx;
      if (idle >= 2 * every && this.#probeSent) {
        this.close(
          new OvsdbError(
            "disconnected",
            `Cannot use connection to ${this.#opts.peer}: no answer for ${idle} ms ` +
              `(inactivity probe)`,
          ),
        );
        return;
      }
      if (idle >= every && !this.#probeSent) {
        this.#probeSent = true;
        this.#send({ method: "echo", params: [], id: `echo-${Date.now()}` });
      }
      this.#armProbe();
    }, every);
  }
}

/**
 * The HTTP transport for lists, gets and watches: Deno's own `fetch` over HTTP/1.1
 * with a per-connection `Deno.createHttpClient` (CA, client certificate and key).
 *
 * Why not client-node 2.0.1's transport for watches: under Deno its undici never fails a
 * streaming body when the peer dies or the request is aborted, so a watch silently goes
 * stale; and undici's HTTP/2 crashes the process when a TLS server sends GOAWAY
 * (see docs/k8s.md). Deno's fetch rejects a dead body within milliseconds. Every
 * stream also has an idle bound: when nothing, not even a bookmark, arrives for
 * `idleTimeoutMs`, the request is aborted with {@linkcode K8sIdleTimeoutError}, which
 * catches half-open connections that no reset will ever reveal.
 *
 * `fetch` cannot skip certificate verification per client, so an `https://` server
 * with verification turned off is reached through `node:https` instead.
 *
 * Aborting: `fetch` follows its `signal` through a signal of its own `Request`, which
 * the caller's signal holds only weakly; once the response has arrived and the
 * `Request` has been collected, aborting no longer reaches the body, and a pending read
 * of a watch waits for the next event or the server's timeout (Deno 2.9.6). So every
 * request here owns one `AbortController`, linked to the caller's signal and to its
 * timer by plain listeners (not `AbortSignal.any`/`AbortSignal.timeout`, whose
 * dependent signals are weakly held and whose timers outlive the request), and an
 * abort cancels the body's reader itself, which ends a pending read at once and closes
 * the connection. Both transports expose that cancel.
 *
 * This module does not import `@kubernetes/client-node` (the CNI plugin uses it).
 *
 * @module
 */
import type { Connection } from "./connection_info.ts";
import { K8sApiError, K8sIdleTimeoutError } from "./errors.ts";

/** A response as the transport sees it. */
interface RawResponse {
  status: number;
  /** The body's chunks; ending the iteration early closes the stream. */
  body: AsyncIterable<Uint8Array>;
  /** Ends the body now: a pending read finishes and the connection is closed. */
  cancel(reason: unknown): void;
}

type Send = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
) => Promise<RawResponse>;

/** Options of {@linkcode KubeHttp}. */
export interface KubeHttpOptions {
  /** Bound of a whole non-streaming request (default 30,000 ms). */
  requestTimeoutMs?: number;
}

/** Options of one request. */
export interface RequestOptions {
  /** Query parameters. */
  query?: Record<string, string | undefined>;
  /** JSON body. */
  body?: unknown;
  /** Content type of the body (default `application/json`). */
  contentType?: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

function causeText(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  while (e instanceof Error && parts.length < 4) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.join(": ") || String(err);
}

/**
 * One request's abort: aborts when the caller's signal does or when the timer given to
 * {@linkcode arm} fires; dispose to unlink from the caller and stop the timer.
 */
class RequestAbort implements Disposable {
  readonly #ac = new AbortController();
  readonly #parent: AbortSignal | undefined;
  readonly #onParent = () => this.#ac.abort(this.#parent?.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(parent: AbortSignal | undefined) {
    this.#parent = parent;
    if (parent?.aborted) this.#onParent();
    else parent?.addEventListener("abort", this.#onParent, { once: true });
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** (Re)starts the timer: abort with `reason()` after `ms` unless re-armed. */
  arm(ms: number, reason: () => Error): void {
    clearTimeout(this.#timer);
    if (!this.#ac.signal.aborted) this.#timer = setTimeout(() => this.#ac.abort(reason()), ms);
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener("abort", this.#onParent);
  }
}

/**
 * The chunks of a body, cancelled as soon as `signal` aborts (see the module note).
 *
 * @throws the signal's reason once it has aborted
 */
async function* chunksOf(res: RawResponse, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const stop = () => res.cancel(signal.reason);
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const chunk of res.body) {
      if (signal.aborted) break;
      yield chunk;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw err;
  } finally {
    signal.removeEventListener("abort", stop);
  }
  if (signal.aborted) throw signal.reason;
}

async function readAll(res: RawResponse, signal: AbortSignal): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  for await (const chunk of chunksOf(res, signal)) text += dec.decode(chunk, { stream: true });
  return text + dec.decode();
}

/** A fetch body as chunks; an early end cancels the reader, which closes the stream. */
async function* readerChunks(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** Size of the reused read buffers of {@linkcode byobChunks}. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * A fetch body as chunks read into a buffer from `free` (given back at the end), so a
 * response allocates nothing: Deno's default reader allocates a fresh 64 KiB buffer
 * for every read, even for a 300-byte answer, and 10,000 pod patches then leave ~70 MiB
 * of freed native memory in the process (BENCHMARKS.md, watcher_pods). Each chunk is
 * valid until the next one is asked for (both consumers decode it at once). A body
 * cancelled mid-read keeps its buffer out of the pool.
 */
async function* byobChunks(
  reader: ReadableStreamBYOBReader,
  free: Uint8Array[],
  cancelled: () => boolean,
): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array | undefined = free.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
  let done = false;
  try {
    for (;;) {
      const r: ReadableStreamReadResult<Uint8Array> = await reader.read(buf);
      // The read transferred the buffer; its memory comes back in `r.value`.
      buf = r.value ? new Uint8Array(r.value.buffer) : undefined;
      if (r.done || !r.value || !buf) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    if (buf?.byteLength === READ_BUFFER_BYTES && !cancelled() && free.length < 64) free.push(buf);
  }
}

function denoSend(conn: Connection): { send: Send; close: () => void } {
  const client = Deno.createHttpClient({
    http2: false,
    http1: true,
    ...(conn.caPem ? { caCerts: [conn.caPem] } : {}),
    ...(conn.certPem && conn.keyPem ? { cert: conn.certPem, key: conn.keyPem } : {}),
  });
  const free: Uint8Array[] = [];
  const send: Send = async (method, url, headers, body, signal) => {
    const res = await fetch(url, { method, headers, body: body ?? null, signal, client });
    if (!res.body) return { status: res.status, body: (async function* () {})(), cancel: () => {} };
    let byob: ReadableStreamBYOBReader | undefined;
    try {
      byob = res.body.getReader({ mode: "byob" });
    } catch { /* not a byte stream: the default reader */ }
    const reader = byob ?? res.body.getReader();
    let cancelled = false;
    return {
      status: res.status,
      body: byob
        ? byobChunks(byob, free, () => cancelled)
        : readerChunks(reader as ReadableStreamDefaultReader<Uint8Array>),
      cancel: (reason) => {
        cancelled = true;
        void reader.cancel(reason).catch(() => {});
      },
    };
  };
  return { send, close: () => client.close() };
}

async function nodeSend(conn: Connection): Promise<{ send: Send; close: () => void }> {
  const https = await import("node:https");
  const agent = new https.Agent({
    keepAlive: true,
    rejectUnauthorized: false,
    ...(conn.certPem && conn.keyPem ? { cert: conn.certPem, key: conn.keyPem } : {}),
  });
  const send: Send = (method, url, headers, body, signal) =>
    new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent, signal }, (res) => {
        resolve({ status: res.statusCode ?? 0, body: res, cancel: () => void res.destroy() });
      });
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  return { send, close: () => agent.destroy() };
}

/** One line of a watch stream. */
export interface RawWatchEvent {
  type: string;
  object: Record<string, unknown>;
}

/**
 * Lists, reads, writes and watches over HTTP/1.1 with Deno's fetch. Errors name the
 * server and the source of the connection, never the token.
 */
export class KubeHttp implements Disposable {
  readonly #conn: Connection;
  readonly #timeoutMs: number;
  #transport: { send: Send; close: () => void } | undefined;
  #pending: Promise<{ send: Send; close: () => void }> | undefined;

  /**
   * @param conn the resolved connection
   * @param opts request timeout
   */
  constructor(conn: Connection, opts: KubeHttpOptions = {}) {
    this.#conn = conn;
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** The connection in use. */
  get connection(): Connection {
    return this.#conn;
  }

  async #getTransport(): Promise<{ send: Send; close: () => void }> {
    if (this.#transport) return this.#transport;
    const insecureTls = this.#conn.insecureSkipTlsVerify && this.#conn.server.startsWith("https:");
    this.#pending ??= insecureTls ? nodeSend(this.#conn) : Promise.resolve(denoSend(this.#conn));
    return this.#transport = await this.#pending;
  }

  #url(path: string, query?: Record<string, string | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, v);
    const s = q.toString();
    return `${this.#conn.server}${path}${s ? `?${s}` : ""}`;
  }

  #headers(contentType?: string): Record<string, string> {
    const h: Record<string, string> = { accept: "application/json" };
    if (this.#conn.token) h["authorization"] = `Bearer ${this.#conn.token}`;
    if (contentType) h["content-type"] = contentType;
    return h;
  }

  #transportError(action: string, err: unknown): Error {
    const text = causeText(err);
    let hint = "";
    if (
      /certificate|UnknownIssuer|CertNotValid|NotValidForName|self.signed|unable to verify/i.test(
        text,
      )
    ) {
      hint = this.#conn.caPem
        ? "; the server certificate does not verify with the CA given: check the CA of this connection"
        : "; the server certificate does not verify with the system CA store: give the cluster CA";
    } else if (/connection refused|ECONNREFUSED/i.test(text)) {
      hint = "; is the API server running at that address?";
    }
    return new Error(
      `Cannot ${action} at ${this.#conn.server} (server from ${this.#conn.source}): ${text}${hint}`,
      { cause: err },
    );
  }

  #statusError(action: string, status: number, body: string): K8sApiError {
    let reason = "";
    let message = body.slice(0, 300);
    try {
      const s = JSON.parse(body) as { reason?: string; message?: string };
      reason = s.reason ?? "";
      message = s.message ?? message;
    } catch { /* not a Status */ }
    if (status === 401) {
      return new K8sApiError(
        401,
        reason || "Unauthorized",
        `Cannot ${action} at ${this.#conn.server}: the API server rejected the credentials (401 Unauthorized); ` +
          `check the token from ${this.#conn.source}`,
      );
    }
    if (status === 403) {
      return new K8sApiError(
        403,
        reason || "Forbidden",
        `Cannot ${action}: forbidden (403) for the credentials from ${this.#conn.source}: ${message}`,
      );
    }
    return new K8sApiError(status, reason, `Cannot ${action}: ${status} ${reason}: ${message}`);
  }

  /**
   * Sends one request and parses the JSON answer.
   *
   * @param method HTTP method
   * @param path API path, e.g. `/api/v1/pods`
   * @param opts query, body, content type, signal
   * @returns the parsed body
   * @throws {K8sApiError} on a non-2xx answer
   * @throws {Error} naming the server and its source when the server cannot be reached
   */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const action = `${method} ${path}`;
    const t = await this.#getTransport();
    using abort = new RequestAbort(opts.signal);
    abort.arm(
      this.#timeoutMs,
      () => new DOMException(`${action} took longer than ${this.#timeoutMs} ms`, "TimeoutError"),
    );
    let text: string;
    let status: number;
    try {
      const res = await t.send(
        method,
        this.#url(path, opts.query),
        this.#headers(opts.body !== undefined ? opts.contentType ?? "application/json" : undefined),
        opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        abort.signal,
      );
      status = res.status;
      text = await readAll(res, abort.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw this.#transportError(action, abort.signal.aborted ? abort.signal.reason : err);
    }
    if (status < 200 || status > 299) throw this.#statusError(action, status, text);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`Cannot ${action}: the answer is not JSON`, { cause: err });
    }
  }

  /**
   * Opens a watch (or any JSON-lines stream) and yields its events. Ends when the
   * server ends the stream.
   *
   * @param path collection path
   * @param query query parameters (`watch=1` is added)
   * @param opts `idleTimeoutMs`: abort when nothing arrives for this long; `signal`
   * @returns the events, in order
   * @throws {K8sIdleTimeoutError} when the stream went quiet for longer than its bound
   * @throws {K8sApiError} when the server refuses the watch
   * @throws {Error} when the connection fails or breaks
   */
  async *watch(
    path: string,
    query: Record<string, string | undefined>,
    opts: { idleTimeoutMs: number; signal?: AbortSignal },
  ): AsyncGenerator<RawWatchEvent> {
    const action = `watch ${path}`;
    const t = await this.#getTransport();
    using abort = new RequestAbort(opts.signal);
    const arm = () =>
      abort.arm(
        opts.idleTimeoutMs,
        () =>
          new K8sIdleTimeoutError(
            `Watch ${path} at ${this.#conn.server} went quiet for ${opts.idleTimeoutMs} ms (dead connection?)`,
          ),
      );
    arm();
    let res: RawResponse;
    try {
      res = await t.send(
        "GET",
        this.#url(path, { ...query, watch: "1" }),
        this.#headers(),
        undefined,
        abort.signal,
      );
    } catch (err) {
      if (abort.signal.aborted) throw abort.signal.reason;
      throw this.#transportError(action, err);
    }
    if (res.status !== 200) {
      throw this.#statusError(action, res.status, await readAll(res, abort.signal));
    }
    const dec = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of chunksOf(res, abort.signal)) {
        arm();
        buf += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0 && !abort.signal.aborted) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) yield JSON.parse(line) as RawWatchEvent;
        }
      }
    } catch (err) {
      if (abort.signal.aborted) throw abort.signal.reason;
      if (err instanceof SyntaxError) throw err;
      throw this.#transportError(action, err);
    }
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#transport?.close();
    this.#transport = undefined;
    this.#pending = undefined;
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

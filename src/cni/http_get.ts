/**
 * One HTTP/1.1 GET on a connection of its own, for the CNI plugin's single pod read:
 * `http:` over `Deno.connect`, `https:` over `Deno.connect` with `TCP_NODELAY` then
 * `Deno.startTls`. A short-lived process's first `fetch` costs 7-20 ms of one-time setup
 * here (the fetch machinery and its HTTP client); a socket and one request line cost
 * about 1 ms. `TCP_NODELAY` matters for TLS: without it (`Deno.connectTls` does not set
 * it) the request waits behind the unacknowledged TLS 1.3 client Finished until the
 * server's delayed ACK, 40 ms on Linux. The first TLS handshake in a process also pays
 * ~27 ms of one-time crypto (random generator) initialization in Deno, whatever client is
 * used. The request asks the server to close the connection; the response body is read
 * by `Content-Length`, by `Transfer-Encoding: chunked`, or to the end of the stream. No
 * compression is asked for, no redirects are followed.
 *
 * @module
 */

/** What {@linkcode httpGet} read. */
export interface HttpResponse {
  /** Status code. */
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as text (UTF-8). */
  body: string;
}

/** The byte stream {@linkcode httpGet} needs (a `Deno.Conn` or `Deno.TlsConn` fits). */
export interface HttpConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  /** Completes a TLS handshake (`Deno.TlsConn`), so that its errors name the step. */
  handshake?(): Promise<unknown>;
}

/** TLS settings of an `https:` GET. */
export interface HttpTlsOptions {
  /** PEM CA certificates trusted in addition to the default root store. */
  caCerts?: string[];
}

/** Options of {@linkcode httpGet}. */
export interface HttpGetOptions {
  /** Request headers (`host`, `connection` are set here). */
  headers?: Record<string, string>;
  /** Aborts the request (closes the connection). */
  signal?: AbortSignal;
  /** TLS settings for `https:` URLs. */
  tls?: HttpTlsOptions;
  /**
   * Opens the connection (default {@linkcode connectHttp}; injected for tests); `tls` is
   * set for `https:` URLs.
   */
  connect?: (hostname: string, port: number, tls?: HttpTlsOptions) => Promise<HttpConn>;
  /** Largest accepted response, headers and body (default 4 MiB). */
  maxBytes?: number;
}

const CRLF2 = [13, 10, 13, 10];

function indexOfSeq(buf: Uint8Array, seq: number[], from: number, to: number): number {
  outer: for (let i = from; i + seq.length <= to; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/** A growable receive buffer over a connection. */
class Reader {
  buf = new Uint8Array(16 * 1024);
  len = 0;
  eof = false;
  #conn: HttpConn;
  #max: number;
  #what: string;

  constructor(conn: HttpConn, max: number, what: string) {
    this.#conn = conn;
    this.#max = max;
    this.#what = what;
  }

  /** Reads more; returns false at the end of the stream. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    if (this.len === this.buf.length) {
      if (this.buf.length >= this.#max) {
        throw new Error(`${this.#what}: the response is larger than ${this.#max} bytes`);
      }
      const bigger = new Uint8Array(Math.min(this.#max, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    const n = await this.#conn.read(this.buf.subarray(this.len));
    if (n === null) {
      this.eof = true;
      return false;
    }
    this.len += n;
    return true;
  }

  /** Waits until `n` bytes from `from` are buffered. */
  async need(from: number, n: number): Promise<void> {
    while (this.len < from + n) {
      if (!(await this.fill())) {
        throw new Error(`${this.#what}: the connection closed in the middle of the response`);
      }
    }
  }
}

/** Decodes a chunked body starting at `start`; returns the body bytes. */
async function readChunked(r: Reader, start: number, what: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let pos = start;
  for (;;) {
    let eol = indexOfSeq(r.buf, [13, 10], pos, r.len);
    while (eol < 0) {
      await r.need(r.len, 1);
      eol = indexOfSeq(r.buf, [13, 10], pos, r.len);
    }
    const sizeText = new TextDecoder().decode(r.buf.subarray(pos, eol)).split(";")[0]!.trim();
    const size = parseInt(sizeText, 16);
    if (!/^[0-9a-fA-F]+$/.test(sizeText) || !Number.isSafeInteger(size)) {
      throw new Error(`${what}: bad chunk size "${sizeText.slice(0, 20)}" in the response`);
    }
    pos = eol + 2;
    if (size === 0) return concat(parts);
    await r.need(pos, size + 2);
    parts.push(r.buf.slice(pos, pos + size));
    pos += size + 2;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Opens a TCP connection, and for `tls` a TLS client session on it with `TCP_NODELAY` set
 * (see the module doc for why not `Deno.connectTls`). The handshake happens on first use.
 *
 * @param hostname server name or address (also the name the certificate must match)
 * @param port TCP port
 * @param tls TLS settings; plain TCP when absent
 * @returns the connection
 * @throws {Error} as `Deno.connect` and `Deno.startTls` do
 */
export async function connectHttp(
  hostname: string,
  port: number,
  tls?: HttpTlsOptions,
): Promise<HttpConn> {
  const tcp = await Deno.connect({ hostname, port });
  if (!tls) return tcp;
  try {
    tcp.setNoDelay(true);
    return await Deno.startTls(tcp, { hostname, ...(tls.caCerts ? { caCerts: tls.caCerts } : {}) });
  } catch (err) {
    tcp.close();
    throw err;
  }
}

/**
 * GETs an `http:` or `https:` URL with HTTP/1.1 on a connection of its own.
 *
 * @param url the URL (`http:` or `https:`)
 * @param opts headers, abort signal, connection factory, size limit
 * @returns status, headers and body text
 * @throws {Error} naming the URL on connection errors, malformed responses or abort
 */
export async function httpGet(url: string, opts: HttpGetOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(`Cannot GET ${url}: only http: and https: URLs are read this way`);
  }
  const tls = u.protocol === "https:" ? opts.tls ?? {} : undefined;
  const what = `GET ${url}`;
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port ? Number(u.port) : tls ? 443 : 80;
  opts.signal?.throwIfAborted();
  const connect = opts.connect ?? connectHttp;
  const conn = await connect(hostname, port, tls).catch((err) => {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  });
  const onAbort = () => conn.close();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    opts.signal?.throwIfAborted(); // aborted while connecting
    if (tls && conn.handshake) {
      await conn.handshake().catch((err) => {
        throw new Error(
          `${what}: TLS handshake failed: ${(err as Error).message} (check the CA ` +
            `certificate given for the server)`,
          { cause: err },
        );
      });
    }
    const lines = [`GET ${u.pathname}${u.search} HTTP/1.1`, `host: ${u.host}`];
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (/[\r\n]/.test(k + v)) throw new Error(`${what}: header ${k} contains a line break`);
      lines.push(`${k}: ${v}`);
    }
    lines.push("connection: close", "", "");
    const req = new TextEncoder().encode(lines.join("\r\n"));
    for (let off = 0; off < req.length;) off += await conn.write(req.subarray(off));

    const r = new Reader(conn, opts.maxBytes ?? 4 << 20, what);
    let end = -1;
    while ((end = indexOfSeq(r.buf, CRLF2, 0, r.len)) < 0) {
      if (!(await r.fill())) throw new Error(`${what}: the connection closed before a response`);
    }
    const head = new TextDecoder().decode(r.buf.subarray(0, end)).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "");
    if (!m) throw new Error(`${what}: not an HTTP/1.x response: "${head[0]?.slice(0, 40)}"`);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const start = end + 4;
    let body: Uint8Array;
    if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      body = await readChunked(r, start, what);
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new Error(`${what}: bad content-length "${headers["content-length"]}"`);
      }
      await r.need(start, n);
      body = r.buf.subarray(start, start + n);
    } else {
      while (await r.fill()) { /* to the end of the stream */ }
      body = r.buf.subarray(start, r.len);
    }
    return { status: Number(m[1]), headers, body: new TextDecoder().decode(body) };
  } catch (err) {
    if (opts.signal?.aborted) throw new Error(`${what}: aborted`, { cause: err });
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    try {
      conn.close();
    } catch { /* closed by the abort */ }
  }
}

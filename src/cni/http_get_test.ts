import assert from "node:assert/strict";
import { type HttpConn, httpGet, type HttpTlsOptions } from "./http_get.ts";
import { serveTestTls, TEST_CA_PEM, TEST_OTHER_CA_PEM } from "./tls_testdata.ts";

/** A connection that answers with fixed bytes, delivered in small pieces. */
function canned(answer: string, piece = 7): { conn: HttpConn; sent: () => string } {
  const out = new TextEncoder().encode(answer);
  let at = 0;
  let sent = "";
  return {
    conn: {
      read(p) {
        if (at >= out.length) return Promise.resolve(null);
        const n = Math.min(piece, p.length, out.length - at);
        p.set(out.subarray(at, at + n));
        at += n;
        return Promise.resolve(n);
      },
      write(p) {
        sent += new TextDecoder().decode(p);
        return Promise.resolve(p.length);
      },
      close() {},
    },
    sent: () => sent,
  };
}

Deno.test("httpGet() reads a Content-Length body and sends the headers", async () => {
  const seen: { path: string; auth: string | null; conn: string | null }[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push({
      path: new URL(req.url).pathname + new URL(req.url).search,
      auth: req.headers.get("authorization"),
      conn: req.headers.get("connection"),
    });
    return Response.json({ ok: "é".repeat(3) });
  });
  const res = await httpGet(`http://127.0.0.1:${server.addr.port}/a/b?x=1`, {
    headers: { authorization: "Bearer t" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(res.body), { ok: "ééé" });
  assert.deepEqual(seen, [{ path: "/a/b?x=1", auth: "Bearer t", conn: "close" }]);
});

Deno.test("httpGet() decodes a chunked body", async () => {
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const parts = ['{"a":', '"', "x".repeat(40_000), '"}'];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const p = parts.shift();
        if (p === undefined) c.close();
        else c.enqueue(new TextEncoder().encode(p));
      },
    });
    return new Response(body, { status: 404 });
  });
  const res = await httpGet(`http://127.0.0.1:${server.addr.port}/`);
  assert.equal(res.status, 404);
  assert.match(res.headers["transfer-encoding"] ?? "", /chunked/);
  assert.equal((JSON.parse(res.body) as { a: string }).a.length, 40_000);
});

Deno.test("httpGet() reads to the end without a length, and rejects what is not HTTP", async () => {
  const c = canned("HTTP/1.0 200 OK\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello\r\nworld");
  const res = await httpGet("http://[::1]:8080/p", { connect: () => Promise.resolve(c.conn) });
  assert.deepEqual(res, { status: 200, headers: { "x-a": "1, 2" }, body: "hello\r\nworld" });
  assert.match(c.sent(), /^GET \/p HTTP\/1\.1\r\nhost: \[::1\]:8080\r\n/);
  const chunked = canned(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    3,
  );
  assert.equal(
    (await httpGet("http://h/", { connect: () => Promise.resolve(chunked.conn) })).body,
    "abcde",
  );
  await assert.rejects(
    httpGet("http://h/", { connect: () => Promise.resolve(canned("SSH-2.0-x\r\n\r\n").conn) }),
    /GET http:\/\/h\/: not an HTTP\/1.x response/,
  );
  await assert.rejects(
    httpGet("http://h/", {
      connect: () =>
        Promise.resolve(canned("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").conn),
    }),
    /closed in the middle of the response/,
  );
});

Deno.test("httpGet() names the URL when the connection fails, and stops on abort", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  await assert.rejects(httpGet(`http://127.0.0.1:${port}/x`), /GET http:\/\/127\.0\.0\.1:\d+\/x: /);

  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = silent.accept();
  try {
    const ac = new AbortController();
    const pending = httpGet(`http://127.0.0.1:${silent.addr.port}/`, { signal: ac.signal });
    const conn = await accepted;
    ac.abort();
    await assert.rejects(pending, /aborted/);
    conn.close();
  } finally {
    silent.close();
  }
});

Deno.test("httpGet() reads an https: URL trusting the given CA, and names a TLS failure", async () => {
  const seen: (string | null)[] = [];
  await using server = serveTestTls((req) => {
    seen.push(req.headers.get("authorization"));
    return Response.json({ tls: true });
  });
  const url = `https://127.0.0.1:${server.addr.port}/x`;
  const res = await httpGet(url, {
    headers: { authorization: "Bearer t" },
    tls: { caCerts: [TEST_CA_PEM] },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { tls: true });
  assert.deepEqual(seen, ["Bearer t"]);

  await assert.rejects(
    httpGet(url, { tls: { caCerts: [TEST_OTHER_CA_PEM] } }),
    /^Error: GET https:\/\/127\.0\.0\.1:\d+\/x: TLS handshake failed: .*check the CA/,
  );
  await assert.rejects(httpGet(url), /TLS handshake failed/);
  assert.equal(seen.length, 1);
});

Deno.test("httpGet() passes the TLS settings to connect for https: only, port 443 by default", async () => {
  const calls: unknown[][] = [];
  const answer = "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
  const connect = (h: string, p: number, tls?: HttpTlsOptions) => {
    calls.push([h, p, tls]);
    return Promise.resolve(canned(answer).conn);
  };
  await httpGet("https://api.example/p", { connect, tls: { caCerts: ["PEM"] } });
  await httpGet("https://[::1]:6443/p", { connect });
  await httpGet("http://api.example/p", { connect, tls: { caCerts: ["PEM"] } });
  assert.deepEqual(calls, [
    ["api.example", 443, { caCerts: ["PEM"] }],
    ["::1", 6443, {}],
    ["api.example", 80, undefined],
  ]);
  await assert.rejects(httpGet("ftp://h/x", { connect }), /only http: and https:/);
});

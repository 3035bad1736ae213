/**
 * `Informer.run(signal)` returns when the signal aborts, in every state, with no timer or
 * stream left behind (the test sanitizers are on).
 *
 * Deno's fetch stops following its signal once the `Request` behind a response has been
 * garbage collected, so each test collects garbage before it aborts: without that, the
 * defect hid behind whether a collection happened to run mid-watch.
 */
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { makeConnection } from "./connection_info.ts";
import { startEmulator } from "./emulator/server.ts";
import { KubeHttp } from "./http.ts";
import { httpListWatcher, Informer } from "./informer.ts";
import { findResource, type KubeObject } from "./resources.ts";

const PODS = findResource("pods")!;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Full collections, with turns of the event loop between them (weak refs clear then). */
async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function until(what: string, fn: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Resolves `p`, or fails when it does not settle within `ms`. The bound is not a timing
 * assertion: every other way for `run()` to end in these tests (a watch's server-side
 * timeout, an idle bound, a backoff) is minutes away.
 */
async function settles<T>(what: string, p: Promise<T>, ms = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not return after abort`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Informer options under which nothing but the abort can end a state quickly. */
const SLOW = { idleTimeoutMs: 600_000, initialBackoffMs: 600_000, maxBackoffMs: 600_000 };

function informerOn(http: KubeHttp, name = "pods"): Informer<KubeObject> {
  return new Informer<KubeObject>(
    httpListWatcher(http, PODS, { idleTimeoutMs: SLOW.idleTimeoutMs }),
    { name, ...SLOW },
  );
}

/**
 * A server that answers nothing (`headers`), or sends the start of a list body and then
 * nothing (`body`), until the client goes away; or answers every request with a 500
 * (`error`).
 */
function stallingServer(mode: "headers" | "body" | "error") {
  const ac = new AbortController();
  let requests = 0;
  let open = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) => {
      requests++;
      if (mode === "error") return new Response('{"kind":"Status","code":500}', { status: 500 });
      open++;
      if (mode === "headers") {
        const gone = Promise.withResolvers<Response>();
        req.signal.addEventListener("abort", () => {
          open--;
          gone.resolve(new Response(null, { status: 499 }));
        }, { once: true });
        return gone.promise;
      }
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"kind":"PodList","items":['));
        },
        cancel() {
          open--;
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    get open() {
      return open;
    },
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("Informer.run() returns at once when the signal is already aborted", async () => {
  await using srv = stallingServer("headers");
  using http = new KubeHttp(makeConnection({ server: srv.url, source: "test" }));
  await informerOn(http).run(AbortSignal.abort());
  assert.equal(srv.requests, 0, "no request was made");
});

for (const mode of ["headers", "body"] as const) {
  Deno.test(`Informer.run() returns when aborted during the list (${mode} pending)`, async () => {
    await using srv = stallingServer(mode);
    using http = new KubeHttp(makeConnection({ server: srv.url, source: "test" }));
    const ac = new AbortController();
    const inf = informerOn(http);
    const running = inf.run(ac.signal);
    await until("the list request", () => srv.requests === 1 && srv.open === 1);
    await collectGarbage();
    ac.abort();
    await settles("run()", running);
    assert.equal(inf.stats.lists, 0);
    assert.equal(inf.stats.failures, 0, "the abort is not counted as a failure");
    await until("the server sees the client go", () => srv.open === 0);
  });
}

Deno.test("Informer.run() of three informers returns when aborted after a watch delivered events", async () => {
  await using emu = await startEmulator({ bookmarkIntervalMs: 600_000 });
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const ac = new AbortController();
  const infs = ["a", "b", "c"].map((n) => informerOn(http, n));
  const runs = infs.map((i) => i.run(ac.signal));
  await Promise.all(infs.map((i) => i.synced));
  await until("three watches", () => emu.watchCount === 3);
  for (let i = 0; i < 20; i++) {
    emu.store.create(PODS, "default", { metadata: { name: `p${i}` }, spec: { containers: [] } });
  }
  for (let i = 0; i < 20; i++) emu.store.delete(PODS, "default", `p${i}`);
  await until(
    "every event delivered",
    () => infs.every((i) => i.stats.resourceVersion === emu.store.resourceVersion),
  );
  await collectGarbage();
  ac.abort();
  await settles("run()", Promise.all(runs));
  await until("the streams closed by the client", () => emu.watchCount === 0);
  assert.deepEqual(infs.map((i) => i.stats.failures), [0, 0, 0]);
});

Deno.test("Informer.run() returns when aborted while its watch is idle", async () => {
  await using emu = await startEmulator({ bookmarkIntervalMs: 600_000 });
  using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const ac = new AbortController();
  const inf = informerOn(http);
  const running = inf.run(ac.signal);
  await inf.synced;
  await until("watching", () => emu.watchCount === 1);
  await collectGarbage();
  ac.abort();
  await settles("run()", running);
  await until("the stream closed by the client", () => emu.watchCount === 0);
  assert.equal(inf.stats.watches, 1);
});

Deno.test("Informer.run() returns when aborted during its backoff", async () => {
  await using srv = stallingServer("error");
  using http = new KubeHttp(makeConnection({ server: srv.url, source: "test" }));
  const ac = new AbortController();
  const inf = informerOn(http);
  const running = inf.run(ac.signal);
  await until("a failed list, then the backoff", () => inf.stats.failures === 1);
  ac.abort();
  await settles("run()", running);
  assert.equal(srv.requests, 1, "no retry was made");
  assert.match(inf.stats.lastError ?? "", /500/);
});

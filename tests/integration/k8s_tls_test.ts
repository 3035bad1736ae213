/**
 * ovn-k8s's Kubernetes client against the API emulator over https with a generated CA:
 * the right CA, a wrong CA, no CA, a wrong token, verification explicitly off, the OVS
 * external_ids CA path, client-node REST calls forced onto HTTP/1.1, and informers that
 * stop on abort over both https transports.
 */
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ProcessRunner } from "../../src/exec/mod.ts";
import { annotatePod } from "../../src/k8s/annotate.ts";
import { createApis } from "../../src/k8s/client.ts";
import { resolveConnection } from "../../src/k8s/connection.ts";
import { type Connection, makeConnection } from "../../src/k8s/connection_info.ts";
import { startEmulator } from "../../src/k8s/emulator/server.ts";
import { ensureEmulatorPki } from "../../src/k8s/emulator/tls.ts";
import { K8sApiError } from "../../src/k8s/errors.ts";
import { KubeHttp } from "../../src/k8s/http.ts";
import { httpListWatcher, Informer } from "../../src/k8s/informer.ts";
import { findResource, type KubeObject } from "../../src/k8s/resources.ts";

const PODS = findResource("pods")!;
const TOKEN = "tls-test-token";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-k8s-tls-" });
  const runner = new ProcessRunner();
  const pki = await ensureEmulatorPki(runner, `${dir}/pki`);
  const other = await ensureEmulatorPki(runner, `${dir}/other`);
  const emu = await startEmulator({
    tls: { cert: pki.certPem, key: pki.keyPem },
    token: TOKEN,
    bookmarkIntervalMs: 300,
  });
  return {
    dir,
    pki,
    other,
    emu,
    conn: (extra: Partial<Parameters<typeof makeConnection>[0]> = {}): Connection =>
      makeConnection({
        server: emu.url,
        token: TOKEN,
        caPem: pki.caPem,
        source: "test flags",
        ...extra,
      }),
    async [Symbol.asyncDispose]() {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * A full garbage collection: Deno's fetch stops following its signal once the Request
 * behind a response is collected, which is what left informers running after abort.
 */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/**
 * Reads one HTTP/1.1 request (headers and a content-length body) whole: closing a
 * connection with request bytes still unread makes the kernel send a reset, and the
 * client may then see ECONNRESET instead of the response (the body may come in a later
 * TLS record than the headers).
 */
async function readRequest(conn: Deno.Conn): Promise<string> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(16_384);
  let text = "";
  for (;;) {
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const len = Number(/^content-length:\s*(\d+)/im.exec(text.slice(0, end))?.[1] ?? 0);
      if (new TextEncoder().encode(text.slice(end + 4)).length >= len) return text;
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error(`the client closed before its request was whole: ${text}`);
    text += dec.decode(buf.subarray(0, n), { stream: true });
  }
}

async function until(what: string, fn: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("KubeHttp verifies the emulator with its CA and explains a wrong or missing CA", async () => {
  await using t = await setup();
  using good = new KubeHttp(t.conn());
  const list = await good.request<{ kind: string }>("GET", "/api/v1/namespaces");
  assert.equal(list.kind, "NamespaceList");

  using wrong = new KubeHttp(t.conn({ caPem: t.other.caPem, source: "OVS external_ids" }));
  const e1 = await wrong.request("GET", "/api/v1/pods").then(
    () => new Error("no error"),
    (e: Error) => e,
  );
  assert.match(
    e1.message,
    /^Cannot GET \/api\/v1\/pods at https:\/\/127\.0\.0\.1:\d+ \(server from OVS external_ids\): .*certificate.*does not verify with the CA given/,
  );
  assert.doesNotMatch(e1.message, new RegExp(TOKEN));

  using none = new KubeHttp(t.conn({ caPem: undefined }));
  const e2 = await none.request("GET", "/api/v1/pods").then(
    () => new Error("no error"),
    (e: Error) => e,
  );
  assert.match(e2.message, /does not verify with the system CA store: give the cluster CA/);

  using badToken = new KubeHttp(t.conn({ token: "nope-wrong" }));
  const e3 = await badToken.request("GET", "/api/v1/pods").catch((e) => e);
  assert.ok(e3 instanceof K8sApiError && e3.code === 401);
  assert.match(e3.message, /check the token from test flags/);
  assert.doesNotMatch(e3.message, /nope-wrong/);
});

Deno.test("KubeHttp with verification explicitly off reaches https and still detects dropped watches", async () => {
  await using t = await setup();
  using http = new KubeHttp(t.conn({ caPem: undefined, insecureSkipTlsVerify: true }));
  const events: string[] = [];
  const ac = new AbortController();
  const inf = new Informer<KubeObject>(httpListWatcher(http, PODS, { idleTimeoutMs: 2000 }), {
    name: "pods",
    handlers: { add: (o) => events.push(`add ${o.metadata.name}`) },
    initialBackoffMs: 50,
    maxBackoffMs: 200,
  });
  const running = inf.run(ac.signal);
  try {
    await inf.synced;
    await until("watch open", () => t.emu.watchCount === 1);
    await t.emu.dropConnections();
    t.emu.store.create(PODS, "default", { metadata: { name: "after-drop" } });
    await until("the pod created after the drop", () => events.includes("add after-drop"));
    assert.deepEqual(events, ["add after-drop"]);
  } finally {
    ac.abort();
    await running;
  }
});

Deno.test("resolveConnection() from OVS external_ids writes the CA and reaches the https emulator", async () => {
  await using t = await setup();
  const caPath = `${t.dir}/k8s-ca.crt`;
  const conn = await resolveConnection({
    ovsExternalIds: {
      "k8s-api-server": t.emu.url,
      "k8s-api-token": TOKEN,
      "k8s-ca-certificate": t.pki.caPem.trim().replaceAll("\n", "\\n"),
    },
    env: () => undefined,
    ovsCaPath: caPath,
  });
  assert.equal(await Deno.readTextFile(caPath), t.pki.caPem.trim() + "\n");
  using http = new KubeHttp(conn);
  assert.equal((await http.request<{ kind: string }>("GET", "/api/v1/pods")).kind, "PodList");
});

Deno.test({
  name: "annotatePod() merge-patches over https; a deleted pod is not an error",
  sanitizeOps: false,
  async fn() {
    await using t = await setup();
    t.emu.store.create(PODS, "default", { metadata: { name: "p" } });
    const apis = createApis(t.conn());
    assert.equal(
      await annotatePod(apis.core, "default", "p", { ovn: '{"ip_address":"10.0.0.3/24"}' }),
      "patched",
    );
    assert.equal(
      t.emu.store.get(PODS, "default", "p").metadata.annotations?.["ovn"],
      '{"ip_address":"10.0.0.3/24"}',
    );
    assert.deepEqual(t.emu.patchContentTypes, ["application/merge-patch+json"]);
    assert.equal(await annotatePod(apis.core, "default", "p", { ovn: null }), "patched");
    assert.equal(t.emu.store.get(PODS, "default", "p").metadata.annotations?.["ovn"], undefined);
    assert.equal(await annotatePod(apis.core, "default", "gone", { ovn: "x" }), "gone");
    const bad = createApis(t.conn({ token: "wrong-tok" }));
    const err = await annotatePod(bad.core, "default", "p", { a: "b" }).catch((e) => e as Error);
    assert.ok(err instanceof K8sApiError && err.code === 401);
    assert.doesNotMatch(err.message, /wrong-tok/);
  },
});

Deno.test({
  name: "client-node REST calls offer only http/1.1 in ALPN (forceHttp1)",
  sanitizeOps: false,
  async fn() {
    await using t = await setup();
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(t.pki.certPath),
      key: await Deno.readTextFile(t.pki.keyPath),
      alpnProtocols: ["h2", "http/1.1"],
    });
    const seen: (string | null)[] = [];
    const serving = (async () => {
      const conn = await listener.accept();
      const hs = await conn.handshake();
      seen.push(hs.alpnProtocol);
      const body = JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        reason: "NotFound",
        code: 404,
      });
      await readRequest(conn);
      await conn.write(new TextEncoder().encode(
        `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      ));
      conn.close();
    })();
    try {
      const apis = createApis(t.conn({ server: `https://127.0.0.1:${listener.addr.port}` }));
      assert.equal(await annotatePod(apis.core, "default", "p", { a: "b" }), "gone");
      await serving;
      assert.deepEqual(seen, ["http/1.1"]);
    } finally {
      listener.close();
    }
  },
});

Deno.test({
  name: "client-node REST calls survive the https emulator shutting down and coming back",
  sanitizeOps: false,
  async fn() {
    await using t = await setup();
    const apis = createApis(t.conn());
    t.emu.store.create(PODS, "default", { metadata: { name: "p" } });
    for (let i = 0; i < 20; i++) {
      assert.equal(await annotatePod(apis.core, "default", "p", { n: String(i) }), "patched");
    }
    // A graceful shutdown: with HTTP/2 this is where GOAWAY crashed the client process.
    await t.emu.dropConnections();
    assert.equal(await annotatePod(apis.core, "default", "p", { n: "after" }), "patched");
    assert.equal(t.emu.store.get(PODS, "default", "p").metadata.annotations?.["n"], "after");
  },
});

for (const verify of [true, false]) {
  Deno.test({
    name: `Informer.run() returns when aborted after its https watch delivered events (${
      verify ? "verified, fetch" : "verification off, node:https"
    })`,
    // node:https keeps agent timers of its own.
    sanitizeOps: verify,
    async fn() {
      await using t = await setup();
      using http = new KubeHttp(
        verify ? t.conn() : t.conn({ caPem: undefined, insecureSkipTlsVerify: true }),
      );
      const ac = new AbortController();
      const infs = ["a", "b", "c"].map((name) =>
        new Informer<KubeObject>(httpListWatcher(http, PODS, { idleTimeoutMs: 600_000 }), {
          name,
          initialBackoffMs: 600_000,
        })
      );
      const runs = infs.map((i) => i.run(ac.signal));
      await Promise.all(infs.map((i) => i.synced));
      await until("three watches", () => t.emu.watchCount === 3);
      for (let i = 0; i < 20; i++) {
        t.emu.store.create(PODS, "default", { metadata: { name: `p${i}` } });
      }
      for (let i = 0; i < 20; i++) t.emu.store.delete(PODS, "default", `p${i}`);
      await until(
        "every event delivered",
        () => infs.every((i) => i.stats.resourceVersion === t.emu.store.resourceVersion),
      );
      collectGarbage();
      await new Promise((r) => setTimeout(r, 0));
      ac.abort();
      // Bookmarks keep these streams busy and the server ends them only after 450 s:
      // nothing but the abort ends run() within the bound.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(runs),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("run() did not return after abort")), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      await until("the streams closed by the client", () => t.emu.watchCount === 0);
      assert.deepEqual(infs.map((i) => i.stats.failures), [0, 0, 0]);
    },
  });
}

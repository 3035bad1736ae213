// deno-lint-ignore-file no-console
/**
 * `deno task bench informer`: the API emulator runs as its own process with N pods
 * (default 10,000, `BENCH_PODS`); this process then measures
 *
 * - list: (b) a bare `fetch` + `JSON.parse` of `/api/v1/pods` (baseline) against an
 *   informer's initial list into its cache, (r) raw JSON, (t) decoded into client-node
 *   `V1Pod` models (the product default);
 * - watch: N more pods are created over HTTP (16 requests in flight) while (b) a bare
 *   fetch watch stream counts the events (baseline) or (t) the typed informer delivers
 *   them; time from the first create to the last event seen;
 * - RSS of this process: after imports, and with the typed informer holding 2N pods.
 *
 * Ratios are against the baselines measured in the same run. `--allow-all`.
 *
 * @module
 */
import { makeConnection } from "../src/k8s/connection_info.ts";
import { KubeHttp } from "../src/k8s/http.ts";
import { createInformer } from "../src/k8s/informers.ts";
import { collectionPath, findResource, type KubeObject } from "../src/k8s/resources.ts";

const N = Number(Deno.env.get("BENCH_PODS") ?? "10000");
const PODS = findResource("pods")!;
const CLI = new URL("../src/k8s/emulator/cli.ts", import.meta.url).pathname;
const mib = (b: number) => (b / 1048576).toFixed(0);

function podBody(i: number, batch: string) {
  return {
    metadata: {
      name: `${batch}-${i}`,
      labels: { app: `app-${i % 50}`, "pod-template-hash": "7d9c8b6f5", batch },
      annotations: {
        ovn: JSON.stringify({
          ip_address: `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/24`,
          mac_address: "0a:58:0a:80:00:05",
          gateway_ip: "10.128.0.1",
        }),
      },
    },
    spec: {
      nodeName: `node-${i % 100}`,
      containers: [{
        name: "app",
        image: "registry.example/app:1.2.3",
        ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
        resources: { requests: { cpu: "100m", memory: "64Mi" } },
      }],
      restartPolicy: "Always",
    },
  };
}

async function createPods(http: KubeHttp, batch: string): Promise<void> {
  let next = 0;
  const path = collectionPath(PODS, "default");
  const worker = async () => {
    while (next < N) {
      const i = next++;
      await http.request("POST", path, { body: podBody(i, batch) });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function until(fn: () => boolean): Promise<void> {
  while (!fn()) await new Promise((r) => setTimeout(r, 2));
}

const rssStart = Deno.memoryUsage().rss;
const port = (() => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
})();
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-all",
    CLI,
    "--listen",
    `127.0.0.1:${port}`,
    "--history-size",
    String(4 * N),
  ],
  stdout: "piped",
  stderr: "null",
}).spawn();
const server = `http://127.0.0.1:${port}`;
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
await reader.read();
reader.releaseLock();
void child.stdout.cancel().catch(() => {});

const http = new KubeHttp(makeConnection({ server, source: "bench" }), {
  requestTimeoutMs: 120_000,
});
try {
  let t = performance.now();
  await createPods(http, "a");
  console.log(`setup: ${N} pods created over HTTP in ${(performance.now() - t).toFixed(0)} ms`);

  // List: baseline, raw informer, typed informer.
  t = performance.now();
  const res = await fetch(`${server}/api/v1/pods`);
  const body = await res.json() as { items: unknown[] };
  const listBase = performance.now() - t;
  if (body.items.length !== N) throw new Error(`baseline listed ${body.items.length}`);

  const listInformer = async (raw: boolean) => {
    const ac = new AbortController();
    const inf = createInformer<KubeObject>(http, PODS, { raw });
    const t0 = performance.now();
    const running = inf.run(ac.signal);
    await inf.synced;
    const ms = performance.now() - t0;
    if (inf.cache.size !== N) throw new Error(`informer cached ${inf.cache.size}`);
    if (inf.cache.byIndex("node", "node-7").length !== N / 100) throw new Error("node index");
    ac.abort();
    await running;
    return ms;
  };
  const listRaw = await listInformer(true);
  const listTyped = await listInformer(false);

  // Watch: baseline stream counter, then the typed informer.
  let seen = 0;
  const rv =
    (body as unknown as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const r = await fetch(`${server}/api/v1/pods?watch=1&resourceVersion=${rv}`);
  const baseStream = (async () => {
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    while (seen < N) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`baseline watch ended after ${seen} events`);
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        seen++;
      }
    }
    await reader.cancel();
  })();
  t = performance.now();
  await createPods(http, "b");
  await baseStream;
  const watchBase = performance.now() - t;

  const ac = new AbortController();
  let added = 0;
  const inf = createInformer<KubeObject>(http, PODS, { handlers: { add: () => added++ } });
  const running = inf.run(ac.signal);
  await inf.synced;
  added = 0;
  t = performance.now();
  await createPods(http, "c");
  await until(() => added >= N);
  const watchTyped = performance.now() - t;
  const rssEnd = Deno.memoryUsage().rss;
  const cached = inf.cache.size;
  ac.abort();
  await running;

  const row = (name: string, ms: number, base: number) =>
    console.log(`${name.padEnd(56)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / base).toFixed(2)}x`);
  console.log(`\ninformer benchmark, N = ${N} pods (${Deno.build.target})`);
  row("list (b) fetch + JSON.parse [baseline]", listBase, listBase);
  row("list (r) informer, raw JSON, into indexed cache", listRaw, listBase);
  row("list (t) informer, typed V1Pod, into indexed cache", listTyped, listBase);
  row(`watch (b) ${N} creates, bare stream counter [baseline]`, watchBase, watchBase);
  row(`watch (t) ${N} creates, typed informer add events`, watchTyped, watchBase);
  console.log(
    `RSS: ${mib(rssStart)} MiB at start, ${
      mib(rssEnd)
    } MiB with the typed informer caching ${cached} pods ` +
      `(+${mib(rssEnd - rssStart)} MiB)`,
  );
} finally {
  http.close();
  child.kill("SIGTERM");
  await child.status;
}

/**
 * The API emulator runs as its own process (src/k8s/emulator/cli.ts) with a state file.
 * An informer watches it; the process is SIGKILLed; changes are made by another
 * emulator process on the same state (as through another API server replica); then the
 * emulator comes back on the first port. The informer notices the death, retries with
 * capped backoff, gets 410 Gone (its version predates the restarted server's history),
 * re-lists, and delivers exactly the changes made while it was away.
 */
import assert from "node:assert/strict";
import { makeConnection } from "../../src/k8s/connection_info.ts";
import { KubeHttp } from "../../src/k8s/http.ts";
import { httpListWatcher, Informer } from "../../src/k8s/informer.ts";
import {
  collectionPath,
  findResource,
  type KubeObject,
  objectPath,
} from "../../src/k8s/resources.ts";
import { freePort } from "../helpers/ovsdb_server.ts";

const PODS = findResource("pods")!;
const CLI = new URL("../../src/k8s/emulator/cli.ts", import.meta.url).pathname;

/**
 * Starts the emulator CLI on `port` (0: a free one it binds) and waits for its URL on
 * stdout.
 */
async function spawnEmulator(port: number, stateFile: string, extra: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      CLI,
      "--listen",
      `127.0.0.1:${port}`,
      "--state-file",
      stateFile,
      ...extra,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error("emulator did not start within 30 s")), 30_000);
  });
  try {
    while (!out.includes("\n")) {
      const r = await Promise.race([reader.read(), timeout]);
      if (r.done) throw new Error(`emulator exited early: ${out}`);
      out += r.value;
    }
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  reader.releaseLock();
  void child.stdout.cancel().catch(() => {});
  const m = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(out.trim());
  assert.ok(m, `emulator printed ${JSON.stringify(out)}, not its URL`);
  if (port !== 0) assert.equal(Number(m[1]), port);
  return { child, port: Number(m[1]) };
}

async function until(what: string, fn: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("Informer survives a SIGKILLed emulator process and re-lists exactly what changed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-k8s-restart-" });
  const state = `${dir}/state.json`;
  const port = freePort();
  const children: Deno.ChildProcess[] = [];
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  try {
    children.push((await spawnEmulator(port, state)).child);
    using http = new KubeHttp(
      makeConnection({ server: `http://127.0.0.1:${port}`, source: "test" }),
    );
    for (const name of ["a", "b", "c"]) {
      await http.request("POST", collectionPath(PODS, "default"), { body: { metadata: { name } } });
    }
    const events: string[] = [];
    const informer = new Informer<KubeObject>(
      httpListWatcher(http, PODS, { idleTimeoutMs: 3000 }),
      {
        name: "pods",
        handlers: {
          add: (o) => events.push(`add ${o.metadata.name}`),
          update: (_, o) => events.push(`update ${o.metadata.name}`),
          delete: (o) => events.push(`delete ${o.metadata.name}`),
        },
        initialBackoffMs: 100,
        maxBackoffMs: 500,
      },
    );
    running = informer.run(ac.signal);
    await informer.synced;
    assert.deepEqual(events.sort(), ["add a", "add b", "add c"]);
    events.length = 0;
    await until("the watch is open", () => informer.stats.watches >= 1);

    const failuresBefore = informer.stats.failures;
    children[0]!.kill("SIGKILL");
    await children[0]!.status;
    await until(
      "the informer notices the dead server",
      () => informer.stats.failures > failuresBefore,
    );

    // Changes through another server process on the same state, on another port.
    const { child: other, port: otherPort } = await spawnEmulator(0, state);
    children.push(other);
    using http2 = new KubeHttp(
      makeConnection({ server: `http://127.0.0.1:${otherPort}`, source: "test" }),
    );
    await http2.request("POST", collectionPath(PODS, "default"), {
      body: { metadata: { name: "d" } },
    });
    for (let i = 0; i < 3; i++) {
      await http2.request("PATCH", objectPath(PODS, "default", "c"), {
        body: { metadata: { labels: { round: String(i) } } },
        contentType: "application/merge-patch+json",
      });
    }
    await http2.request("PATCH", objectPath(PODS, "default", "a"), {
      body: [{ op: "add", path: "/metadata/annotations", value: { x: "1" } }],
      contentType: "application/json-patch+json",
    });
    await http2.request("DELETE", objectPath(PODS, "default", "b"));
    other.kill("SIGTERM");
    await other.status;
    assert.deepEqual(events, [], "nothing was delivered while the server was away");

    const listsBefore = informer.stats.lists;
    children.push((await spawnEmulator(port, state)).child);
    await until("the re-list", () => informer.stats.lists > listsBefore && events.length >= 4);
    assert.deepEqual(events.sort(), ["add d", "delete b", "update a", "update c"]);
    assert.deepEqual(informer.cache.keys().sort(), ["default/a", "default/c", "default/d"]);
    assert.equal(informer.cache.get("default/c")?.metadata.labels?.["round"], "2");
  } finally {
    ac.abort();
    await running;
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Informer notices a frozen emulator process (half-open) within its idle bound", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-k8s-freeze-" });
  // Bookmarks well within the idle bound: a live server's watch does not go quiet.
  const { child, port } = await spawnEmulator(0, `${dir}/state.json`, [
    "--bookmark-interval-ms",
    "300",
  ]);
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  let stopped = false;
  try {
    using http = new KubeHttp(
      makeConnection({ server: `http://127.0.0.1:${port}`, source: "test" }),
    );
    const events: string[] = [];
    const informer = new Informer<KubeObject>(
      httpListWatcher(http, PODS, { idleTimeoutMs: 1500 }),
      {
        name: "pods",
        handlers: { add: (o) => events.push(`add ${o.metadata.name}`) },
        initialBackoffMs: 100,
        maxBackoffMs: 500,
      },
    );
    running = informer.run(ac.signal);
    await informer.synced;
    const failuresBefore = informer.stats.failures;
    child.kill("SIGSTOP");
    stopped = true;
    await until(
      "the idle bound to fire after the freeze",
      () =>
        informer.stats.failures > failuresBefore &&
        /went quiet for 1500 ms/.test(informer.stats.lastError ?? ""),
    );
    child.kill("SIGCONT");
    stopped = false;
    await http.request("POST", collectionPath(PODS, "default"), {
      body: { metadata: { name: "thawed" } },
    });
    await until("the pod created after the thaw", () => events.includes("add thawed"));
    assert.deepEqual(events, ["add thawed"]);
  } finally {
    ac.abort();
    await running;
    if (stopped) child.kill("SIGCONT");
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

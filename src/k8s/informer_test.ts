import assert from "node:assert/strict";
import { startEmulator } from "./emulator/server.ts";
import { byNodeName } from "./cache.ts";
import { makeConnection } from "./connection_info.ts";
import { KubeHttp } from "./http.ts";
import { K8sApiError } from "./errors.ts";
import { httpListWatcher, Informer, type WatchEvent } from "./informer.ts";
import { findResource, type KubeObject } from "./resources.ts";

const PODS = findResource("pods")!;

/** Records informer callbacks as `add ns/name`, `update ns/name`, `delete ns/name`. */
function recorder() {
  const events: string[] = [];
  const k = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  return {
    events,
    handlers: {
      add: (o: KubeObject) => events.push(`add ${k(o)}`),
      update: (_: KubeObject, o: KubeObject) => events.push(`update ${k(o)}`),
      delete: (o: KubeObject) => events.push(`delete ${k(o)}`),
    },
  };
}

async function until(what: string, fn: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pod(name: string, node = "n1"): KubeObject {
  return { metadata: { name, labels: { app: "x" } }, spec: { nodeName: node, containers: [] } };
}

async function setup(opts: { historySize?: number; idleTimeoutMs?: number } = {}) {
  const emu = await startEmulator({
    bookmarkIntervalMs: 200,
    ...(opts.historySize ? { historySize: opts.historySize } : {}),
  });
  const http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
  const rec = recorder();
  const ac = new AbortController();
  const informer = new Informer<KubeObject>(
    httpListWatcher(http, PODS, { idleTimeoutMs: opts.idleTimeoutMs ?? 1500 }),
    {
      name: "pods",
      handlers: rec.handlers,
      indexers: { node: byNodeName },
      initialBackoffMs: 50,
      maxBackoffMs: 200,
    },
  );
  const running = informer.run(ac.signal);
  return {
    emu,
    informer,
    rec,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await running;
      http.close();
      await emu.close();
    },
  };
}

Deno.test("Informer lists, then delivers watch events and indexes pods by node", async () => {
  const { emu, informer, rec, ...rest } = await setup();
  await using _ = rest;
  emu.store.create(PODS, "default", pod("a"));
  await informer.synced;
  await until("add a", () => rec.events.includes("add default/a"));
  emu.store.create(PODS, "default", pod("b", "n2"));
  emu.store.patch(PODS, "default", "a", "application/merge-patch+json", {
    metadata: { annotations: { x: "1" } },
  });
  emu.store.delete(PODS, "default", "b");
  await until("delete b", () => rec.events.includes("delete default/b"));
  assert.deepEqual(rec.events, [
    "add default/a",
    "add default/b",
    "update default/a",
    "delete default/b",
  ]);
  assert.deepEqual(informer.cache.byIndex("node", "n1").map((p) => p.metadata.name), ["a"]);
  assert.deepEqual(informer.cache.byIndex("node", "n2"), []);
});

Deno.test("Informer recovers from dropped connections with exactly the changes made meanwhile", async () => {
  const { emu, informer, rec, ...rest } = await setup();
  await using _ = rest;
  for (const n of ["a", "b", "c"]) emu.store.create(PODS, "default", pod(n));
  await informer.synced;
  await until("watching", () => emu.watchCount === 1);
  rec.events.length = 0;
  await emu.dropConnections();
  emu.store.create(PODS, "default", pod("d"));
  emu.store.patch(PODS, "default", "a", "application/merge-patch+json", {
    metadata: { labels: { v: "2" } },
  });
  emu.store.delete(PODS, "default", "b");
  await until("three changes", () => rec.events.length >= 3);
  await until("watching again", () => emu.watchCount === 1);
  assert.deepEqual(rec.events.sort(), ["add default/d", "delete default/b", "update default/a"]);
  assert.deepEqual(informer.cache.keys().sort(), ["default/a", "default/c", "default/d"]);
});

Deno.test("Informer notices a stalled (half-open) stream within its idle bound", async () => {
  const { emu, informer, rec, ...rest } = await setup({ idleTimeoutMs: 1000 });
  await using _ = rest;
  await informer.synced;
  await until("watching", () => emu.watchCount === 1);
  emu.stallWatches();
  const watchesBefore = informer.stats.watches;
  emu.store.create(PODS, "default", pod("late"));
  await until("add late", () => rec.events.includes("add default/late"));
  assert.ok(informer.stats.watches > watchesBefore, "the informer opened a new watch");
  assert.deepEqual(rec.events, ["add default/late"]);
});

Deno.test("Informer re-lists on 410 Gone and emits only the differences", async () => {
  const { emu, informer, rec, ...rest } = await setup({ historySize: 3 });
  await using _ = rest;
  for (const n of ["a", "b", "c"]) emu.store.create(PODS, "default", pod(n));
  await informer.synced;
  await until("watching", () => emu.watchCount === 1);
  await until("adds", () => rec.events.length === 3);
  rec.events.length = 0;
  emu.stallWatches();
  // Ten changes while the informer is away push its version out of a 3-event history.
  for (let i = 0; i < 4; i++) {
    emu.store.patch(PODS, "default", "a", "application/merge-patch+json", {
      metadata: { labels: { i: String(i) } },
    });
  }
  emu.store.delete(PODS, "default", "b");
  emu.store.create(PODS, "default", pod("d"));
  for (let i = 0; i < 4; i++) emu.store.create(PODS, "default", pod(`e${i}`));
  for (let i = 0; i < 4; i++) emu.store.delete(PODS, "default", `e${i}`);
  const listsBefore = informer.stats.lists;
  await until("re-list", () => informer.stats.lists > listsBefore && rec.events.length >= 3);
  assert.deepEqual(rec.events.sort(), ["add default/d", "delete default/b", "update default/a"]);
});

Deno.test("Informer drops events it already has and survives a throwing handler", async () => {
  const obj = (name: string, rv: string): KubeObject => ({
    metadata: { name, namespace: "ns", resourceVersion: rv },
  });
  let watchCalls = 0;
  const ac = new AbortController();
  const lw = {
    list: () => Promise.resolve({ items: [obj("a", "1")], resourceVersion: "1" }),
    async *watch(_rv: string, signal: AbortSignal) {
      if (watchCalls++ > 0) {
        await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
        return;
      }
      yield { type: "ADDED" as const, object: obj("a", "1") };
      yield { type: "MODIFIED" as const, object: obj("a", "2") };
      yield { type: "MODIFIED" as const, object: obj("a", "2") };
      yield { type: "ADDED" as const, object: obj("b", "3") };
      yield {
        type: "BOOKMARK" as const,
        object: { metadata: { resourceVersion: "9" } } as KubeObject,
      };
    },
  };
  const rec = recorder();
  const informer = new Informer<KubeObject>(lw, {
    name: "fake",
    handlers: {
      ...rec.handlers,
      add: (o) => {
        rec.handlers.add(o);
        throw new Error("handler bug");
      },
    },
  });
  const running = informer.run(ac.signal);
  await until("b", () => rec.events.includes("add ns/b"));
  await until("second watch", () => watchCalls === 2);
  assert.deepEqual(rec.events, ["add ns/a", "update ns/a", "add ns/b"]);
  assert.equal(informer.stats.resourceVersion, "9", "bookmarks move the resourceVersion");
  ac.abort();
  await running;
});

Deno.test("Informer re-lists after a watch refused with another API error", async () => {
  let lists = 0;
  let watches = 0;
  const ac = new AbortController();
  const lw = {
    list: () => {
      lists++;
      const items = lists === 1
        ? []
        : [{ metadata: { name: "x", namespace: "ns", resourceVersion: "5" } }];
      return Promise.resolve({ items, resourceVersion: String(lists) });
    },
    async *watch(_rv: string, signal: AbortSignal): AsyncGenerator<WatchEvent<KubeObject>> {
      if (watches++ > 1) yield { type: "BOOKMARK", object: { metadata: { resourceVersion: "7" } } };
      if (watches === 1) {
        throw new K8sApiError(504, "Timeout", "Watch: too large resource version");
      }
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    },
  };
  const rec = recorder();
  const informer = new Informer<KubeObject>(lw, {
    name: "fake",
    handlers: rec.handlers,
    initialBackoffMs: 10,
  });
  const running = informer.run(ac.signal);
  await until("re-list", () => rec.events.length === 1);
  assert.deepEqual(rec.events, ["add ns/x"]);
  assert.equal(lists, 2);
  assert.match(informer.stats.lastError ?? "", /too large resource version/);
  ac.abort();
  await running;
});

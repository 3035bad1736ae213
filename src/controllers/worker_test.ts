import assert from "node:assert/strict";
import { silentLogger } from "../log/mod.ts";
import { MetricsRegistry } from "./metrics.ts";
import { FatalError, runWorker } from "./worker.ts";
import { WorkQueue } from "./work_queue.ts";

async function until(fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(fn(), "condition not reached");
}

Deno.test("runWorker() reconciles batches, retries failed keys, survives a throwing batch", async () => {
  const queue = new WorkQueue<string>({ name: "t", baseDelayMs: 1 });
  const ac = new AbortController();
  const seen: string[][] = [];
  let calls = 0;
  let badFailures = 0;
  const done = runWorker({
    queue,
    batchSize: 10,
    log: silentLogger,
    metrics: new MetricsRegistry(),
    signal: ac.signal,
    reconcile: (keys) => {
      calls++;
      seen.push([...keys]);
      if (calls === 1) return Promise.reject(new Error("NB went away")); // whole batch retried
      if (keys.includes("bad") && badFailures < 2) {
        badFailures++;
        return Promise.resolve(new Map([["bad", "no"]]));
      }
      return Promise.resolve(new Map());
    },
  });
  for (const k of ["a", "b", "bad"]) queue.add(k);
  await until(() =>
    queue.idle && badFailures === 2 && seen.flat().filter((k) => k === "bad").length === 4
  );
  assert.deepEqual(seen[0], ["a", "b", "bad"]);
  assert.ok(seen.slice(1).flat().includes("a"), "a retried after the thrown batch");
  assert.equal(queue.failures("bad"), 0);
  ac.abort();
  queue.shutdown();
  await done;
});

Deno.test("runWorker() rejects on a FatalError (the watcher exits non-zero)", async () => {
  const queue = new WorkQueue<string>({ name: "t" });
  queue.add("k");
  await assert.rejects(
    runWorker({
      queue,
      workers: 2,
      log: silentLogger,
      signal: new AbortController().signal,
      reconcile: () => Promise.reject(new FatalError("NB schema too old")),
    }),
    FatalError,
  );
  queue.shutdown();
});

Deno.test("runWorker() with 2 workers never hands one key to both at once", async () => {
  const queue = new WorkQueue<string>({ name: "t" });
  const ac = new AbortController();
  const busy = new Set<string>();
  let overlap = false;
  let handled = 0;
  const done = runWorker({
    queue,
    workers: 2,
    batchSize: 1,
    log: silentLogger,
    signal: ac.signal,
    reconcile: async (keys) => {
      for (const k of keys) {
        if (busy.has(k)) overlap = true;
        busy.add(k);
      }
      await new Promise((r) => setTimeout(r, 2));
      for (const k of keys) busy.delete(k);
      handled += keys.length;
      return new Map();
    },
  });
  for (let i = 0; i < 50; i++) queue.add(i % 2 ? "x" : "y");
  await until(() => queue.idle && handled >= 2);
  assert.equal(overlap, false);
  ac.abort();
  queue.shutdown();
  await done;
});
